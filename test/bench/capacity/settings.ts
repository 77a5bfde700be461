/**
 * The capacity benchmark's settings (issue #15), all from the environment, with the sizes as
 * defaults; and the small helpers every part of it shares (percentiles, the shape of a fixture's manifest).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

const int = (name: string, fallback: number, min = 0) => {
	const raw = process.env[name];
	const n = raw === undefined || raw === '' ? fallback : Number(raw);
	if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}`);
	return Math.floor(n);
};
const num = (name: string, fallback: number) => {
	const raw = process.env[name];
	const n = raw === undefined || raw === '' ? fallback : Number(raw);
	if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
	return n;
};

/** What the fixture holds: part of its cache key. */
export interface FixtureSizes {
	tickets: number;
	days: number;
	subscribers: number;
	/** Agents the steps may use, and a few more for the fresh devices of the first-sync measurement. */
	agents: number;
	spareAgents: number;
	departments: number;
	usersPerDepartment: number;
	crews: number;
	membersPerCrew: number;
	seed: number;
}

export function fixtureSizes(): FixtureSizes {
	return {
		tickets: int('BENCH_TICKETS', 270_000),
		days: int('BENCH_DAYS', 90, 1),
		subscribers: int('BENCH_SUBSCRIBERS', 1_000_000, 1),
		agents: int('BENCH_AGENTS', 300, 1),
		spareAgents: 8,
		departments: 8,
		usersPerDepartment: 2,
		crews: 10,
		membersPerCrew: 2,
		seed: int('BENCH_SEED', 15)
	};
}

export type Mode = 'pouchdb' | 'filtered';
/** Where a device keeps its replication checkpoints (today's browsers: on the device). */
export type Checkpoints = 'device' | 'server';

export interface BenchSettings {
	sizes: FixtureSizes;
	cacheRoot: string;
	steps: number[];
	callSeconds: number;
	stepSeconds: number;
	drainSeconds: number;
	workers: number;
	/**
	 * How a device answers the documents it pulled: today's browsers hold them back (`filtered`,
	 * `src/lib/replication/push-filter.ts`); the browsers before pushed them back (`pouchdb`).
	 */
	mode: Mode;
	/** `server`: the browsers before #15's device checkpoints (a read and a write of `_local` per batch). */
	checkpoints: Checkpoints;
	transferShare: number;
	/**
	 * A fresh agent device's first sync, once per step (0: off), given up after this many seconds (default:
	 * the step's window and drain, so that it loads the server while the step is measured, and no longer).
	 */
	firstSyncSeconds: number;
	/** Passed to the server when set (the lead's one-feed fan-out switch); unset by default. */
	syncFanout: string | undefined;
	cacheMaxAgeDays: number;
	/** Options for the server's node (BENCH_NODE_ARGS, space-separated; e.g. a V8 heap setting to compare). */
	nodeArgs: string[];
	/**
	 * Hotline calls through Kamailio and the ACD to the agents (sipp as the carrier and as their phones):
	 * `auto` (default) when Kamailio, Janus and sipp are installed, `on`, `off` (BENCH_TELEPHONY).
	 */
	telephony: 'auto' | 'on' | 'off';
	/** Hotline calls per second during each step's window (BENCH_HOTLINE_RATE, default 10). */
	hotlineRate: number;
	/** How long each hotline call talks before the caller hangs up (BENCH_HOTLINE_TALK_MS, default 3,000). */
	hotlineTalkMs: number;
}

export function benchSettings(): BenchSettings {
	const sizes = fixtureSizes();
	const steps = (process.env.BENCH_STEPS ?? '50,100,200,300')
		.split(',')
		.map((s) => Number(s.trim()))
		.filter((n) => Number.isInteger(n) && n > 0)
		.map((n) => Math.min(n, sizes.agents));
	if (steps.length === 0) {
		throw new Error('BENCH_STEPS: a list of agent counts, e.g. 50,100,200,300');
	}
	const mode = process.env.BENCH_MODE ?? 'filtered';
	if (mode !== 'pouchdb' && mode !== 'filtered') throw new Error('BENCH_MODE: pouchdb or filtered');
	const checkpoints = process.env.BENCH_CHECKPOINTS ?? 'device';
	if (checkpoints !== 'device' && checkpoints !== 'server') {
		throw new Error('BENCH_CHECKPOINTS: device or server');
	}
	const stepSeconds = num('BENCH_STEP_SECONDS', 60);
	const drainSeconds = num('BENCH_DRAIN_SECONDS', 10);
	return {
		sizes,
		cacheRoot: process.env.BENCH_CACHE ?? join(homedir(), '.cache', 'guangdian-bench'),
		steps: [...new Set(steps)].sort((a, b) => a - b),
		callSeconds: num('BENCH_CALL_SECONDS', 30),
		stepSeconds,
		drainSeconds,
		workers: int('BENCH_WORKERS', 2, 1),
		mode,
		checkpoints,
		transferShare: num('BENCH_TRANSFER_SHARE', 0.3),
		firstSyncSeconds: int('BENCH_FIRST_SYNC_SECONDS', stepSeconds + drainSeconds),
		syncFanout: process.env.SYNC_FANOUT || undefined,
		cacheMaxAgeDays: num('BENCH_CACHE_MAX_AGE_DAYS', 7),
		nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
		telephony: telephonyMode(process.env.BENCH_TELEPHONY ?? 'auto'),
		hotlineRate: num('BENCH_HOTLINE_RATE', 10),
		hotlineTalkMs: int('BENCH_HOTLINE_TALK_MS', 3_000, 0)
	};
}

/** One user of the fixture, and what its device sees. */
export interface BenchUser {
	username: string;
	id: string;
	kind: 'agent' | 'spare' | 'department' | 'crew';
	departmentId: string;
	crewIds: string[];
}

/** What a built fixture holds, written beside its data folder (`manifest.json`). */
export interface Manifest {
	sizes: FixtureSizes;
	/** When the tickets were generated: the 90-day window ends here. */
	builtAt: string;
	buildSeconds: number;
	adminPassword: string;
	departments: string[];
	crews: { id: string; departmentId: string; memberIds: string[] }[];
	users: BenchUser[];
	/** `phone<TAB>customer id` per subscriber, one a line (the callers of the simulated calls). */
	phonesFile: string;
	counts: { tickets: number; transferred: number; open: number; customers: number };
}

export const CENTER = 'department:center';

/** The q-quantile of numbers (nearest rank); NaN for none. */
export function quantile(values: readonly number[], q: number): number {
	if (values.length === 0) return NaN;
	const sorted = Float64Array.from(values).sort();
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const mean = (values: readonly number[]) =>
	values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;

/** Milliseconds as people read them: `87 ms`, `1.4 s`; `∞` for what never came, `—` for none. */
export function ms(n: number): string {
	if (n === Infinity) return '∞';
	if (!Number.isFinite(n)) return '—';
	if (n < 1000) return `${Math.round(n)} ms`;
	return `${(n / 1000).toFixed(n < 10_000 ? 2 : 1)} s`;
}

function telephonyMode(value: string): BenchSettings['telephony'] {
	if (value !== 'auto' && value !== 'on' && value !== 'off') {
		throw new Error('BENCH_TELEPHONY: auto, on or off');
	}
	return value;
}
