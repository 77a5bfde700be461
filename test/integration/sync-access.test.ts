/**
 * DESIGN.md, Access: through /sync a user gets exactly the documents they may see, by every door, and can
 * write only where and what they may. Runs against the embedded store through the real HTTP stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PouchDB, syncRemote } from '../helpers/pouch';
import { startTestServer, type TestServer } from '../helpers/server';
import { recordedTicket } from '../helpers/tickets';
import type { TicketEvent } from '../../src/lib/shared/tickets/events';

const now = () => new Date().toISOString();
const ticket = (id: string, visibleTo: string[], by = 'user:someone') => ({
	_id: `ticket:${id}`,
	type: 'ticket',
	visibleTo,
	updatedAt: now(),
	events: [{ id: `ev-${id}-1`, type: 'created', at: now(), by }]
});

let server: TestServer;
let agent: string; // center agent: sees user:agent1 and department:center
let engineer: string; // department user in 工程部
let admin: string;

const req = (path: string, cookie: string | null, init: RequestInit = {}) =>
	fetch(`${server.url}${path}`, {
		...init,
		headers: {
			'content-type': 'application/json',
			...(cookie ? { cookie } : {}),
			...(init.headers ?? {})
		}
	});

function remote(db: string, cookie: string) {
	return syncRemote(server.url, db, cookie);
}

beforeAll(async () => {
	server = await startTestServer();
	agent = await server.createUser({ username: 'agent1', roleKey: 'agent', agentId: '8001' });
	engineer = await server.createUser({
		username: 'eng1',
		roleKey: 'department',
		departmentId: 'department:engineering'
	});
	admin = await server.signIn('admin', 'integration-admin');
	const tickets = server.runtime.store.db('tickets');
	await tickets.bulkDocs([
		ticket('center-1', ['department:center']),
		ticket('own-1', ['user:agent1']),
		ticket('eng-1', ['department:engineering']),
		ticket('both-1', ['department:center', 'department:engineering']),
		ticket('other-1', ['department:network']),
		{ ...ticket('old-1', ['department:center']), updatedAt: '2000-01-01T00:00:00.000Z' }
	]);
});

afterAll(async () => {
	await server?.close();
});

describe('anonymous requests', () => {
	it('get 401 everywhere except sign-in, registration and health', async () => {
		for (const path of [
			'/sync/',
			'/sync/tickets/',
			'/sync/tickets/_changes',
			'/sync/config/_changes',
			'/api/config',
			'/api/session',
			'/api/accounts/pending'
		]) {
			expect((await req(path, null)).status, path).toBe(401);
		}
		expect((await req('/api/health', null)).status).toBe(200);
		const departments = await req('/api/register/departments', null);
		expect(departments.status).toBe(200);
		expect(
			((await departments.json()) as { departments: unknown[] }).departments.length
		).toBeGreaterThan(3);
	});
});

describe('reading tickets', () => {
	it('replication brings exactly the visible tickets of the working set', async () => {
		const local = new PouchDB('agent-local', { adapter: 'memory' });
		await local.replicate.from(remote('tickets', agent), { batch_size: 500 });
		const ids = (await local.allDocs()).rows.map((r) => r.id).sort();
		expect(ids).toEqual(['ticket:both-1', 'ticket:center-1', 'ticket:own-1']);

		const engLocal = new PouchDB('eng-local', { adapter: 'memory' });
		await engLocal.replicate.from(remote('tickets', engineer));
		expect((await engLocal.allDocs()).rows.map((r) => r.id).sort()).toEqual([
			'ticket:both-1',
			'ticket:eng-1'
		]);
	});

	it('_changes ignores no scope: with no filter, with a client selector, with doc_ids', async () => {
		const plain = (await (await req('/sync/tickets/_changes', agent)).json()) as {
			results: { id: string }[];
		};
		expect(plain.results.map((r) => r.id)).not.toContain('ticket:eng-1');
		expect(plain.results.map((r) => r.id)).not.toContain('ticket:other-1');

		const own = await req('/sync/tickets/_changes?filter=_selector', agent, {
			method: 'POST',
			body: JSON.stringify({ selector: {} })
		});
		expect(own.status).toBe(400);
		expect((await req('/sync/tickets/_changes?filter=app/all', agent)).status).toBe(400);

		const byIds = await req('/sync/tickets/_changes?filter=_doc_ids', agent, {
			method: 'POST',
			body: JSON.stringify({ doc_ids: ['ticket:eng-1', 'ticket:other-1', 'ticket:own-1'] })
		});
		expect(
			((await byIds.json()) as { results: { id: string }[] }).results.map((r) => r.id)
		).toEqual(['ticket:own-1']);
	});

	it('GET by id, open_revs and _bulk_get serve only visible documents', async () => {
		expect((await req('/sync/tickets/ticket%3Aown-1', agent)).status).toBe(200);
		expect((await req('/sync/tickets/ticket%3Aeng-1', agent)).status).toBe(404);
		const openRevs = (await (
			await req('/sync/tickets/ticket%3Aeng-1?open_revs=all', agent)
		).json()) as object[];
		expect(openRevs.every((e) => !('ok' in e))).toBe(true);

		const bulk = await req('/sync/tickets/_bulk_get?revs=true', agent, {
			method: 'POST',
			body: JSON.stringify({ docs: [{ id: 'ticket:eng-1' }, { id: 'ticket:own-1' }] })
		});
		const body = (await bulk.json()) as {
			results: { id: string; docs: { ok?: object; error?: { error: string } }[] }[];
		};
		const byId = Object.fromEntries(body.results.map((r) => [r.id, r.docs[0]]));
		expect(byId['ticket:eng-1']?.ok).toBeUndefined();
		expect(byId['ticket:eng-1']?.error?.error).toBe('not_found');
		expect(byId['ticket:own-1']?.ok).toBeDefined();
	});

	it('refuses _all_docs, _find, _all_dbs, design documents, _security and other databases', async () => {
		const refused: [string, RequestInit?][] = [
			['/sync/tickets/_all_docs'],
			['/sync/tickets/_find', { method: 'POST', body: JSON.stringify({ selector: {} }) }],
			['/sync/_all_dbs'],
			['/sync/tickets/_design/app'],
			['/sync/tickets/_design%2Fapp'],
			['/sync/tickets/_security'],
			['/sync/users/_changes'],
			['/sync/audit/'],
			['/sync/tickets/ticket%3Aown-1/attachment.png']
		];
		for (const [path, init] of refused) {
			const res = await req(path, agent, init);
			expect([403, 404], path).toContain(res.status);
			expect(JSON.stringify(await res.json()), path).not.toContain('ticket:eng-1');
		}
	});

	it('database info reveals no counts of what others hold', async () => {
		const info = (await (await req('/sync/tickets/', agent)).json()) as Record<string, unknown>;
		expect(info.db_name).toBe('tickets');
		expect(info.doc_count).toBeUndefined();
	});
});

describe('writing tickets', () => {
	const push = (cookie: string, docs: object[]) =>
		req('/sync/tickets/_bulk_docs', cookie, {
			method: 'POST',
			body: JSON.stringify({ docs, new_edits: false })
		});

	it('accepts a new ticket the user can see with the user’s own event', async () => {
		const doc = { ...recordedTicket('new-1', 'user:agent1'), _rev: '1-aaa' };
		const res = await push(agent, [doc]);
		expect(res.status).toBe(201);
		expect(await res.json()).toEqual([]);
		expect((await server.runtime.store.db('tickets').get('ticket:new-1'))._rev).toBe('1-aaa');
	});

	it('refuses events by someone else, invisible targets, forged list fields and deletions, per document', async () => {
		const transfer: TicketEvent = {
			id: 'ev-t',
			type: 'transferred',
			at: new Date(Date.now() + 1000).toISOString(),
			by: 'user:agent1',
			toDepartmentId: 'department:engineering',
			flowId: null,
			note: ''
		};
		const res = await push(agent, [
			{ ...recordedTicket('forged-1', 'user:eng1'), _rev: '1-bbb' },
			{ ...recordedTicket('eng-1', 'user:agent1', { extra: [transfer] }), _rev: '2-ccc' },
			{
				...recordedTicket('wide-1', 'user:agent1'),
				visibleTo: ['department:center', 'department:network', 'user:agent1'],
				_rev: '1-ddd'
			},
			{ _id: 'ticket:own-1', _rev: '2-eee', _deleted: true }
		]);
		const body = (await res.json()) as { id: string; error: string }[];
		expect(body.map((r) => [r.id, r.error])).toEqual([
			['ticket:forged-1', 'forbidden'],
			['ticket:eng-1', 'forbidden'],
			['ticket:wide-1', 'forbidden'],
			['ticket:own-1', 'forbidden']
		]);
		const stored = await server.runtime.store
			.db('tickets')
			.allDocs({ keys: ['ticket:forged-1', 'ticket:wide-1'], include_docs: true });
		expect(stored.rows.every((r) => 'error' in r)).toBe(true);
	});

	it('the configuration is read-only for everyone, administrators included', async () => {
		for (const cookie of [agent, admin]) {
			const res = await req('/sync/config/_bulk_docs', cookie, {
				method: 'POST',
				body: JSON.stringify({
					docs: [{ _id: 'role:evil', _rev: '1-x', type: 'role', name: 'x', permissions: [] }],
					new_edits: false
				})
			});
			expect(res.status).toBe(403);
			expect(
				(await req('/sync/config/_revs_diff', cookie, { method: 'POST', body: '{}' })).status
			).toBe(403);
		}
	});

	it('the store itself refuses a revision that removes events (validate_doc_update)', async () => {
		const db = server.runtime.store.db<Record<string, unknown>>('tickets');
		const current = await db.get('ticket:center-1');
		await expect(
			db.insert({ ...current, events: [{ id: 'other', type: 'x', at: now(), by: 'user:x' }] })
		).rejects.toMatchObject({ statusCode: 403 });
	});
});

describe('configuration and checkpoints', () => {
	it('every signed-in user replicates the configuration, without design documents', async () => {
		const local = new PouchDB('config-local', { adapter: 'memory' });
		await local.replicate.from(remote('config', engineer));
		const ids = (await local.allDocs()).rows.map((r) => r.id);
		expect(ids).toContain('department:center');
		expect(ids).toContain('role:agent');
		expect(ids.some((id) => id.startsWith('_design/'))).toBe(false);
	});

	it('checkpoints are kept per user: another user does not see them', async () => {
		const put = await req('/sync/tickets/_local/repl-1', agent, {
			method: 'PUT',
			body: JSON.stringify({ _id: '_local/repl-1', last_seq: '42' })
		});
		expect(put.status).toBe(201);
		const mine = (await (await req('/sync/tickets/_local/repl-1', agent)).json()) as {
			last_seq: string;
			_id: string;
		};
		expect(mine).toMatchObject({ _id: '_local/repl-1', last_seq: '42' });
		expect((await req('/sync/tickets/_local/repl-1', engineer)).status).toBe(404);
	});
});

describe('configuration deletions', () => {
	it('a deleted configuration document disappears from devices too', async () => {
		const local = new PouchDB('config-deletions', { adapter: 'memory' });
		const admin = server.runtime.deps.configAdmin;
		const made = await admin.create('contentCategory', { name: '临时类别' }, 'user:admin');
		await local.replicate.from(remote('config', agent));
		expect((await local.allDocs()).rows.map((r) => r.id)).toContain(made._id);
		await admin.remove('contentCategory', made._id, made._rev!, 'user:admin');
		await local.replicate.from(remote('config', agent));
		expect((await local.allDocs()).rows.map((r) => r.id)).not.toContain(made._id);
	});
});
