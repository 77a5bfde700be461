/**
 * #15 F17 the ticket-history look-up waits for this server's own writes — but not for one the feed already
 * brought. On Apache CouchDB the changes feed may show a write before the write's answer reaches the server;
 * such a write was then taken as unread for good, and every look-up waited the whole second (1.01 s API p95 in
 * the CouchDB capacity run). Here the store's write notices are held back until the feed has shown the write,
 * as CouchDB does it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../server/settings';
import { openStore, provisionStore, type Store } from '../../server/store';
import { openTicketHistory, startTicketHistory } from '../../server/services/ticket-history';
import { recordedTicket } from '../helpers/tickets';
import { until } from '../helpers/until';

const dir = mkdtempSync(join(tmpdir(), 'own-writes-'));
let store: Store;
let index: ReturnType<typeof openTicketHistory>;
let history: ReturnType<typeof startTicketHistory>;
/** Write notices held back (the write's answer still on its way). */
const held: (() => void)[] = [];

beforeAll(async () => {
	store = await openStore(loadSettings({ DATA_DIR: dir }));
	await provisionStore(store, join(process.cwd(), 'sync', 'ddocs'));
	const racing: Store = {
		...store,
		onWrite: (key, listener) => store.onWrite(key, (written) => held.push(() => listener(written)))
	};
	index = openTicketHistory(join(dir, 'ticket-history.sqlite'));
	history = startTicketHistory(racing, index);
	await until(
		async () => (await history.find({ phone: '13800000000', customerIds: [], limit: 5 })) !== null,
		'the index built'
	);
}, 30_000);

afterAll(async () => {
	await history?.stop();
	index?.close();
	await store?.close();
	rmSync(dir, { recursive: true, force: true });
});

const lookUp = async () => {
	const started = performance.now();
	const found = await history.find({ phone: '13800000000', customerIds: [], limit: 5 });
	return { found: found?.map((t) => t._id), ms: performance.now() - started };
};

describe('#15 F17 own writes the feed already showed', () => {
	it('are not waited for when their answer comes after the feed brought them', async () => {
		const ticket = { ...recordedTicket('own-1', 'user:agent'), _rev: '1-aaaa' };
		await store.db('tickets').bulkDocs([ticket], { newEdits: false });
		// The feed brings it first …
		await until(
			async () => (await lookUp()).found?.includes('ticket:own-1') ?? false,
			'in the index'
		);
		// … then the write's answer arrives: the server notices its own write, already read.
		expect(held.length).toBeGreaterThan(0);
		for (const notice of held.splice(0)) notice();
		const after = await lookUp();
		expect(after.found).toEqual(['ticket:own-1']);
		// Before the fix this waited the full second (OWN_WRITES_WAIT_MS), at every look-up.
		expect(after.ms).toBeLessThan(500);
		expect((await lookUp()).ms).toBeLessThan(500);
	});
});
