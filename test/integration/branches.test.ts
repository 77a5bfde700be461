/**
 * F29 branch offices: a center and a branch (two real servers, each with its own store) linked through a
 * TCP proxy the test can cut. Accounts and tickets reach the branch; both sides keep working while the link
 * is down; once it returns they converge with every event on both; `/replicate` lets a branch read and
 * write only what belongs to its departments.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { device, syncRemote } from '../helpers/pouch';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server';
import { BranchHealth } from '../../src/lib/shared/wire/branches';
import {
	attachmentVisibleTo,
	buildTicket,
	type TicketDoc
} from '../../src/lib/shared/tickets/ticket';
import type { TicketEvent } from '../../src/lib/shared/tickets/events';

const CENTER_DEPT = 'department:center';
const EAST = 'department:business-east';
const KEY = 'east-office-key-0123456789';
const CONVERGE_MS = 20_000;
const PIXEL_PNG =
	'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** A TCP relay between the branch and the center; `cut()` drops every connection and refuses new ones. */
async function startLinkProxy(targetUrl: string) {
	const target = new URL(targetUrl);
	const sockets = new Set<Socket>();
	let isCut = false;
	const server: Server = createServer((client) => {
		if (isCut) {
			client.destroy();
			return;
		}
		const upstream = connect(Number(target.port), target.hostname);
		sockets.add(client).add(upstream);
		const drop = () => {
			client.destroy();
			upstream.destroy();
			sockets.delete(client);
			sockets.delete(upstream);
		};
		client.on('error', drop).on('close', drop);
		upstream.on('error', drop).on('close', drop);
		client.pipe(upstream).pipe(client);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const address = server.address();
	const port = typeof address === 'object' && address ? address.port : 0;
	return {
		url: `http://127.0.0.1:${port}`,
		cut() {
			isCut = true;
			for (const s of sockets) s.destroy();
			sockets.clear();
		},
		restore() {
			isCut = false;
		},
		close: () =>
			new Promise<void>((resolve) => {
				for (const s of sockets) s.destroy();
				server.close(() => resolve());
			})
	};
}

const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

function created(id: string, by: string, departmentId: string): TicketEvent {
	return {
		id: `${id}-e0`,
		type: 'created',
		at: at(0),
		by,
		number: id,
		callerNumber: '13900000000',
		customerIds: [],
		departmentId,
		serviceTypeId: null,
		contentCategoryId: null,
		content: '报修',
		callbackRequired: true
	};
}

const transferred = (id: string, by: string, to: string): TicketEvent => ({
	id: `${id}-e1`,
	type: 'transferred',
	at: at(1),
	by,
	toDepartmentId: to,
	flowId: null,
	note: ''
});

let center: TestServer;
let branch: TestServer;
let proxy: Awaited<ReturnType<typeof startLinkProxy>>;
let hqAgent: string; // center agent's session at the center
let eastCrew: string; // a field crew of the branch's department

const centerTickets = () => center.runtime.store.db<TicketDoc>('tickets');
const branchTickets = () => branch.runtime.store.db<TicketDoc>('tickets');

/** A ticket as a store holds it: winner's events and the number of conflicts left. */
async function state(db: ReturnType<typeof centerTickets>, id: string) {
	const doc = (await db.get(id, { conflicts: true }).catch(() => null)) as
		(TicketDoc & { _conflicts?: string[] }) | null;
	return doc
		? {
				rev: doc._rev,
				conflicts: doc._conflicts?.length ?? 0,
				events: doc.events.map((e) => e.id).sort()
			}
		: null;
}

const replicate = (path: string, init: RequestInit & { key?: string } = {}) =>
	fetch(`${center.url}/replicate${path}`, {
		...init,
		headers: {
			'content-type': 'application/json',
			...(init.key === '' ? {} : { authorization: `Bearer east:${init.key ?? KEY}` })
		}
	});

async function branchesOf(server: TestServer, cookie: string) {
	const res = await fetch(`${server.url}/api/branches`, { headers: { cookie } });
	const body = (await res.json()) as Record<string, unknown>;
	// #14 an answer has the shape the administrators' page reads it with.
	if (res.ok) v.parse(BranchHealth, body);
	return { status: res.status, body };
}

beforeAll(async () => {
	center = await startTestServer({ BRANCHES: `east=${KEY}@${EAST}` });
	proxy = await startLinkProxy(center.url);
	branch = await startTestServer({ CENTER_URL: proxy.url, BRANCH_NAME: 'east', BRANCH_KEY: KEY });
	hqAgent = await center.createUser({ username: 'hqagent', roleKey: 'agent' });
});
afterAll(async () => {
	await branch?.close();
	await proxy?.close();
	await center?.close();
});

describe('F29 branch offices', () => {
	it('F29 a user created at the center signs in at the branch with the center password', async () => {
		await center.createUser({ username: 'eastclerk', roleKey: 'department', departmentId: EAST });
		await center.createUser({ username: 'eastagent', roleKey: 'agent', departmentId: EAST });
		await center.createUser({ username: 'eastfitter', roleKey: 'crew', departmentId: EAST });
		eastCrew = (
			await center.runtime.deps.configAdmin.create(
				'crew',
				{ name: '城东一队', departmentId: EAST, memberIds: ['user:eastfitter'] },
				'user:admin'
			)
		)._id;
		const users = branch.runtime.store.db('users');
		const config = branch.runtime.store.db('config');
		const held = (db: typeof users, id: string) =>
			db.get(id).then(
				() => true,
				() => false
			);
		await expect
			.poll(async () => (await held(users, 'user:eastfitter')) && held(config, eastCrew), {
				timeout: CONVERGE_MS
			})
			.toBe(true);
		expect(await branch.signIn('eastclerk', 'password-123')).toMatch(/=/);
		// The branch seeded nothing itself: its configuration is the center's.
		const seed = await branch.runtime.store.db('config').get('setting:seed');
		expect(seed._rev).toBe((await center.runtime.store.db('config').get('setting:seed'))._rev);
		expect(branch.runtime.seeded).toBe(false);

		// Devices at the branch number tickets with codes the center's devices never get.
		const code = async (server: TestServer, cookie: string) =>
			(
				(await (
					await fetch(`${server.url}/api/devices`, {
						method: 'POST',
						headers: { cookie, origin: server.url }
					})
				).json()) as { code: string }
			).code;
		const branchCode = await code(branch, await branch.signIn('eastclerk', 'password-123'));
		expect(branchCode).toMatch(/^EAST-[0-9A-Z]{3}$/);
		expect(await code(center, await center.signIn('eastclerk', 'password-123'))).toMatch(
			/^[0-9A-Z]{3}$/
		);
	});

	it('F29 a ticket transferred at the center to a branch department reaches the branch', async () => {
		const agentDb = device<TicketDoc>('hq-agent');
		const events = [
			created('br-1', 'user:hqagent', CENTER_DEPT),
			transferred('br-1', 'user:hqagent', EAST)
		];
		await agentDb.put(buildTicket('ticket:br-1', events, CENTER_DEPT));
		const up = await agentDb.replicate.to(syncRemote(center.url, 'tickets', hqAgent));
		expect(up.doc_write_failures).toBe(0);
		await expect
			.poll(() => state(branchTickets(), 'ticket:br-1'), { timeout: CONVERGE_MS })
			.toMatchObject({ events: ['br-1-e0', 'br-1-e1'] });
		expect((await branchTickets().get('ticket:br-1')).status).toBe('atDepartment');
	});

	it('F29 both sides work while the link is down and converge when it returns', async () => {
		const admin = await branch.signIn('admin', ADMIN_PASSWORD);
		const clerk = await branch.signIn('eastclerk', 'password-123');
		const eastAgent = await branch.signIn('eastagent', 'password-123');
		const clerkDb = device<TicketDoc>('east-clerk');
		const eastAgentDb = device<TicketDoc>('east-agent');
		const hqDb = device<TicketDoc>('hq-agent-2');
		await clerkDb.replicate.from(syncRemote(branch.url, 'tickets', clerk));
		await hqDb.replicate.from(syncRemote(center.url, 'tickets', hqAgent));
		await expect
			.poll(async () => ((await branchesOf(branch, admin)).body.link as { state: string }).state, {
				timeout: CONVERGE_MS
			})
			.toBe('paused');

		proxy.cut();
		// Signing in at the branch needs no center.
		expect(await branch.signIn('eastclerk', 'password-123')).toMatch(/=/);

		// At the center: the agent comments on the ticket.
		const atCenter = await hqDb.get('ticket:br-1');
		const comment: TicketEvent = {
			id: 'br-1-c',
			type: 'comment',
			at: at(10),
			by: 'user:hqagent',
			text: '客户又来电催'
		};
		await hqDb.put(
			buildTicket('ticket:br-1', [...atCenter.events, comment], CENTER_DEPT, atCenter._rev)
		);
		expect(
			(await hqDb.replicate.to(syncRemote(center.url, 'tickets', hqAgent))).doc_write_failures
		).toBe(0);

		// At the branch: the department records its handling, and an agent records a new ticket.
		const atBranch = await clerkDb.get('ticket:br-1');
		const dispatched: TicketEvent = {
			id: 'br-1-d',
			type: 'dispatched',
			at: at(11),
			by: 'user:eastclerk',
			crewId: eastCrew,
			from: at(11),
			to: at(3_600_000),
			note: '',
			customers: []
		};
		const handled: TicketEvent = {
			id: 'br-1-h',
			type: 'handled',
			at: at(12),
			by: 'user:eastclerk',
			departmentId: EAST,
			note: '已上门修复',
			nextDepartmentId: null
		};
		const branchEvents = [...atBranch.events, dispatched, handled];
		await clerkDb.put(buildTicket('ticket:br-1', branchEvents, CENTER_DEPT, atBranch._rev));
		expect(
			(await clerkDb.replicate.to(syncRemote(branch.url, 'tickets', clerk))).doc_write_failures
		).toBe(0);
		await eastAgentDb.put(
			buildTicket('ticket:br-2', [created('br-2', 'user:eastagent', EAST)], CENTER_DEPT)
		);
		expect(
			(await eastAgentDb.replicate.to(syncRemote(branch.url, 'tickets', eastAgent)))
				.doc_write_failures
		).toBe(0);

		// The crew's photo of the work order (stored as the branch's /sync stores a crew's photo).
		const photoAt = at(13);
		await branchTickets().insert({
			_id: 'att:ticket:br-1:p1',
			type: 'att',
			ticketId: 'ticket:br-1',
			by: 'user:eastfitter',
			at: photoAt,
			updatedAt: photoAt,
			visibleTo: attachmentVisibleTo(branchEvents, 'user:eastfitter', photoAt),
			_attachments: { photo: { content_type: 'image/png', data: PIXEL_PNG } }
		} as never);

		// The branch sees the link down, and neither side has the other's writes.
		await expect
			.poll(async () => ((await branchesOf(branch, admin)).body.link as { state: string }).state, {
				timeout: CONVERGE_MS
			})
			.toBe('offline');
		expect((await state(centerTickets(), 'ticket:br-1'))?.events).not.toContain('br-1-h');
		expect((await state(branchTickets(), 'ticket:br-1'))?.events).not.toContain('br-1-c');
		expect(await state(centerTickets(), 'ticket:br-2')).toBeNull();

		const restoredAt = Date.now();
		proxy.restore();
		const all = ['br-1-c', 'br-1-d', 'br-1-e0', 'br-1-e1', 'br-1-h'];
		await expect
			.poll(
				async () => {
					const [c, b] = [
						await state(centerTickets(), 'ticket:br-1'),
						await state(branchTickets(), 'ticket:br-1')
					];
					return {
						center: { conflicts: c?.conflicts, events: c?.events },
						branch: { conflicts: b?.conflicts, events: b?.events },
						sameRev: c?.rev === b?.rev,
						newTicket: (await state(centerTickets(), 'ticket:br-2'))?.events ?? null
					};
				},
				{ timeout: CONVERGE_MS, interval: 100 }
			)
			.toEqual({
				center: { conflicts: 0, events: all },
				branch: { conflicts: 0, events: all },
				sameRev: true,
				newTicket: ['br-2-e0']
			});
		console.log(`F29 converged ${Date.now() - restoredAt} ms after the link returned`);
		const { store } = center.runtime;
		await expect
			.poll(
				async () => {
					const res = await store.db('tickets').attachment('att:ticket:br-1:p1', 'photo');
					return res ? Buffer.from(await res.arrayBuffer()).toString('base64') : 404;
				},
				{ timeout: CONVERGE_MS }
			)
			.toBe(PIXEL_PNG);
		// The merged ticket is what its events say: handled by the branch, waiting for the callback.
		expect((await centerTickets().get('ticket:br-1')).status).toBe('callback');
		// The center's agent sees the branch's handling on their device.
		await hqDb.replicate.from(syncRemote(center.url, 'tickets', hqAgent));
		expect((await hqDb.get('ticket:br-1')).events.map((e) => e.id)).toContain('br-1-h');

		// The link reports itself caught up again.
		await expect
			.poll(async () => ((await branchesOf(branch, admin)).body.link as { state: string }).state, {
				timeout: CONVERGE_MS
			})
			.toBe('paused');
	});

	it('F29 accounts, passwords and configuration are changed at the center, not at a branch', async () => {
		const admin = await branch.signIn('admin', ADMIN_PASSWORD);
		const send = (method: string, path: string, body: unknown, cookie = admin) =>
			fetch(`${branch.url}${path}`, {
				method,
				headers: { cookie, origin: branch.url, 'content-type': 'application/json' },
				body: JSON.stringify(body)
			});
		const attempts = [
			await send('POST', '/api/admin/config/department', { name: '分支新部门', kind: 'branch' }),
			await send('POST', '/api/users/user:eastclerk/password-reset', {}),
			await send('PUT', '/api/users/user:eastclerk/status', { status: 'disabled' }),
			await send(
				'POST',
				'/api/session/password',
				{ currentPassword: 'password-123', newPassword: 'password-456' },
				await branch.signIn('eastclerk', 'password-123')
			),
			await send('POST', '/api/register', { username: 'eastnew', password: 'password-123' }, '')
		];
		for (const res of attempts) {
			expect(res.status).toBe(409);
			expect(((await res.json()) as { code: string }).code).toBe('managed_at_center');
		}
		// Reading still works, and nothing changed: the clerk signs in with the same password.
		const list = await fetch(`${branch.url}/api/admin/config/department`, {
			headers: { cookie: admin }
		});
		expect(list.status).toBe(200);
		expect(JSON.stringify(await list.json())).not.toContain('分支新部门');
		expect(await branch.signIn('eastclerk', 'password-123')).toMatch(/=/);
		// The center itself still manages them.
		const atCenter = await fetch(`${center.url}/api/admin/config/department`, {
			headers: { cookie: await center.signIn('admin', ADMIN_PASSWORD) }
		});
		expect(atCenter.status).toBe(200);
	});

	it('F29 the center remembers when each branch was last seen across a restart', async () => {
		const dataDir = mkdtempSync(join(tmpdir(), 'cc-seen-'));
		const env = { BRANCHES: `north=${KEY}@${EAST}`, DATA_DIR: dataDir };
		let hq = await startTestServer(env);
		try {
			const called = await fetch(`${hq.url}/replicate/tickets`, {
				headers: { authorization: `Bearer north:${KEY}` }
			});
			expect(called.status).toBe(200);
			const seenAt = async () => {
				const { body } = await branchesOf(hq, await hq.signIn('admin', ADMIN_PASSWORD));
				return (body.branches as { name: string; lastSeenAt: string | null }[])[0]!.lastSeenAt;
			};
			const before = await seenAt();
			expect(before).not.toBeNull();
			const audit = hq.runtime.store.db('audit');
			await expect
				.poll(async () => (await audit.local.get('branches-seen')) !== null, { timeout: 5_000 })
				.toBe(true);
			await hq.close();
			hq = await startTestServer(env);
			expect(await seenAt()).toBe(before);
		} finally {
			await hq.close();
			rmSync(dataDir, { recursive: true, force: true });
		}
	});

	it('F29 /replicate asks for the branch key on every request', async () => {
		expect((await replicate('/tickets', { key: '' })).status).toBe(401);
		expect((await replicate('/tickets', { key: `${KEY}x` })).status).toBe(401);
		const stranger = await fetch(`${center.url}/replicate/tickets`, {
			headers: { authorization: `Bearer west:${KEY}` }
		});
		expect(stranger.status).toBe(401);
		// A signed-in user's cookie is no branch key either.
		const withCookie = await fetch(`${center.url}/replicate/tickets`, {
			headers: { cookie: hqAgent }
		});
		expect(withCookie.status).toBe(401);
		expect((await replicate('/tickets')).status).toBe(200);
	});

	it('F29 a branch reads only its departments’ tickets and the accounts, never other databases', async () => {
		const agentDb = device<TicketDoc>('hq-agent-3');
		await agentDb.put(
			buildTicket('ticket:br-hq', [created('br-hq', 'user:hqagent', CENTER_DEPT)], CENTER_DEPT)
		);
		await agentDb.replicate.to(syncRemote(center.url, 'tickets', hqAgent));

		expect((await replicate('/tickets/ticket%3Abr-hq')).status).toBe(404);
		expect((await replicate('/tickets/ticket%3Abr-1')).status).toBe(200);
		const changes = (await (await replicate('/tickets/_changes')).json()) as {
			results: { id: string }[];
		};
		const ids = changes.results.map((r) => r.id);
		expect(ids).toEqual(expect.arrayContaining(['ticket:br-1', 'ticket:br-2']));
		expect(ids).not.toContain('ticket:br-hq');
		const bulk = (await (
			await replicate('/tickets/_bulk_get', {
				method: 'POST',
				body: JSON.stringify({ docs: [{ id: 'ticket:br-hq' }] })
			})
		).json()) as { results: { docs: ({ ok: unknown } | { error: unknown })[] }[] };
		expect(bulk.results[0]!.docs.every((d) => 'error' in d)).toBe(true);

		// Accounts without sessions or counters; no other database, no design documents, no _all_docs.
		const users = (await (await replicate('/users/_changes')).json()) as {
			results: { id: string }[];
		};
		expect(users.results.length).toBeGreaterThan(0);
		expect(users.results.every((r) => r.id.startsWith('user:'))).toBe(true);
		expect((await replicate('/audit/_changes')).status).toBe(403);
		expect((await replicate('/customers')).status).toBe(403);
		expect((await replicate('/tickets/_all_docs')).status).toBe(403);
		expect((await replicate('/tickets/_design%2Fapp')).status).toBe(403);
		expect(
			(
				await replicate('/config/_bulk_docs', {
					method: 'POST',
					body: JSON.stringify({ docs: [], new_edits: false })
				})
			).status
		).toBe(403);
	});

	it('F29 a branch writes only valid tickets visible to its departments', async () => {
		const rev = (id: string) => ({ _rev: `1-${id}`, _revisions: { start: 1, ids: [id] } });
		const network = buildTicket(
			'ticket:br-net',
			[
				created('br-net', 'user:eastagent', CENTER_DEPT),
				transferred('br-net', 'user:eastagent', 'department:network')
			],
			CENTER_DEPT
		);
		// Claiming the branch's department in visibleTo without an event that puts it there.
		const forged = { ...network, _id: 'ticket:br-forged', visibleTo: [...network.visibleTo, EAST] };
		const dispatched: TicketEvent = {
			id: 'br-ok-d',
			type: 'dispatched',
			at: at(1),
			by: 'user:eastclerk',
			crewId: eastCrew,
			from: at(1),
			to: at(3_600_000),
			note: '',
			customers: []
		};
		const valid = buildTicket(
			'ticket:br-ok',
			[created('br-ok', 'user:eastagent', EAST), dispatched],
			CENTER_DEPT
		);
		const photoAt = at(2);
		const photo = {
			_id: 'att:ticket:br-ok:p1',
			type: 'att',
			ticketId: 'ticket:br-ok',
			by: 'user:eastfitter',
			at: photoAt,
			updatedAt: photoAt,
			visibleTo: attachmentVisibleTo(valid.events, 'user:eastfitter', photoAt),
			_attachments: { photo: { content_type: 'image/png', data: PIXEL_PNG } }
		};
		const current = await centerTickets().get('ticket:br-1');
		const res = await replicate('/tickets/_bulk_docs', {
			method: 'POST',
			body: JSON.stringify({
				new_edits: false,
				docs: [
					{ ...network, ...rev('a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1') },
					{ ...forged, ...rev('b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2') },
					{ ...valid, ...rev('c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3') },
					{ ...photo, ...rev('e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5') },
					// A photo made visible to a department of the writer's choosing.
					{
						...photo,
						_id: 'att:ticket:br-ok:p2',
						visibleTo: [...photo.visibleTo, 'department:network'],
						...rev('e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6')
					},
					// A photo of a ticket of another department.
					{
						...photo,
						_id: 'att:ticket:br-net:p1',
						ticketId: 'ticket:br-net',
						visibleTo: network.visibleTo,
						...rev('f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6')
					},
					// Deleting the ticket itself, not a merged-away conflict.
					{
						_id: 'ticket:br-1',
						_deleted: true,
						_rev: `${Number(current._rev!.split('-')[0]) + 1}-d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4`,
						_revisions: {
							start: Number(current._rev!.split('-')[0]) + 1,
							ids: ['d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4', current._rev!.split('-')[1]]
						}
					}
				]
			})
		});
		expect(res.status).toBe(201);
		const results = (await res.json()) as { id: string; error?: string; reason?: string }[];
		const byId = Object.fromEntries(results.map((r) => [r.id, r]));
		expect(byId['ticket:br-net']).toMatchObject({ error: 'forbidden' });
		expect(byId['ticket:br-forged']).toMatchObject({
			error: 'forbidden',
			reason: expect.stringMatching(/not derived/)
		});
		expect(byId['ticket:br-ok']?.error).toBeUndefined();
		expect(byId['att:ticket:br-ok:p1']?.error).toBeUndefined();
		expect(byId['att:ticket:br-net:p1']).toMatchObject({ error: 'forbidden' });
		expect(byId['att:ticket:br-ok:p2']).toMatchObject({
			error: 'forbidden',
			reason: 'visibleTo of an attachment is derived from its ticket'
		});
		expect(byId['ticket:br-1']).toMatchObject({
			error: 'forbidden',
			reason: expect.stringMatching(/never deleted/)
		});
		expect(await state(centerTickets(), 'ticket:br-net')).toBeNull();
		expect((await centerTickets().get('ticket:br-1'))._rev).toBe(current._rev);
		// What the center accepted travels on to the branch, the photo with its bytes.
		const { store } = branch.runtime;
		await expect
			.poll(
				async () => {
					const res = await store.db('tickets').attachment(photo._id, 'photo');
					return res ? Buffer.from(await res.arrayBuffer()).toString('base64') : 404;
				},
				{ timeout: CONVERGE_MS }
			)
			.toBe(PIXEL_PNG);
	});

	it('#13 a branch writes events only of users it serves, with their permissions, and never deletes one', async () => {
		const before = (await centerTickets().get('ticket:br-1', { revs: true })) as TicketDoc & {
			_revisions: { start: number; ids: string[] };
		};
		const start = before._revisions.start + 1;
		const next = (events: TicketEvent[], h: string) => ({
			...buildTicket('ticket:br-1', events, CENTER_DEPT),
			_rev: `${start}-${h}`,
			_revisions: { start, ids: [h, ...before._revisions.ids] }
		});
		const byCenterAgent: TicketEvent = {
			id: 'br-1-x1',
			type: 'comment',
			at: at(0),
			by: 'user:hqagent',
			text: '分支机构替总部坐席写的'
		};
		const byFitter: TicketEvent = {
			id: 'br-1-x2',
			type: 'handled',
			at: at(0),
			by: 'user:eastfitter',
			departmentId: EAST,
			note: '施工队员不处理业务',
			nextDepartmentId: null
		};
		// A sibling revision lacking the center's events, and the deletion of the revision that has them.
		const sibling = {
			...buildTicket(
				'ticket:br-1',
				[
					...before.events.filter((e) => e.id === 'br-1-e0' || e.id === 'br-1-e1'),
					{ id: 'br-1-x3', type: 'comment', at: at(0), by: 'user:eastclerk', text: '并行修订' }
				],
				CENTER_DEPT
			),
			// A child of the ticket's first revision, beside the later ones.
			_rev: `2-f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7`,
			_revisions: {
				start: 2,
				ids: ['f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7', before._revisions.ids.at(-1)!]
			}
		};
		expect(before._revisions.start - before._revisions.ids.length + 1).toBe(1);
		const deletion = {
			_id: 'ticket:br-1',
			_deleted: true,
			_rev: `${start}-d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5`,
			_revisions: { start, ids: ['d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5', ...before._revisions.ids] }
		};
		const res = await replicate('/tickets/_bulk_docs', {
			method: 'POST',
			body: JSON.stringify({
				new_edits: false,
				docs: [
					next([...before.events, byCenterAgent], 'a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7'),
					next([...before.events, byFitter], 'b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7'),
					sibling,
					deletion
				]
			})
		});
		expect(res.status).toBe(201);
		const results = (await res.json()) as { rev?: string; reason?: string }[];
		expect(results.map((r) => [r.rev?.split('-')[1]?.slice(0, 2), r.reason ?? 'stored'])).toEqual([
			['a7', 'user:hqagent is not a user this branch serves'],
			['b7', 'recording handled needs dept.process'],
			['d5', expect.stringMatching(/^a branch never deletes events: br-1-\w+ of /)]
		]);
		// The sibling was stored and merged: every event the center held is still there, plus its comment.
		await expect
			.poll(() => state(centerTickets(), 'ticket:br-1'), { timeout: CONVERGE_MS })
			.toMatchObject({
				conflicts: 0,
				events: [...before.events.map((e) => e.id), 'br-1-x3'].sort()
			});
	});

	it('F29 /api/branches shows the center its branches and the branch its link', async () => {
		const centerAdmin = await center.signIn('admin', ADMIN_PASSWORD);
		const atCenter = await branchesOf(center, centerAdmin);
		expect(atCenter.status).toBe(200);
		const east = (atCenter.body.branches as Record<string, unknown>[])[0];
		expect(east).toMatchObject({ name: 'east', departmentIds: [EAST] });
		expect(Date.now() - Date.parse(east!.lastSeenAt as string)).toBeLessThan(60_000);
		expect(east!.tickets).toBeGreaterThanOrEqual(3); // br-1, br-2, br-ok
		expect(atCenter.body.link).toBeNull();

		const branchAdmin = await branch.signIn('admin', ADMIN_PASSWORD);
		const atBranch = await branchesOf(branch, branchAdmin);
		const link = atBranch.body.link as {
			name: string;
			replications: {
				db: string;
				direction: string;
				lastSyncAt: string | null;
				docsWritten: number;
			}[];
		};
		expect(link.name).toBe('east');
		expect(link.replications.map((r) => `${r.direction} ${r.db}`)).toEqual([
			'pull config',
			'pull users',
			'pull tickets',
			'push tickets'
		]);
		expect(link.replications.every((r) => r.lastSyncAt !== null)).toBe(true);
		expect(link.replications.find((r) => r.direction === 'push')!.docsWritten).toBeGreaterThan(0);
		expect(atBranch.body.branches).toEqual([]);

		const clerk = await branch.signIn('eastclerk', 'password-123');
		expect((await branchesOf(branch, clerk)).status).toBe(403);

		// A branch with a wrong key is refused, says so, and keeps trying.
		const stray = await startTestServer({
			CENTER_URL: center.url,
			BRANCH_NAME: 'east',
			BRANCH_KEY: `${KEY}-wrong`
		});
		try {
			await expect
				.poll(() => stray.runtime.deps.branches.link!.status().replications[0], {
					timeout: CONVERGE_MS
				})
				.toMatchObject({ state: 'error', lastError: expect.stringMatching(/^401/) });
		} finally {
			await stray.close();
		}
		await expect
			.poll(
				async () =>
					((await (await fetch(`${branch.url}/api/health`)).json()) as { branch: unknown }).branch,
				{
					timeout: CONVERGE_MS
				}
			)
			.toEqual({ servesBranches: false, link: 'paused' });
	});
});
