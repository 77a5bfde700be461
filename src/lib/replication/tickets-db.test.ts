/**
 * #15 a first sync into the browser's replica: thousands of tickets arrive one change event each, and the
 * desk's lists (each re-reads the replica when told it changed) read it a bounded number of times — not once
 * per arriving ticket, which on a center's working set grew the page to gigabytes. What the lists end with
 * is every ticket, and a ticket the user just saved is in the next read at once; after the first read, a
 * read fetches only the tickets that changed.
 *
 * Real PouchDB replication on fake-indexeddb (test/setup/node.ts); the server's `/sync/tickets` is a second
 * local database standing in for it.
 */
import { afterAll, expect, test, vi } from 'vitest';
import { until } from '../../../test/helpers/until';
import { recordedTicket } from '../../../test/helpers/tickets';
import { PouchDB } from './pouch';
import type { TicketDoc } from '#shared/tickets/ticket';
import type * as Pouch from './pouch';
import { syncStatus } from '$lib/state/sync-status.svelte';

// Node 20 has no localStorage (and later versions' needs a file): the browser's, as a map.
const stored = new Map<string, string>();
Object.defineProperty(globalThis, 'localStorage', {
	configurable: true,
	value: {
		getItem: (k: string) => stored.get(k) ?? null,
		setItem: (k: string, v: string) => void stored.set(k, String(v)),
		removeItem: (k: string) => void stored.delete(k)
	}
});

const server = vi.hoisted(() => ({ name: 'tickets-db-test-server', fullReads: 0 }));
// The app's PouchDB, counting the reads of every ticket of a replica (what a list's refresh costs).
vi.mock('./pouch', async (importActual) => {
	const actual = await importActual<typeof Pouch>();
	class Counted<T extends object> extends actual.PouchDB<T> {
		constructor(name: string, options?: PouchDB.Configuration.DatabaseConfiguration) {
			super(name, options);
			const allDocs = this.allDocs.bind(this) as (o: object) => Promise<unknown>;
			(this as { allDocs: unknown }).allDocs = (options: { startkey?: string }) => {
				if (options?.startkey === 'ticket:') server.fullReads += 1;
				return allDocs(options);
			};
		}
	}
	return { ...actual, PouchDB: Counted };
});
vi.mock('./remote', async () => {
	const { PouchDB } = await import('./pouch');
	return { syncRemote: () => new PouchDB(server.name, { adapter: 'indexeddb' }) };
});

const { allTickets, destroyTicketReplica, onTicketsChange, putTicket, startTicketSync } =
	await import('./tickets-db');

const TICKETS = 2_000;
const remote = new PouchDB<TicketDoc>(server.name, { adapter: 'indexeddb' });

afterAll(async () => {
	await destroyTicketReplica();
	await remote.destroy();
});

test('#15 thousands of tickets arriving by replication are read a bounded number of times, and all of them show', async () => {
	const docs: TicketDoc[] = [];
	for (let i = 0; i < TICKETS; i++) docs.push(recordedTicket(`burst-${i}`, 'user:colleague'));
	await remote.bulkDocs(docs);

	let shown: TicketDoc[] = [];
	let notices = 0;
	// As the desk's lists do: on each notice, read the replica again (three lists on the agent's desk).
	const stops = [1, 2, 3].map(() =>
		onTicketsChange(() => {
			notices += 1;
			void allTickets().then((t) => (shown = t));
		})
	);
	startTicketSync({ userId: 'user:me', departmentId: 'department:center' });
	await until(() => shown.length === TICKETS, 'every ticket shown', 60_000);

	const fullReads = server.fullReads;
	expect(new Set(shown.map((t) => t._id)).size).toBe(TICKETS);
	// Before #15's fix: a read per arriving ticket per list (thousands). Now: one per notice at most,
	// shared by the lists, and notices at most four a second.
	expect(fullReads).toBeLessThanOrEqual(notices / 3 + 2);
	expect(fullReads).toBeLessThan(60);
	// #17 the header's progress: every ticket counted as received.
	expect(syncStatus.received).toBe(TICKETS);
	for (const stop of stops) stop();

	// A ticket the user saves is in the very next read, without waiting for a notice.
	const saved = await putTicket(recordedTicket('saved-now', 'user:me'));
	expect((await allTickets()).some((t) => t._id === saved._id)).toBe(true);

	// A ticket changed elsewhere arrives in its new version; the reads after the first fetch only what
	// changed (the replica is read whole once).
	const before = await remote.get('ticket:burst-7');
	const note = {
		id: 'ev-note-7',
		type: 'comment' as const,
		at: new Date().toISOString(),
		by: 'user:colleague',
		text: '已联系用户'
	};
	await remote.put({ ...before, events: [...before.events, note] } as TicketDoc);
	await until(
		async () => (await allTickets()).find((t) => t._id === 'ticket:burst-7')?.events.length === 2,
		'the changed ticket shown',
		30_000
	);
	const now = await allTickets();
	expect(now).toHaveLength(TICKETS + 1);
	expect(now.map((t) => t._id)).toEqual([...now.map((t) => t._id)].sort());
	expect(server.fullReads).toBe(1);
}, 120_000);
