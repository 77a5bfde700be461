/**
 * F20/F21 through the real sync endpoint: an agent's device records and transfers a ticket, the
 * department's device receives it, records its handling and sends it back; the agent's device sees the result.
 */
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PouchDB, syncRemote } from '../helpers/pouch';
import { startTestServer, type TestServer } from '../helpers/server';
import { until } from '../helpers/until';
import { buildTicket, type TicketDoc } from '../../src/lib/shared/tickets/ticket';
import type { TicketEvent } from '../../src/lib/shared/tickets/events';
import {
	historyEntry,
	TicketAnswer,
	TicketHistory,
	TicketList,
	TicketStats
} from '../../src/lib/shared/wire/tickets';

const CENTER = 'department:center';
let server: TestServer;

function remote(cookie: string) {
	return syncRemote<TicketDoc>(server.url, 'tickets', cookie);
}

beforeAll(async () => {
	server = await startTestServer();
});
afterAll(async () => {
	await server?.close();
});

describe('a ticket travels from the center to a department and back', () => {
	it('every hop replicates and is accepted', async () => {
		const agentCookie = await server.createUser({ username: 'flowagent', roleKey: 'agent' });
		const netCookie = await server.createUser({
			username: 'flownet',
			roleKey: 'department',
			departmentId: 'department:network'
		});
		const agentDb = new PouchDB<TicketDoc>('flow-agent', { adapter: 'memory' });
		const netDb = new PouchDB<TicketDoc>('flow-net', { adapter: 'memory' });
		const t0 = Date.now();
		const created: TicketEvent = {
			id: 'f-e0',
			type: 'created',
			at: new Date(t0).toISOString(),
			by: 'user:flowagent',
			number: 'N-1',
			callerNumber: '1',
			customerIds: [],
			departmentId: CENTER,
			serviceTypeId: 'serviceType:repair',
			contentCategoryId: null,
			content: '无信号',
			callbackRequired: true
		};
		const transfer: TicketEvent = {
			id: 'f-e1',
			type: 'transferred',
			at: new Date(t0 + 1).toISOString(),
			by: 'user:flowagent',
			toDepartmentId: 'department:network',
			flowId: null,
			note: ''
		};
		await agentDb.put(buildTicket('ticket:flow-1', [created, transfer], CENTER));
		const up = await agentDb.replicate.to(remote(agentCookie));
		expect(up.doc_write_failures).toBe(0);

		await netDb.replicate.from(remote(netCookie));
		const atNet = await netDb.get('ticket:flow-1');
		expect(atNet.status).toBe('atDepartment');
		const handled: TicketEvent = {
			id: 'f-e2',
			type: 'handled',
			at: new Date(t0 + 2).toISOString(),
			by: 'user:flownet',
			departmentId: 'department:network',
			note: '已修复',
			nextDepartmentId: null
		};
		await netDb.put(buildTicket('ticket:flow-1', [...atNet.events, handled], CENTER, atNet._rev));
		const netUp = await netDb.replicate.to(remote(netCookie));
		expect(netUp.doc_write_failures).toBe(0);

		// The department's revision builds on the agent's: the store keeps it as the new winner.
		const onServer = await server.runtime.store.db<TicketDoc>('tickets').get('ticket:flow-1');
		expect(onServer).toMatchObject({ status: 'callback', _rev: expect.stringMatching(/^2-/) });
		await agentDb.replicate.from(remote(agentCookie));
		expect(await agentDb.get('ticket:flow-1')).toMatchObject({
			status: 'callback',
			departmentId: CENTER
		});
	});
});

