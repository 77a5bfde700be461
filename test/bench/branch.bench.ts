/**
 * F29: time from a transfer at the center to the ticket being readable at the branch. A center agent's
 * device (PouchDB) writes a ticket transferred to a branch department through the center's `/sync`; the
 * clock stops when the branch's store holds it, and when a branch device live-replicating from the branch's
 * `/sync` has it. Two in-process servers on loopback, embedded stores. Prints p50/p95 over
 * BENCH_TRANSFERS transfers. Run: `npx tsx test/bench/branch.bench.ts`.
 */
import { device, syncRemote } from '../helpers/pouch';
import { startTestServer } from '../helpers/server';
import { buildTicket, type TicketDoc } from '../../src/lib/shared/tickets/ticket';

const TRANSFERS = Number(process.env.BENCH_TRANSFERS ?? 50);
const POLL_MS = 2;
const CENTER = 'department:center';
const EAST = 'department:business-east';
const KEY = 'bench-branch-key-0123456789';
const p = (times: number[], q: number) =>
	[...times].sort((a, b) => a - b)[Math.min(times.length - 1, Math.floor(q * times.length))]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => Promise<T | null>, timeoutMs = 30_000): Promise<T> {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== null) return value;
		if (Date.now() > end) throw new Error('timed out');
		await sleep(POLL_MS);
	}
}

const center = await startTestServer({ BRANCHES: `east=${KEY}@${EAST}` });
const branch = await startTestServer({
	CENTER_URL: center.url,
	BRANCH_NAME: 'east',
	BRANCH_KEY: KEY
});
try {
	const agentCookie = await center.createUser({ username: 'benchagent', roleKey: 'agent' });
	await center.createUser({ username: 'benchclerk', roleKey: 'department', departmentId: EAST });
	const branchUsers = branch.runtime.store.db('users');
	await until(() => branchUsers.get('user:benchclerk').catch(() => null));
	const clerkCookie = await branch.signIn('benchclerk', 'password-123');

	const agentDb = device<TicketDoc>('bench-agent');
	const toCenter = syncRemote<TicketDoc>(center.url, 'tickets', agentCookie);
	const clerkDb = device<TicketDoc>('bench-clerk');
	const arrived = new Map<string, number>();
	const live = clerkDb.replicate
		.from(syncRemote<TicketDoc>(branch.url, 'tickets', clerkCookie), { live: true, retry: true })
		.on('change', (info) => {
			for (const doc of info.docs) if (!arrived.has(doc._id)) arrived.set(doc._id, Date.now());
		});
	const branchTickets = branch.runtime.store.db<TicketDoc>('tickets');

	const upload: number[] = [];
	const toStore: number[] = [];
	const afterCenter: number[] = [];
	const toDevice: number[] = [];
	for (let i = 0; i < TRANSFERS; i++) {
		const id = `ticket:bench-${i}`;
		const now = Date.now();
		await agentDb.put(
			buildTicket(
				id,
				[
					{
						id: `bench-${i}-e0`,
						type: 'created',
						at: new Date(now).toISOString(),
						by: 'user:benchagent',
						number: `B-${i}`,
						callerNumber: '13800000000',
						customerIds: [],
						departmentId: CENTER,
						serviceTypeId: null,
						contentCategoryId: null,
						content: `基准测试 ${i}`,
						callbackRequired: false
					},
					{
						id: `bench-${i}-e1`,
						type: 'transferred',
						at: new Date(now + 1).toISOString(),
						by: 'user:benchagent',
						toDepartmentId: EAST,
						flowId: null,
						note: ''
					}
				],
				CENTER
			)
		);
		const t0 = Date.now();
		const up = await agentDb.replicate.to(toCenter);
		if (up.doc_write_failures > 0) throw new Error(`the center refused ${id}`);
		upload.push(Date.now() - t0);
		await until(() => branchTickets.get(id).catch(() => null));
		toStore.push(Date.now() - t0);
		afterCenter.push(toStore.at(-1)! - upload.at(-1)!);
		const seen = await until(() => Promise.resolve(arrived.get(id) ?? null));
		toDevice.push(seen - t0);
		await sleep(20); // transfers a few people apart, not a bulk load
	}
	live.cancel();
	await live.catch(() => {});
	await sleep(200); // let the cancelled long-poll unwind before the servers close
	const line = (label: string, times: number[]) =>
		`${label}: p50 ${p(times, 0.5)} ms, p95 ${p(times, 0.95)} ms, max ${Math.max(...times)} ms`;
	console.log(`F29 transfer at the center → readable at the branch, ${TRANSFERS} transfers`);
	console.log(line('  device push to the center /sync      ', upload));
	console.log(line('  in the branch store                  ', toStore));
	console.log(line('  … counted from the push finishing    ', afterCenter));
	console.log(line('  on a branch device (live /sync)      ', toDevice));
} finally {
	await branch.close();
	await center.close();
}
