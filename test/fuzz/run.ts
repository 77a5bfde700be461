/**
 * `npm run fuzz`: the whole fuzz run (issue #13) against a fresh test server — FUZZ_RUNS inputs per route
 * (default 10,000), FUZZ_SEED to repeat a run. Prints one line per route and a summary; exits 1 on any
 * failure.
 */
import { startTestServer } from '../helpers/server';
import { FUZZ_ENV, fuzzServer } from './api-fuzz';

const runs = Number(process.env.FUZZ_RUNS ?? 10_000);
const seed = Number(process.env.FUZZ_SEED ?? 20261130);
const server = await startTestServer(FUZZ_ENV);
console.log(`fuzzing ${server.url} with ${runs} inputs per route, seed ${seed}`);
try {
	const report = await fuzzServer({ server, runs, seed, log: (line) => console.log(line) });
	console.log(
		`\n${report.routes.length} routes, ${report.requests} requests in ${(report.ms / 1000).toFixed(0)} s` +
			` (${((report.requests / report.ms) * 1000).toFixed(0)}/s); ${report.failures.length} failures,` +
			` ${report.unhandled} unhandled rejections; process alive`
	);
	for (const f of report.failures) console.log(`FAIL ${f}`);
	process.exitCode = report.failures.length > 0 || report.unhandled > 0 ? 1 : 0;
} finally {
	await server.close();
}
