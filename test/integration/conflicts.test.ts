/**
 * F29 conflicts: the server's resolver merges concurrent revisions by the union of events; the rare conflict
 * it cannot merge is kept with every version and shown to administrators, and the resolver carries on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, ADMIN_PASSWORD, type TestServer } from '../helpers/server';
import { buildTicket, type TicketDoc } from '../../src/lib/shared/tickets/ticket';
import type { TicketEvent } from '../../src/lib/shared/tickets/events';

const CENTER = 'department:center';
let server: TestServer;

beforeAll(async () => {
	server = await startTestServer();
});
afterAll(async () => {
	await server?.close();
});

const created = (id: string): TicketEvent => ({
	id: `${id}-0`,
	type: 'created',
	at: '2026-11-26T08:00:00.000Z',
	by: 'user:admin',
	number: id,
	callerNumber: '1',
	customerIds: [],
	departmentId: CENTER,
	serviceTypeId: null,
	contentCategoryId: null,
	content: '',
	callbackRequired: false
});
const comment = (id: string, text: string): TicketEvent => ({
	id,
	type: 'comment',
	at: '2026-11-26T08:01:00.000Z',
	by: 'user:admin',
	text
});

/** Two revisions of one document written side by side, as two replicas would leave them. */
async function conflicting(a: object, b: object) {
	const results = await server.runtime.store.db('tickets').bulkDocs(
		[
			{ ...a, _rev: '1-aaaa', _revisions: { start: 1, ids: ['aaaa'] } },
			{ ...b, _rev: '1-bbbb', _revisions: { start: 1, ids: ['bbbb'] } }
		],
		{ newEdits: false }
	);
	// With new_edits: false the store lists only the revisions it did not store.
	expect(results).toEqual([]);
}

describe('F29 conflicts the union rule cannot merge', () => {
	it('are shown to administrators with both versions while other conflicts keep being merged', async () => {
		// Two revisions holding different content under one event id (events never change: one is forged).
		await conflicting(
			buildTicket('ticket:bad', [created('bad'), comment('bad-1', '原话')], CENTER),
			buildTicket('ticket:bad', [created('bad'), comment('bad-1', '改过的话')], CENTER)
		);
		await conflicting(
			buildTicket('ticket:ok', [created('ok'), comment('ok-1', '甲')], CENTER),
			buildTicket('ticket:ok', [created('ok'), comment('ok-2', '乙')], CENTER)
		);

		const admin = await server.signIn('admin', ADMIN_PASSWORD);
		let listed: { docId: string; reason: string; versions: { events: unknown[] }[] }[] = [];
		await expect
			.poll(
				async () => {
					const res = await fetch(`${server.url}/api/devices/conflicts`, {
						headers: { cookie: admin }
					});
					listed = ((await res.json()) as { conflicts: typeof listed }).conflicts;
					return listed.map((c) => c.docId);
				},
				{ timeout: 10_000 }
			)
			.toEqual(['ticket:bad']);
		expect(listed[0]!.reason).toContain('bad-1 differs');
		expect(listed[0]!.versions).toHaveLength(2);

		// The mergeable one was merged: both comments, no conflict left.
		const db = server.runtime.store.db<TicketDoc>('tickets');
		await expect
			.poll(async () => (await db.get('ticket:ok', { conflicts: true }))._conflicts ?? [], {
				timeout: 10_000
			})
			.toEqual([]);
		const merged = await db.get('ticket:ok');
		expect(merged.events.map((e) => e.id).sort()).toEqual(['ok-0', 'ok-1', 'ok-2']);

		// Only administrators with admin.settings see the list.
		const agent = await server.createUser({ username: 'conflictagent', roleKey: 'agent' });
		const refused = await fetch(`${server.url}/api/devices/conflicts`, {
			headers: { cookie: agent }
		});
		expect(refused.status).toBe(403);
	});
});
