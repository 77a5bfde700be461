/**
 * #15 the browser's push filter (`src/lib/replication/push-filter.ts`) on real PouchDB devices through
 * `/sync/tickets`: a device offers the server only what it wrote, never what it pulled — and an edit made
 * offline still reaches the server when a newer server revision outranks it on the device, also after a
 * reload (when the device no longer remembers what it wrote).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { device, PouchDB } from '../helpers/pouch';
import { startTestServer, type TestServer } from '../helpers/server';
import { until } from '../helpers/until';
import { recordedTicket } from '../helpers/tickets';
import { buildTicket, type TicketDoc } from '../../src/lib/shared/tickets/ticket';
import type { TicketEvent } from '../../src/lib/shared/tickets/events';
import { TICKET_REPLICATION } from '../../src/lib/shared/tickets/sync-limits';
import { createPushFilter } from '../../src/lib/replication/push-filter';

const CENTER = 'department:center';

const note = (id: string, by: string): TicketEvent => ({
	id,
	type: 'comment',
	at: new Date().toISOString(),
	by,
	text: id
});

/** The ticket with a comment added, its fields derived again (as the app writes it). */
const noted = (doc: TicketDoc, id: string, by: string): TicketDoc => ({
	...buildTicket(doc._id, [...doc.events, note(id, by)], CENTER),
	_rev: doc._rev
});

const recorded = (id: string, by = 'user:pfother') => recordedTicket(id, by);

let server: TestServer;
let cookie: string;
const tickets = () => server.runtime.store.db<TicketDoc>('tickets');

/** `/sync/tickets` as the agent, noting the ids every `_revs_diff` offered. */
function remote(offered: string[]) {
	return new PouchDB<TicketDoc>(`${server.url}/sync/tickets`, {
		skip_setup: true,
		fetch: async (url: string | Request, opts?: RequestInit) => {
			if (String(url).includes('/_revs_diff')) {
				offered.push(...Object.keys(JSON.parse(String(opts?.body)) as object));
			}
			const headers = new Headers(opts?.headers);
			headers.set('cookie', cookie);
			return PouchDB.fetch(url, { ...opts, headers });
		}
	} as PouchDB.Configuration.RemoteDatabaseConfiguration);
}

beforeAll(async () => {
	server = await startTestServer();
	cookie = await server.createUser({ username: 'pfagent', roleKey: 'agent' });
	await server.createUser({ username: 'pfother', roleKey: 'agent' });
	await tickets().bulkDocs(Array.from({ length: 30 }, (_, i) => recorded(`pf-${i}`)));
});
afterAll(async () => {
	await server?.close();
});

describe('#15 a device pushes only what it wrote', () => {
	it('F27 what the device pulled is never offered back; its own ticket reaches the server', async () => {
		const local = device<TicketDoc>('pf-live');
		const offered: string[] = [];
		const filter = createPushFilter();
		const sync = local.sync(filter.watch(remote(offered)), {
			live: true,
			retry: true,
			...TICKET_REPLICATION,
			push: { ...TICKET_REPLICATION.push, filter: filter.filter }
		});
		try {
			const held = async () => (await local.allDocs()).rows.length;
			await until(async () => (await held()) === 30, 'the 30 tickets on the device', 30_000);
			await tickets().bulkDocs(Array.from({ length: 5 }, (_, i) => recorded(`pf-late-${i}`)));
			await until(async () => (await held()) === 35, 'the 5 later tickets on the device', 30_000);

			// The device's own ticket goes after everything it pulled: once the server has it, the push has
			// seen all of those.
			const own = recorded('pf-own', 'user:pfagent');
			filter.written(own._id);
			const { rev } = await local.put(own);
			await until(
				async () => (await tickets().getMany([own._id])).get(own._id)?._rev === rev,
				'the device’s ticket on the server',
				30_000
			);
			expect([...new Set(offered)]).toEqual([own._id]);
		} finally {
			sync.cancel();
			await local.destroy();
		}
	});

	it('F21 F27 an offline edit outranked by a newer server revision still reaches the server after a reload', async () => {
		const local = device<TicketDoc>('pf-offline');
		const id = 'ticket:pf-3';
		await local.replicate.from(remote([]), TICKET_REPLICATION.pull);
		// Offline, the agent adds a note: revision 2 on the device.
		const mine = await local.get(id);
		await local.put(noted(mine, 'ev-offline', 'user:pfagent'));
		// Meanwhile the ticket is changed twice at the server: revision 3 there outranks the device's.
		for (const n of ['ev-server-1', 'ev-server-2']) {
			const current = (await tickets().getMany([id])).get(id)!;
			await tickets().bulkDocs([noted(current, n, 'user:pfother')]);
		}

		// After a reload the device remembers nothing it wrote; the pull comes first and brings revision 3.
		const offered: string[] = [];
		const filter = createPushFilter();
		const server3 = filter.watch(remote(offered));
		await local.replicate.from(server3, TICKET_REPLICATION.pull);
		const winner = await local.get(id, { conflicts: true });
		expect(winner._rev.startsWith('3-')).toBe(true);
		expect(winner._conflicts).toHaveLength(1);

		await filter.prepare(local, server3, 0);
		const pushed = await local.replicate.to(server3, {
			...TICKET_REPLICATION.push,
			filter: filter.filter
		});
		expect(pushed.docs_written).toBe(1);
		expect(offered).toContain(id);
		// The server keeps the offline note: the resolver merges the two revisions' events.
		await until(
			async () => {
				const stored = (await tickets().getMany([id])).get(id);
				return stored?.events.some((e) => e.id === 'ev-offline') === true;
			},
			'the offline note on the server',
			30_000
		);
		const stored = (await tickets().getMany([id])).get(id)!;
		expect(stored.events.map((e) => e.id)).toEqual(
			expect.arrayContaining(['ev-pf-3', 'ev-offline', 'ev-server-1', 'ev-server-2'])
		);
		await local.destroy();
	});
});
