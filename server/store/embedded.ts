/**
 * The embedded CouchDB-compatible store: express-pouchdb over pouchdb-node (LevelDB) under the data folder,
 * served on a loopback port behind an HTTP Basic gate with a generated admin secret, in its own worker
 * thread (`embedded-worker.mjs`). The rest of the server talks to it exactly as to Apache CouchDB, through
 * `nano` and the same URL shape — nothing may use its internals. Only the worker imports express-pouchdb.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface EmbeddedStore {
	/** Base URL with admin credentials, e.g. `http://admin:secret@127.0.0.1:41234`. */
	url: string;
	/** How many requests that write have succeeded so far (diagnostics; the fuzz tests' witness). */
	writes(): number;
	close(): Promise<void>;
}

type FromWorker = { port: number } | { error: string } | { closed: true };

/** The worker's file: beside this module in the sources, beside the bundle in `build/server/`. */
function workerFile(): URL {
	const url = new URL('./embedded-worker.mjs', import.meta.url);
	if (!existsSync(fileURLToPath(url))) {
		throw new Error(`embedded store: ${fileURLToPath(url)} is missing (run npm run build)`);
	}
	return url;
}

/**
 * Starts the embedded store on 127.0.0.1 (ephemeral port unless given) with data under `dir`. If its
 * thread dies the process exits: the server cannot serve without its store, and the supervisor (or the
 * operator) starts it again on the same data.
 */
export async function startEmbeddedStore({
	dir,
	secret,
	port = 0
}: {
	dir: string;
	secret: string;
	port?: number;
}): Promise<EmbeddedStore> {
	const writes = new Int32Array(new SharedArrayBuffer(4));
	const worker = new Worker(workerFile(), {
		workerData: { dir, secret, port, writes: writes.buffer },
		name: 'embedded-store'
	});
	let closing = false;
	const listening = await new Promise<number>((resolve, reject) => {
		const onMessage = (message: FromWorker) => {
			worker.off('error', reject);
			worker.off('message', onMessage);
			if ('port' in message) resolve(message.port);
			else reject(new Error(`embedded store: ${'error' in message ? message.error : 'closed'}`));
		};
		worker.on('message', onMessage);
		worker.once('error', reject);
	}).catch(async (error: unknown) => {
		await worker.terminate();
		throw error;
	});
	const died = (reason: string) => {
		if (closing) return;
		console.error(
			`embedded store: its thread stopped (${reason}); the server cannot go on without it`
		);
		process.exit(1);
	};
	worker.on('error', (error) => died(error.stack ?? String(error)));
	worker.on('exit', (code) => died(`exit code ${code}`));
	return {
		url: `http://admin:${encodeURIComponent(secret)}@127.0.0.1:${listening}`,
		writes: () => Atomics.load(writes, 0),
		close: async () => {
			if (closing) return;
			closing = true;
			await new Promise<void>((resolve) => {
				worker.on('message', (message: FromWorker) => {
					if ('closed' in message) resolve();
				});
				worker.once('exit', () => resolve());
				worker.postMessage('close');
			});
			await worker.terminate();
		}
	};
}
