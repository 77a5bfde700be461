/**
 * #15 the capacity benchmark's simulated browser (`test/bench/capacity/device.ts`) against a real PouchDB
 * device: replicating the same user through `/sync/tickets` they end with the same documents at the same
 * revisions, what one writes reaches the other, and the raw client makes the kinds of requests PouchDB does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { device, PouchDB } from '../helpers/pouch';
import { startTestServer, type TestServer } from '../helpers/server';
import { RawDevice, type RequestKind } from '../bench/capacity/device';
import { createClient } from '../bench/capacity/http';
import type { TicketDoc } from '../../src/lib/shared/tickets/ticket';
import { until } from '../helpers/until';
import { recordedTicket } from '../helpers/tickets';
import { TICKET_REPLICATION } from '../../src/lib/shared/tickets/sync-limits';
import { createPushFilter } from '../../src/lib/replication/push-filter';
import { quietInfo } from '../../src/lib/replication/quiet-remote';

/** What a PouchDB request to `/sync/tickets` is, in the raw client's words. */
function kindOf(method: string, url: URL): RequestKind {
	const path = url.pathname.replace(/\/+$/, '');
	if (path === '/sync') return 'root';
	if (path === '/sync/tickets') return 'info';
	if (path.endsWith('/_changes')) {
		return url.searchParams.get('feed') === 'longpoll' ? 'longpoll' : 'changes';
	}
	if (path.endsWith('/_bulk_get')) return 'bulk_get';
	if (path.endsWith('/_revs_diff')) return 'revs_diff';
	if (path.endsWith('/_bulk_docs')) return 'bulk_docs';
	if (path.includes('/_local/')) return method === 'PUT' ? 'local_put' : 'local_get';
	throw new Error(`unexpected request ${method} ${url.pathname}`);
}

let server: TestServer;
let cookie: string;
const client = () => createClient(server.url);

beforeAll(async () => {
	server = await startTestServer();
	cookie = await server.createUser({ username: 'rawagent', roleKey: 'agent', agentId: '8101' });
	await server.createUser({ username: 'otheragent', roleKey: 'agent', agentId: '8102' });
	// 40 center tickets the agent sees; 5 of another department and one past the 90-day window it does not.
	const docs: TicketDoc[] = [];
	for (let i = 0; i < 40; i++) docs.push(recordedTicket(`seen-${i}`, 'user:otheragent'));
	for (let i = 0; i < 5; i++) {
		docs.push(
			recordedTicket(`engineering-${i}`, 'user:someone', { departmentId: 'department:engineering' })
		);
	}
	docs.push(
		recordedTicket('old', 'user:otheragent', { at: new Date(Date.now() - 100 * 86_400_000) })
	);
	await server.runtime.store.db<TicketDoc>('tickets').bulkDocs(docs);
});
afterAll(async () => {
	await server?.close();
});

