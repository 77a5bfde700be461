/**
 * An import's writer into the subscriber search index, in a thread of its own (`customer-index-worker.ts`).
 * At a million subscribers the index's inserts were 56 % of the server's thread during an import (issue
 * #15's profile); here they run on the other core while the server parses the next rows and the store
 * writes them. At most `inFlight` batches wait for the thread, so a slow disk slows the import instead of
 * filling memory.
 */
import { Worker } from 'node:worker_threads';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Customer } from '#shared/customers/customer';
import type { FromWriter, ToWriter } from './customer-index-worker';

/** The sources' thread script, bundled once per process (tests and `npm run dev:api` run the TypeScript). */
let fromSources: URL | null = null;

/**
 * The thread's script: beside the bundle in `build/server/` (`npm run build`), or else bundled from the
 * TypeScript source with esbuild as the build does (a worker thread cannot load TypeScript on Node 20).
 */
async function workerScript(): Promise<URL> {
	const built = new URL('./customer-index-worker.js', import.meta.url);
	if (existsSync(fileURLToPath(built))) return built;
	if (fromSources) return fromSources;
	const { build } = await import('esbuild');
	const root = fileURLToPath(new URL('../../', import.meta.url));
	// Inside node_modules, so the bundle's own imports (better-sqlite3) resolve as the server's do.
	const out = join(root, 'node_modules', '.cache', 'guangdian', 'customer-index-worker.mjs');
	const { outputFiles } = await build({
		entryPoints: [fileURLToPath(new URL('./customer-index-worker.ts', import.meta.url))],
		outfile: out,
		write: false,
		bundle: true,
		platform: 'node',
		format: 'esm',
		packages: 'external',
		alias: { '#shared': join(root, 'src/lib/shared') },
		logLevel: 'warning'
	});
	// Written aside and renamed: test processes running side by side each write the same text.
	mkdirSync(dirname(out), { recursive: true });
	writeFileSync(`${out}.${process.pid}`, outputFiles[0]!.contents);
	renameSync(`${out}.${process.pid}`, out);
	return (fromSources = pathToFileURL(out));
}

export interface IndexWriter {
	/** Queues a batch; resolves once there is room for the next one. */
	write(docs: Customer[]): Promise<void>;
	/**
	 * Waits for every queued batch, then closes the thread. Resolves to whether all were indexed (on a
	 * failure the feed's follower indexes them instead).
	 */
	finish(): Promise<boolean>;
}

export async function startIndexWriter(file: string, inFlight = 4): Promise<IndexWriter> {
	const worker = new Worker(await workerScript(), {
		workerData: { file },
		name: 'customer-index-writer'
	});
	let queued = 0;
	let failed: string | null = null;
	/** Woken when a batch is done (or the thread failed). */
	let waiting: (() => void)[] = [];
	const wakeAll = () => {
		const woken = waiting;
		waiting = [];
		for (const wake of woken) wake();
	};
	let done = false;
	/** Resolves when the thread closed the index, or stopped. */
	const closed = new Promise<void>((resolve) => {
		const fail = (reason: string) => {
			if (!done) failed ??= reason;
			wakeAll();
			resolve();
		};
		worker.on('message', (message: FromWriter) => {
			if ('indexed' in message) queued--;
			else if ('error' in message) failed ??= message.error;
			else {
				done = true;
				resolve();
			}
			wakeAll();
		});
		worker.on('error', (err) => fail(err.message));
		worker.on('exit', () => fail('the index writer stopped'));
	});
	const post = (message: ToWriter) => worker.postMessage(message);
	const settled = () => new Promise<void>((resolve) => waiting.push(resolve));

	return {
		async write(docs) {
			if (failed || docs.length === 0) return;
			queued++;
			post({ docs });
			while (queued >= inFlight && !failed) await settled();
		},
		async finish() {
			while (queued > 0 && !failed) await settled();
			if (!failed) {
				post({ close: true });
				await closed;
			}
			const ok = failed === null;
			await worker.terminate();
			return ok;
		}
	};
}
