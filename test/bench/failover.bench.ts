/**
 * #16 failover: two app servers (their own processes) on the CouchDB named by COUCHDB_URL; the one holding
 * the singletons' lease is killed with SIGKILL, and the time until the other holds it is measured (kill →
 * the lease document names the survivor, read every 20 ms). The killed server is started again before the
 * next round, so each round starts from two. Prints p50/p95/max per LEASE_SECONDS.
 *
 * COUCHDB_URL (required), BENCH_KILLS (default 10), BENCH_LEASES (default "10,3": LEASE_SECONDS values).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { couchAdmin, couchEnv } from '../helpers/couch';
import { until } from '../helpers/until';
import { freePort, startChildServer, type ChildServer } from '../helpers/child-server';

const url = process.env.COUCHDB_URL;
if (!url) {
	console.error('failover.bench needs COUCHDB_URL (an Apache CouchDB 3.x and its administrator)');
	process.exit(2);
}
const KILLS = Number(process.env.BENCH_KILLS ?? 10);
const LEASES = (process.env.BENCH_LEASES ?? '10,3').split(',').map(Number);

const couch = couchAdmin();

const percentile = (sorted: number[], p: number) =>
	sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

interface App {
	dataDir: string;
	port: number;
	server: ChildServer;
	instanceId: string;
}

for (const leaseSeconds of LEASES) {
	const root = mkdtempSync(join(tmpdir(), 'cc-failover-'));
	process.env.COUCH_TEST_RUN = `bf${Date.now().toString(36)}`;
	const shared = couchEnv(root);
	const prefix = shared.DB_PREFIX!;
	const env = { ...shared, LEASE_SECONDS: String(leaseSeconds) };
	const start = async (dataDir: string, port: number): Promise<App> => {
		const server = await startChildServer(port, dataDir, env);
		const instanceId = readFileSync(join(dataDir, 'secrets', 'instance-id'), 'utf8').trim();
		return { dataDir, port, server, instanceId };
	};
	const holder = async () => {
		const res = await couch(`/${prefix}users/lease%3Asingletons`);
		return res.ok ? ((await res.json()) as { holder: string }).holder : null;
	};
	const apps: App[] = [];
	const times: number[] = [];
	try {
		for (const name of ['a', 'b']) apps.push(await start(join(root, name), await freePort()));
		for (let round = 0; round < KILLS; round++) {
			let held: string | null = null;
			await until(
				async () => {
					held = await holder();
					return apps.some((a) => a.instanceId === held);
				},
				'one of the two servers to hold the lease',
				60_000
			);
			const victim = apps.find((a) => a.instanceId === held)!;
			const survivor = apps.find((a) => a !== victim)!;
			victim.server.proc.kill('SIGKILL');
			const killedAt = performance.now();
			// Read every 20 ms (finer than `until`'s 50): the figure is this wait.
			while ((await holder()) !== survivor.instanceId) {
				await new Promise((r) => setTimeout(r, 20));
			}
			times.push(performance.now() - killedAt);
			await victim.server.exited;
			apps[apps.indexOf(victim)] = await start(victim.dataDir, victim.port);
		}
		const sorted = [...times].sort((x, y) => x - y);
		console.log(
			`LEASE_SECONDS=${leaseSeconds}: kill → the other server holds the lease, ${KILLS} kills: ` +
				`p50 ${(percentile(sorted, 50) / 1000).toFixed(2)} s, p95 ${(percentile(sorted, 95) / 1000).toFixed(2)} s, ` +
				`max ${(sorted.at(-1)! / 1000).toFixed(2)} s`
		);
	} finally {
		for (const a of apps) {
			a.server.proc.kill('SIGKILL');
			await a.server.exited;
		}
		const all = (await (await couch('/_all_dbs')).json()) as string[];
		for (const db of all.filter((d) => d.startsWith(prefix))) {
			await couch(`/${encodeURIComponent(db)}`, { method: 'DELETE' });
		}
		rmSync(root, { recursive: true, force: true });
	}
}
