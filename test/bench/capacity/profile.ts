/**
 * Where the server's CPU went during each step of the capacity benchmark (`BENCH_CPU_PROFILE=1`): the
 * server runs with V8's `--cpu-prof`, and its profile is read here per step window — self time by source
 * file (through the build's source map: `build/server/index.js.map`) and by function, with the idle, GC
 * and program shares as V8 names them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface CpuProfile {
	nodes: ProfileNode[];
	startTime: number;
	endTime: number;
	samples: number[];
	timeDeltas: number[];
}

export interface Window {
	label: string;
	/** Epoch ms. */
	from: number;
	to: number;
}

export interface WindowProfile {
	label: string;
	/** Milliseconds sampled in the window. */
	sampledMs: number;
	/** Share of the window per V8 bucket and per source file, highest first. */
	byFile: [string, number][];
	byFunction: [string, number][];
}

/**
 * The `.cpuprofile` files the server wrote into `dir`, one per thread (V8 names them
 * `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`): the main thread first, then the embedded
 * store's worker thread.
 */
export function findProfiles(dir: string): { file: string; thread: number }[] {
	return readdirSync(dir)
		.filter((f) => f.endsWith('.cpuprofile'))
		.map((f) => ({ file: join(dir, f), thread: Number(f.split('.')[4] ?? 0) }))
		.sort((a, b) => a.thread - b.thread);
}

/** When the profile in `file` started, on V8's clock (µs); the origin for the other threads' windows. */
export function profileStart(file: string): number {
	return (JSON.parse(readFileSync(file, 'utf8')) as CpuProfile).startTime;
}

/**
 * Self time per window. `startedAt`: epoch ms when the server process was spawned (the profile's clock
 * starts with the process, so the windows are placed from it; off by the process's start-up, ~0.1 s).
 * `origin`: the main thread's profile start, for a worker thread's profile (same clock, later start).
 */
export function profileWindows(
	file: string,
	startedAt: number,
	windows: Window[],
	buildDir: string,
	origin?: number
): WindowProfile[] {
	const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
	const map = readSourceMap(join(buildDir, 'index.js.map'));
	const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
	const fileOf = new Map<number, string>();
	const nameOf = new Map<number, string>();
	for (const n of profile.nodes) {
		const { functionName, url, lineNumber, columnNumber } = n.callFrame;
		let where = url;
		if (url.endsWith('/build/server/index.js') && map) {
			const entry = map.findEntry(lineNumber, columnNumber) as {
				originalSource?: string;
				originalLine?: number;
			};
			if (entry.originalSource) {
				where = entry.originalSource.replace(/^.*?\/(server|src|sync)\//, '$1/');
			}
		} else if (url.includes('/node_modules/')) {
			const [scope, name] = url.split('/node_modules/').at(-1)!.split('/');
			where = 'node_modules/' + (scope!.startsWith('@') ? `${scope}/${name}` : scope);
		} else if (url.startsWith('node:')) {
			where = url.split('/').slice(0, 2).join('/');
		} else if (url === '') {
			where = functionName.startsWith('(') ? functionName : '(native)';
		}
		fileOf.set(n.id, where);
		const name = functionName || '(anonymous)';
		nameOf.set(n.id, name === where ? name : `${name} ${where}`);
	}
	// Sample i is taken at startTime + Σ deltas[0..i]; its self time runs to the next sample.
	const times: number[] = [];
	let t = profile.startTime;
	for (const d of profile.timeDeltas) times.push((t += d));
	return windows.map((w) => {
		const from = (w.from - startedAt) * 1000 + (origin ?? profile.startTime);
		const to = (w.to - startedAt) * 1000 + (origin ?? profile.startTime);
		const files = new Map<string, number>();
		const fns = new Map<string, number>();
		let total = 0;
		for (let i = 0; i < profile.samples.length - 1; i++) {
			if (times[i]! < from || times[i]! >= to) continue;
			const self = times[i + 1]! - times[i]!;
			const id = profile.samples[i]!;
			if (!nodes.has(id)) continue;
			total += self;
			files.set(fileOf.get(id)!, (files.get(fileOf.get(id)!) ?? 0) + self);
			fns.set(nameOf.get(id)!, (fns.get(nameOf.get(id)!) ?? 0) + self);
		}
		const shares = (m: Map<string, number>) =>
			[...m]
				.map(([k, v]) => [k, total > 0 ? v / total : 0] as [string, number])
				.sort((a, b) => b[1] - a[1]);
		return {
			label: w.label,
			sampledMs: total / 1000,
			byFile: shares(files),
			byFunction: shares(fns)
		};
	});
}

function readSourceMap(path: string): SourceMap | null {
	try {
		return new SourceMap(JSON.parse(readFileSync(path, 'utf8')) as never);
	} catch {
		return null;
	}
}

/** The window's figures as lines for the log: the top files and functions by self time. */
export function formatWindow(p: WindowProfile, top = 15): string[] {
	const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
	return [
		`CPU profile, ${p.label}: ${(p.sampledMs / 1000).toFixed(1)} s sampled`,
		'  by source (self time):',
		...p.byFile.slice(0, top).map(([k, v]) => `    ${pct(v).padStart(7)}  ${k}`),
		'  by function (self time):',
		...p.byFunction.slice(0, top).map(([k, v]) => `    ${pct(v).padStart(7)}  ${k}`)
	];
}
