/**
 * #6: the randomized three-device offline-merge scenario of the F28 test (`test/helpers/offline-merge.ts`)
 * many times with a fixed seed: one ticket on three devices edited offline, synced through `/sync` in a
 * random order, merged by the server's resolver, checked everywhere. Prints runs, events, failures and the
 * time per run. BENCH_MERGE_RUNS (default 100) and BENCH_MERGE_SEED (default 20261127) change it.
 */
import { startTestServer } from '../helpers/server';
import { createMergeUsers, runOfflineMerge, type MergeRunResult } from '../helpers/offline-merge';

const RUNS = Number(process.env.BENCH_MERGE_RUNS ?? 100);
const SEED = Number(process.env.BENCH_MERGE_SEED ?? 20261127);
const p = (values: number[], q: number) =>
	[...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;

const server = await startTestServer();
try {
	const users = await createMergeUsers(server, 'bench');
	const results: MergeRunResult[] = [];
	const started = performance.now();
	for (let run = 0; run < RUNS; run++) {
		const result = await runOfflineMerge({ server, users, seed: SEED + run });
		results.push(result);
		if (result.problems.length > 0) {
			console.log(`FAILED seed ${result.seed}: ${result.problems.join('; ')}`);
		}
	}
	const total = performance.now() - started;
	const times = results.map((r) => r.ms);
	const failed = results.filter((r) => r.problems.length > 0).length;
	const sum = (f: (r: MergeRunResult) => number) => results.reduce((n, r) => n + f(r), 0);
	console.log(
		[
			`offline merge, 3 devices, seeds ${SEED}…${SEED + RUNS - 1}`,
			`  runs        ${RUNS}`,
			`  events      ${sum((r) => r.events)} (${(sum((r) => r.events) / RUNS).toFixed(1)} per ticket)`,
			`  replications ${sum((r) => r.replications)}`,
			`  runs with conflicts on the server after the last sync  ${results.filter((r) => r.conflicts > 0).length} (${sum((r) => r.conflicts)} revisions)`,
			`  failures    ${failed}`,
			`  time/run    mean ${(total / RUNS).toFixed(0)} ms, p50 ${p(times, 0.5).toFixed(0)} ms, p95 ${p(times, 0.95).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`,
			`  total       ${(total / 1000).toFixed(1)} s`
		].join('\n')
	);
	process.exitCode = failed > 0 ? 1 : 0;
} finally {
	await server.close();
}
