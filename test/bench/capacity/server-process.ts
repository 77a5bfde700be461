/**
 * The server under test as its own process (`node build/server/index.js`, as `npm start` runs it), so its
 * CPU and memory are measured apart from the load generator's; and `/proc` readings of any process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = new URL('../../../', import.meta.url).pathname;

/** A free TCP port on loopback (the server binds it a moment later). */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const s = createServer();
		s.once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const address = s.address();
			const port = typeof address === 'object' && address ? address.port : 0;
			s.close(() => resolve(port));
		});
	});
}

export interface ServerProcess {
	url: string;
	port: number;
	pid: number;
	child: ChildProcess;
	/** When the process was spawned (epoch ms). */
	startedAt: number;
	/** The last lines the server wrote (for a failure's message). */
	output(): string;
	/** SIGTERM, then waits for the exit (the server writes its checkpoints and closes the store). */
	stop(): Promise<number | null>;
}

/** Starts the built server on `dataDir` and resolves once `/api/health` answers. */
export async function startServer({
	dataDir,
	env = {},
	readyTimeoutMs = 600_000,
	nodeArgs = [],
	onLine
}: {
	dataDir: string;
	env?: Record<string, string | undefined>;
	readyTimeoutMs?: number;
	/** Options for node itself (e.g. `--cpu-prof`). */
	nodeArgs?: string[];
	/** Told every line the server writes, from its first (what it did at start may have scrolled out of `output`). */
	onLine?: (line: string) => void;
}): Promise<ServerProcess> {
	const port = await freePort();
	const startedAt = Date.now();
	const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'build/server/index.js')], {
		cwd: ROOT,
		env: {
			PATH: process.env.PATH,
			HOME: process.env.HOME,
			DATA_DIR: dataDir,
			PORT: String(port),
			HOST: '127.0.0.1',
			TELEPHONY: 'off',
			...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined))
		} as NodeJS.ProcessEnv,
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let tail: string[] = [];
	const keep = (chunk: Buffer) => {
		tail = tail.concat(chunk.toString('utf8').split('\n')).slice(-60);
	};
	child.stdout!.on('data', keep);
	child.stderr!.on('data', keep);
	if (onLine) {
		for (const stream of [child.stdout!, child.stderr!]) {
			createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
		}
	}
	const exited = new Promise<number | null>((resolve) =>
		child.once('exit', (code) => resolve(code))
	);
	const url = `http://127.0.0.1:${port}`;
	const deadline = Date.now() + readyTimeoutMs;
	let gone = false;
	void exited.then(() => (gone = true));
	for (;;) {
		if (gone) throw new Error(`the server exited while starting:\n${tail.join('\n')}`);
		const ok = await fetch(`${url}/api/health`)
			.then((r) => r.ok)
			.catch(() => false);
		if (ok) break;
		if (Date.now() > deadline) {
			child.kill('SIGKILL');
			throw new Error(`the server did not answer within ${readyTimeoutMs} ms:\n${tail.join('\n')}`);
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	return {
		url,
		port,
		pid: child.pid!,
		child,
		startedAt,
		output: () => tail.join('\n'),
		async stop() {
			if (gone) return exited;
			child.kill('SIGTERM');
			const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
			const code = await exited;
			clearTimeout(timer);
			return code;
		}
	};
}

const TICKS = 100; // USER_HZ: the unit of /proc/<pid>/stat's times on Linux

/** CPU seconds used so far (user + system) and resident memory of a process; null once it is gone. */
export function readProc(pid: number): { cpuSeconds: number; rssBytes: number } | null {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		// The command name may hold spaces: the fields after it start past the last ')'.
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS;
		const status = readFileSync(`/proc/${pid}/status`, 'utf8');
		const rss = /VmRSS:\s+(\d+) kB/.exec(status);
		return { cpuSeconds, rssBytes: rss ? Number(rss[1]) * 1024 : 0 };
	} catch {
		return null;
	}
}

/** Samples processes every second: CPU as % of one core over each second, and RSS. */
export function startSampler(pids: () => Record<string, number>) {
	const last = new Map<string, { at: number; cpu: number }>();
	let samples: { at: number; cpu: Record<string, number>; rss: Record<string, number> }[] = [];
	const timer = setInterval(() => {
		const now = performance.now();
		const cpu: Record<string, number> = {};
		const rss: Record<string, number> = {};
		for (const [name, pid] of Object.entries(pids())) {
			const p = readProc(pid);
			if (!p) continue;
			const before = last.get(name);
			last.set(name, { at: now, cpu: p.cpuSeconds });
			rss[name] = p.rssBytes;
			if (before) cpu[name] = ((p.cpuSeconds - before.cpu) / ((now - before.at) / 1000)) * 100;
		}
		samples.push({ at: Date.now(), cpu, rss });
	}, 1000);
	timer.unref();
	return {
		/** The samples taken since the last call, and forget them. */
		take() {
			const out = samples;
			samples = [];
			return out;
		},
		stop: () => clearInterval(timer)
	};
}
