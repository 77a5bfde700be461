/**
 * #6: a device's first sync of 10,000 tickets through the per-user `/sync/tickets` endpoint, beside a raw
 * PouchDB replication of the same documents straight from the store (admin credentials, no access checks)
 * in the same run. Both use the browser's batch size and keep their connections open as a browser does.
 * Target: `/sync` ≤ 1.2× the raw replication.
 * After one untimed pass of each, rounds alternate which goes first. BENCH_TICKETS (default 10000) and BENCH_ROUNDS (default 8).
 */
import { Worker } from 'node:worker_threads';
import type { DeviceResult, DeviceTask } from './first-sync-device';
import { startTestServer } from '../helpers/server';
import { buildTicket, type TicketDoc } from '../../src/lib/shared/tickets/ticket';
import type { TicketEvent } from '../../src/lib/shared/tickets/events';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const BATCH_SIZE = 500; // as the browser (src/lib/replication/tickets-db.ts)
const CENTER = 'department:center';

const server = await startTestServer();
// The device runs in its own thread, as a browser is its own process beside the server.
const deviceThread = new Worker(
	`import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(
		new URL('./first-sync-device.ts', import.meta.url).href
	)}, ${JSON.stringify(import.meta.url)}))`,
	{ eval: true }
);
try {
	const cookie = await server.createUser({ username: 'firstsync', roleKey: 'agent' });
	const user = 'user:firstsync';
	const store = server.runtime.store;

	// 10,000 tickets of this agent from the last weeks, each with a few events, written straight to the store.
	const t0 = Date.now() - 20 * 86_400_000;
	for (let start = 0; start < TICKETS; start += 1_000) {
		const docs: TicketDoc[] = [];
		for (let i = start; i < Math.min(TICKETS, start + 1_000); i++) {
			const at = (k: number) => new Date(t0 + i * 100 + k).toISOString();
			const events: TicketEvent[] = [
				{
					id: `fs-${i}-0`,
					type: 'created',
					at: at(0),
					by: user,
					number: `FS-${i}`,
					callerNumber: `0571-8${String(i).padStart(7, '0')}`,
					customerIds: [`customer:${i}`],
					departmentId: CENTER,
					serviceTypeId: 'serviceType:repair',
					contentCategoryId: null,
					content: `用户来电反映机顶盒无信号，已指导重启，仍无法收看 ${i}`,
					callbackRequired: true
				},
				{
					id: `fs-${i}-1`,
					type: 'transferred',
					at: at(1),
					by: user,
					toDepartmentId: 'department:network',
					flowId: null,
					note: '请网络部处理'
				},
				{ id: `fs-${i}-2`, type: 'comment', at: at(2), by: user, text: '已与用户约定上门时间' }
			];
			docs.push(buildTicket(`ticket:fs-${String(i).padStart(5, '0')}`, events, CENTER));
		}
		await store.db<TicketDoc>('tickets').bulkDocs(docs);
	}

	// The server's conflict resolver reads every new ticket once from the changes feed; let it catch up so
	// it does not compete with the first round.
	const tickets = store.db('tickets');
	for (;;) {
		const updateSeq = await tickets.updateSeq();
		const done = await tickets.local.get<{ seq: unknown }>('ticket-resolver');
		if (String(done?.seq ?? null) === String(updateSeq)) break;
		await new Promise((r) => setTimeout(r, 200));
	}

	// The store's own HTTP door (the embedded store listens on loopback) and its credentials.
	const storeDoor = store.address();

	async function time(kind: 'sync' | 'raw', round: number): Promise<number> {
		const task: DeviceTask = {
			name: `first-sync-${kind}-${round}-${Date.now()}`,
			batchSize: BATCH_SIZE,
			...(kind === 'sync'
				? { url: `${server.url}/sync/tickets`, headers: { cookie } }
				: {
						url: `${storeDoor.url}/${server.runtime.deps.settings.dbPrefix}tickets`,
						headers: storeDoor.headers
					})
		};
		const answer = new Promise<DeviceResult>((resolve, reject) => {
			deviceThread.once('error', reject);
			deviceThread.once('message', (result: DeviceResult) => {
				deviceThread.off('error', reject);
				resolve(result);
			});
		});
		deviceThread.postMessage(task);
		const res = await answer;
		// The raw replication also carries the design document; the device must get every ticket.
		if (res.failures > 0 || res.docs < TICKETS) {
			throw new Error(`${kind}: ${res.docs} docs, ${res.failures} failures`);
		}
		return res.ms;
	}

	// One untimed pass of each first: the first full replication of a fresh process is ~30% slower
	// (JIT, the store's LevelDB caches), whichever door it goes through.
	await time('raw', -1);
	await time('sync', -1);
	const times = { sync: [] as number[], raw: [] as number[] };
	for (let round = 0; round < ROUNDS; round++) {
		const order: ('sync' | 'raw')[] = round % 2 === 0 ? ['raw', 'sync'] : ['sync', 'raw'];
		for (const kind of order) times[kind].push(await time(kind, round));
		console.log(
			`  round ${round + 1} (${order.join(' then ')}): /sync ${(times.sync[round]! / 1000).toFixed(2)} s, ` +
				`raw ${(times.raw[round]! / 1000).toFixed(2)} s, ratio ${(times.sync[round]! / times.raw[round]!).toFixed(2)}×`
		);
	}
	const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
	const ratio = sum(times.sync) / sum(times.raw);
	console.log(
		`first sync of ${TICKETS} tickets, batch_size ${BATCH_SIZE}, ${ROUNDS} rounds: ` +
			`/sync/tickets mean ${(sum(times.sync) / ROUNDS / 1000).toFixed(2)} s, ` +
			`raw store replication mean ${(sum(times.raw) / ROUNDS / 1000).toFixed(2)} s, ` +
			`ratio ${ratio.toFixed(2)}× (target ≤ 1.2×)`
	);
} finally {
	await deviceThread.terminate();
	await server.close();
}