describe('concurrent offline edits', () => {
	it('two devices edit the same ticket offline; after syncing both keep every event, no conflict left', async () => {
		const aCookie = await server.createUser({
			username: 'offa',
			roleKey: 'department',
			departmentId: 'department:billing'
		});
		const bCookie = await server.createUser({
			username: 'offb',
			roleKey: 'department',
			departmentId: 'department:billing'
		});
		const agentCookie = await server.createUser({ username: 'offagent', roleKey: 'agent' });
		const t0 = Date.now();
		const created: TicketEvent = {
			id: 'o-e0',
			type: 'created',
			at: new Date(t0).toISOString(),
			by: 'user:offagent',
			number: 'N-2',
			callerNumber: '2',
			customerIds: [],
			departmentId: CENTER,
			serviceTypeId: null,
			contentCategoryId: null,
			content: '',
			callbackRequired: false
		};
		const transfer: TicketEvent = {
			id: 'o-e1',
			type: 'transferred',
			at: new Date(t0 + 1).toISOString(),
			by: 'user:offagent',
			toDepartmentId: 'department:billing',
			flowId: null,
			note: ''
		};
		const agentDb = new PouchDB<TicketDoc>('off-agent', { adapter: 'memory' });
		await agentDb.put(buildTicket('ticket:off-1', [created, transfer], CENTER));
		await agentDb.replicate.to(remote(agentCookie));

		const devices = [
			{
				db: new PouchDB<TicketDoc>('off-a', { adapter: 'memory' }),
				cookie: aCookie,
				user: 'user:offa'
			},
			{
				db: new PouchDB<TicketDoc>('off-b', { adapter: 'memory' }),
				cookie: bCookie,
				user: 'user:offb'
			}
		];
		for (const d of devices) await d.db.replicate.from(remote(d.cookie));
		// Both offline now: each records a comment on the same revision.
		for (const [i, d] of devices.entries()) {
			const doc = await d.db.get('ticket:off-1');
			const comment: TicketEvent = {
				id: `o-c${i}`,
				type: 'comment',
				at: new Date(t0 + 10 + i).toISOString(),
				by: d.user,
				text: `备注${i}`
			};
			await d.db.put(buildTicket('ticket:off-1', [...doc.events, comment], CENTER, doc._rev));
		}
		for (const d of devices) {
			expect((await d.db.replicate.to(remote(d.cookie))).doc_write_failures).toBe(0);
		}

		const tickets = server.runtime.store.db<TicketDoc>('tickets');
		await expect
			.poll(
				async () => {
					const doc = (await tickets.get('ticket:off-1', { conflicts: true })) as TicketDoc & {
						_conflicts?: string[];
					};
					return {
						conflicts: doc._conflicts?.length ?? 0,
						events: doc.events.map((e) => e.id).sort()
					};
				},
				{ timeout: 10_000 }
			)
			.toEqual({ conflicts: 0, events: ['o-c0', 'o-c1', 'o-e0', 'o-e1'] });
		for (const d of devices) {
			await d.db.replicate.from(remote(d.cookie));
			const doc = await d.db.get('ticket:off-1');
			expect(doc.events.map((e) => e.id).sort()).toEqual(['o-c0', 'o-c1', 'o-e0', 'o-e1']);
		}
	});
});

describe('F17 caller history', () => {
	it('finds every earlier ticket of a number written in any format, for agents only', async () => {
		const agentCookie = await server.createUser({ username: 'histagent', roleKey: 'agent' });
		const crewCookie = await server.createUser({
			username: 'histcrew',
			roleKey: 'crew',
			departmentId: 'department:engineering-install'
		});
		const db = new PouchDB<TicketDoc>('hist-agent', { adapter: 'memory' });
		const written: TicketDoc[] = [];
		for (const [i, number] of ['0571-8888 1234', '+86 571 88881234'].entries()) {
			const created: TicketEvent = {
				id: `h-e${i}`,
				type: 'created',
				at: new Date(Date.now() + i).toISOString(),
				by: 'user:histagent',
				number: `H-${i}`,
				callerNumber: number,
				customerIds: [],
				departmentId: CENTER,
				serviceTypeId: null,
				contentCategoryId: null,
				content: `问题${i}`,
				callbackRequired: false
			};
			written.push(buildTicket(`ticket:hist-${i}`, [created], CENTER));
			await db.put(written.at(-1)!);
		}
		await db.replicate.to(remote(agentCookie));
		const res = await fetch(
			`${server.url}/api/tickets/history?phone=${encodeURIComponent('0086 571-88881234')}`,
			{ headers: { cookie: agentCookie } }
		);
		// #14 the answer is what the browser reads, entry for entry the one the screen pop and the device build.
		const body = v.parse(TicketHistory, await res.json());
		expect(body.tickets.map((t) => t.number)).toEqual(['H-1', 'H-0']);
		expect(body.tickets).toEqual([historyEntry(written[1]!), historyEntry(written[0]!)]);
		// #15 the server answers from its own history index, not the store's views (which it only asks while
		// the index is being built).
		const views = () => server.runtime.store.operations().tickets?.view ?? 0;
		await until(async () => {
			const before = views();
			const again = await fetch(`${server.url}/api/tickets/history?phone=057188881234`, {
				headers: { cookie: agentCookie }
			});
			const found = v.parse(TicketHistory, await again.json()).tickets.map((t) => t.number);
			return views() === before && found.join() === 'H-1,H-0';
		}, 'a history look-up answered without a view query');
		const crew = await fetch(`${server.url}/api/tickets/history?phone=057188881234`, {
			headers: { cookie: crewCookie }
		});
		expect(crew.status).toBe(403);
	});
});

