/**
 * #16 `npm run bench:call-failover`: calls across a failover of the app server routing them. Two app servers
 * share one Kamailio and Janus (TELEPHONY=shared, `test/helpers/shared-telephony.ts`) on the CouchDB of
 * COUCHDB_URL behind haproxy; six agents 就绪 on one sipp phone answering at once. Each round the carrier
 * calls at BENCH_RATE a second (default 2) for 20 s, and a quarter of the way in the lease holder is killed with SIGKILL;
 * measured: kill → the lease taken over (the lease document names the survivor), kill → the next call
 * offered (its screen pop at an agent's page), and the round's calls answered, given the fallback, failed.
 * The killed server is started again before the next round. Prints p50/p95/max over BENCH_KILLS rounds
 * (default 5) at LEASE_SECONDS BENCH_LEASE (default 3).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUserOverHttp } from '../helpers/child-server';
import { callerAnsweredOrFallbackScenario, runSipp } from '../helpers/sipp';
import { startSharedCenter, type PageEvents } from '../helpers/shared-telephony';
import { until } from '../helpers/until';
import { DOMAIN, HOTLINE } from './hotline-load';

if (!process.env.COUCHDB_URL) {
	console.error(
		'call-failover.bench needs COUCHDB_URL (an Apache CouchDB 3.x and its administrator)'
	);
	process.exit(2);
}
const KILLS = Number(process.env.BENCH_KILLS ?? 5);
const LEASE = Number(process.env.BENCH_LEASE ?? 3);
const RATE = Number(process.env.BENCH_RATE ?? 2);
const ROUND_SECONDS = 20;
process.env.COUCH_TEST_RUN ??= `bc${Date.now().toString(36)}`;

const percentile = (sorted: number[], p: number) =>
	sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const count = (output: string, pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? 0);

const center = await startSharedCenter({
	root: mkdtempSync(join(tmpdir(), 'cc-call-failover-')),
	leaseSeconds: LEASE
});
const { apps, proxyUrl } = center;
const lease: number[] = [];
const offered: number[] = [];
const totals = { answered: 0, fallback: 0, failed: 0 };
try {
	for (const a of apps) await until(() => center.running(a), `${a.name} running`, 20_000);
	const pages: PageEvents[] = [];
	for (const [i, agentId] of ['5201', '5202', '5203', '5204', '5205', '5206'].entries()) {
		const cookie = await createUserOverHttp(proxyUrl, `bf${agentId}`, 'role:agent', agentId);
		pages.push(await center.agent(cookie, apps[i % 2]!));
	}
	for (let round = 1; round <= KILLS; round++) {
		let holderId: string | null = null;
		await until(
			async () => {
				holderId = await center.leaseHolder();
				return apps.some((a) => a.instanceId === holderId);
			},
			'a lease holder',
			30_000
		);
		const victim = apps.find((a) => a.instanceId === holderId)!;
		const survivor = apps.find((a) => a !== victim)!;
		for (const a of apps) await until(() => center.running(a), `${a.name} running`, 30_000);
		const calls = ROUND_SECONDS * RATE;
		const roundStart = Date.now();
		const sippDir = mkdtempSync(join(tmpdir(), 'cc-call-failover-sipp-'));
		const load = runSipp(callerAnsweredOrFallbackScenario(DOMAIN, 1_000), center.sipTarget, {
			service: HOTLINE,
			timeoutS: ROUND_SECONDS + 90,
			cwd: sippDir,
			args: ['-m', String(calls), '-l', String(calls), '-r', String(RATE), '-trace_err']
		});
		// A quarter of the round's calls offered before the kill.
		await until(
			() =>
				pages.reduce((n, p) => n + p.offers.filter((o) => o.at > roundStart).length, 0) >=
				calls / 4,
			'calls offered before the kill',
			60_000
		);
		const killedAt = Date.now();
		victim.server.proc.kill('SIGKILL');
		await until(
			async () => (await center.leaseHolder()) === survivor.instanceId,
			'the survivor holding the lease',
			60_000
		);
		lease.push(Date.now() - killedAt);
		await until(
			() => pages.some((p) => p.offers.some((o) => o.at > killedAt)),
			'a call offered after the kill',
			60_000
		);
		const next = Math.min(
			...pages.flatMap((p) => p.offers.filter((o) => o.at > killedAt).map((o) => o.at))
		);
		offered.push(next - killedAt);
		const result = await load;
		const answered = count(result.output, /200 <-+\s+(\d+)/);
		const fallback = count(result.output, /480 <-+\s+(\d+)/);
		const failed = count(result.output, /Failed call\s*\|\s*\d+\s*\|\s*(\d+)/);
		totals.answered += answered;
		totals.fallback += fallback;
		totals.failed += failed;
		console.log(
			`round ${round}: ${victim.name} killed; lease taken over in ${lease.at(-1)} ms, next call offered ` +
				`${offered.at(-1)} ms after the kill; ${calls} calls: ${answered} answered, ${fallback} fallback, ${failed} failed`
		);
		if (failed > 0) {
			// Why: sipp's log of the unexpected messages and timeouts of the failed calls.
			const file = readdirSync(sippDir).find((f) => f.endsWith('_errors.log'));
			const lines = file ? readFileSync(join(sippDir, file), 'utf8').trim().split('\n') : [];
			console.log(`  sipp's errors:\n    ${lines.slice(0, 12).join('\n    ')}`);
		}
		rmSync(sippDir, { recursive: true, force: true });
		await center.restart(victim);
	}
} finally {
	await center.stop();
}
const line = (name: string, xs: number[]) => {
	const s = [...xs].sort((a, b) => a - b);
	return `${name}: p50 ${percentile(s, 50)} ms, p95 ${percentile(s, 95)} ms, max ${s.at(-1)} ms (${s.length} kills)`;
};
console.log(`\n#16 call failover, LEASE_SECONDS=${LEASE}, ${RATE} calls/s:`);
console.log(line('  kill → lease taken over', lease));
console.log(line('  kill → next call offered', offered));
console.log(
	`  calls: ${totals.answered} answered, ${totals.fallback} given the fallback, ${totals.failed} failed`
);