describe('#15 the benchmark’s raw device client', () => {
	it('ends with the same id → revision set as a PouchDB device of the same user, and each gets what the other writes', async () => {
		const pouchKinds = new Set<string>();
		let pouchInfos = 0;
		const remote = new PouchDB<TicketDoc>(`${server.url}/sync/tickets`, {
			skip_setup: true,
			fetch: (url: string | Request, opts?: RequestInit) => {
				const kind = kindOf(opts?.method ?? 'GET', new URL(String(url)));
				pouchKinds.add(`${opts?.method ?? 'GET'} ${kind}`);
				if (kind === 'info') pouchInfos += 1;
				const headers = new Headers(opts?.headers);
				headers.set('cookie', cookie);
				return PouchDB.fetch(url, { ...opts, headers });
			}
		} as PouchDB.Configuration.RemoteDatabaseConfiguration);
		const local = device<TicketDoc>('raw-device-witness');
		// As the browser replicates (src/lib/replication/tickets-db.ts).
		const filter = createPushFilter();
		const sync = local.sync(filter.watch(quietInfo(remote)), {
			live: true,
			retry: true,
			...TICKET_REPLICATION,
			push: { ...TICKET_REPLICATION.push, filter: filter.filter }
		});

		const rawKinds = new Set<string>();
		const arrived = new Map<string, number>();
		const http = client();
		const raw = new RawDevice({
			name: 'raw',
			cookie,
			client: http,
			mode: 'filtered',
			checkpoints: 'device',
			start: 0,
			events: true,
			hooks: {
				sent: (method, kind) => rawKinds.add(`${method} ${kind}`),
				arrived: (id, at) => arrived.set(id, at)
			}
		});
		raw.start();
		try {
			const pouchRevs = async () =>
				new Map(
					(await local.allDocs()).rows
						.filter((r) => !r.id.startsWith('_'))
						.map((r) => [r.id, r.value.rev])
				);
			const visible = Array.from({ length: 40 }, (_, i) => `ticket:seen-${i}`);
			await until(
				async () => (await pouchRevs()).size === 40 && raw.revs.size === 40,
				'both devices holding the 40 tickets',
				30_000
			);
			await raw.live;
			expect([...raw.revs.keys()].sort()).toEqual([...visible].sort());

			// The raw client records a ticket: the PouchDB device gets it; and the other way round.
			const rawRev = raw.write(recordedTicket('from-raw', 'user:rawagent'));
			await until(
				async () => (await pouchRevs()).get('ticket:from-raw') === rawRev,
				'the raw ticket on the PouchDB device',
				30_000
			);
			filter.written('ticket:from-pouch');
			const { rev: pouchRev } = await local.put(recordedTicket('from-pouch', 'user:rawagent'));
			await until(
				() => raw.revs.get('ticket:from-pouch') === pouchRev,
				'the PouchDB ticket on the raw device',
				30_000
			);
			expect(arrived.has('ticket:from-pouch')).toBe(true);
			expect(arrived.has('ticket:from-raw')).toBe(false); // its own write never "arrives"

			const pouch = await pouchRevs();
			expect(Object.fromEntries([...raw.revs].sort())).toEqual(
				Object.fromEntries([...pouch].sort())
			);
			expect(pouch.size).toBe(42);
			// Both stored at the server as written.
			const stored = await server.runtime.store.db('tickets').getMany(['ticket:from-raw']);
			expect(stored.get('ticket:from-raw')?._rev).toBe(rawRev);

			// The same kinds of requests, the event stream aside (the witness has none).
			rawKinds.delete('GET events');
			expect([...rawKinds].sort()).toEqual([...pouchKinds].sort());
			// Checkpoints stay on the device: the server is never asked to read or write one; the info is
			// asked once, not after every batch.
			expect([...pouchKinds].filter((k) => k.includes('local'))).toEqual([]);
			expect(pouchInfos).toBeLessThanOrEqual(2);
		} finally {
			raw.stop();
			sync.cancel();
			http.close();
		}
	});

	it('as a device that synced before, starts where the server is and gets only what is written after', async () => {
		const http = client();
		const arrived: string[] = [];
		const raw = new RawDevice({
			name: 'raw-desk',
			cookie,
			client: http,
			mode: 'filtered',
			checkpoints: 'device',
			start: 'now',
			events: false,
			hooks: { arrived: (id) => arrived.push(id) }
		});
		raw.start();
		try {
			await raw.live;
			expect(raw.revs.size).toBe(0);
			const [written] = await server.runtime.store
				.db<TicketDoc>('tickets')
				.bulkDocs([recordedTicket('after-desk', 'user:otheragent')]);
			await until(
				() => raw.revs.get('ticket:after-desk') === written!.rev,
				'the later ticket on the raw device',
				30_000
			);
			expect(arrived).toEqual(['ticket:after-desk']);
		} finally {
			raw.stop();
			http.close();
		}
	});
});