describe('#15 F17 the history index keeps up with this server’s writes', () => {
	it('a ticket the server just stored is in the very next look-up, answered without a view query', async () => {
		const tickets = server.runtime.store.db<TicketDoc>('tickets');
		const { tickets: reads } = server.runtime.deps;
		const views = () => server.runtime.store.operations().tickets?.view ?? 0;
		// The index answers once it is built (at start it reads every ticket once; the views answer meanwhile).
		await until(async () => {
			const before = views();
			await reads.history({ phone: '000', limit: 1 });
			return views() === before;
		}, 'the history index built');
		const before = views();
		for (let i = 0; i < 5; i++) {
			const created: TicketEvent = {
				id: `fresh-e${i}`,
				type: 'created',
				at: new Date().toISOString(),
				by: 'user:admin',
				number: `F-${i}`,
				callerNumber: `0571 6666 100${i}`,
				customerIds: [`customer:digital:fresh-${i}`],
				departmentId: CENTER,
				serviceTypeId: null,
				contentCategoryId: null,
				content: '刚记录',
				callbackRequired: false
			};
			const doc = buildTicket(`ticket:fresh-${i}`, [created], CENTER);
			await tickets.insert(doc);
			const byPhone = await reads.history({ phone: `05716666100${i}`, limit: 10 });
			const bySubscriber = await reads.history({
				phone: '',
				customerIds: [`customer:digital:fresh-${i}`],
				limit: 10
			});
			expect(byPhone.map((t) => t.number)).toEqual([`F-${i}`]);
			expect(bySubscriber.map((t) => t.number)).toEqual([`F-${i}`]);
		}
		expect(views()).toBe(before);
	});
});

describe('F22 F25 业务管理 and statistics on the server', () => {
	const get = (path: string, cookie: string) =>
		fetch(`${server.url}${path}`, { headers: { cookie } }).then(async (r) => ({
			status: r.status,
			body: (await r.json()) as Record<string, unknown>
		}));

	it('lists and counts tickets for those allowed, and opens one ticket only for its holders', async () => {
		const leader = await server.createUser({ username: 'mgrleader', roleKey: 'leader' });
		const crew = await server.createUser({ username: 'mgrcrew', roleKey: 'crew' });
		const billing = await server.createUser({
			username: 'mgrbilling',
			roleKey: 'department',
			departmentId: 'department:billing'
		});
		const network = await server.createUser({
			username: 'mgrnetwork',
			roleKey: 'department',
			departmentId: 'department:network'
		});

		expect((await get('/api/tickets/list', crew)).status).toBe(403);
		expect((await get('/api/tickets/stats?by=agent', crew)).status).toBe(403);
		const list = await get('/api/tickets/list?serviceTypeId=serviceType%3Arepair', leader);
		expect(list.status).toBe(200);
		// #14 every answer has the shape the browser reads it with.
		const numbers = v.parse(TicketList, list.body).tickets.map((t) => t.number);
		expect(numbers).toContain('N-1');
		const bad = await get('/api/tickets/list?from=2026-02-01&to=2026-01-01', leader);
		expect(bad.status).toBe(400);

		const stats = await get('/api/tickets/stats?by=department', leader);
		const { rows } = v.parse(TicketStats, stats.body);
		expect(rows.find((r) => r.key === 'department:network')?.total).toBeGreaterThanOrEqual(1);
		// A department's own statistics count only the tickets it held.
		const own = await get('/api/tickets/stats?by=department', billing);
		expect(own.status).toBe(200);
		expect(v.parse(TicketStats, own.body).rows.map((r) => r.key)).not.toContain(
			'department:network'
		);
		expect((await get('/api/tickets/stats?by=nothing', leader)).status).toBe(400);

		const one = await get('/api/tickets/ticket%3Aflow-1', network);
		expect(one.status).toBe(200);
		expect(v.parse(TicketAnswer, one.body)._id).toBe('ticket:flow-1');
		expect((await get('/api/tickets/ticket%3Aflow-1', leader)).status).toBe(200);
		expect((await get('/api/tickets/ticket%3Aflow-1', billing)).status).toBe(404);
	});
});
