/**
 * F22/F28 work orders through the real sync endpoint: a department dispatches a ticket to a crew; the crew's
 * device receives it with the customer's card, records its steps and a photo; the server refuses steps from
 * other crews, photos written in someone else's name, and serves the photo to whoever holds the ticket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PouchDB, syncRemote } from '../helpers/pouch';
import { startTestServer, type TestServer } from '../helpers/server';
import {
	attachmentVisibleTo,
	buildTicket,
	type TicketDoc
} from '../../src/lib/shared/tickets/ticket';
import type { TicketEvent } from '../../src/lib/shared/tickets/events';
import { PUSH_BATCH_SIZE } from '../../src/lib/shared/tickets/sync-limits';
import { ATTACHMENT_MAX_BASE64 } from '../../src/lib/shared/tickets/attachment';

const CENTER = 'department:center';
const INSTALL = 'department:engineering-install';
/** An 8×8 PNG. */
const PNG_BASE64 =
	'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEklEQVR4nGP4z8CAFTEMLQkAVb8/wZXw/rQAAAAASUVORK5CYII=';

let server: TestServer;
const cookies: Record<string, string> = {};
const remote = (who: string) => syncRemote<TicketDoc>(server.url, 'tickets', cookies[who]!);
let n = 0;
const at = () => new Date(Date.parse('2026-11-26T08:00:00Z') + n++ * 1000).toISOString();

async function createCrew(name: string, memberIds: string[]): Promise<string> {
	const admin = await server.signIn('admin', 'integration-admin');
	const res = await fetch(`${server.url}/api/admin/config/crew`, {
		method: 'POST',
		headers: { cookie: admin, origin: server.url, 'content-type': 'application/json' },
		body: JSON.stringify({ name, departmentId: INSTALL, memberIds })
	});
	expect(res.status).toBe(201);
	return ((await res.json()) as { item: { _id: string } }).item._id;
}

beforeAll(async () => {
	server = await startTestServer();
	cookies.agent = await server.createUser({ username: 'woagent', roleKey: 'agent' });
	cookies.clerk = await server.createUser({
		username: 'woclerk',
		roleKey: 'department',
		departmentId: INSTALL
	});
	for (const u of ['wofitter', 'wostranger']) {
		cookies[u] = await server.createUser({ username: u, roleKey: 'crew', departmentId: INSTALL });
	}
}, 30_000);
afterAll(async () => {
	await server?.close();
});

describe('F28 work orders on crew devices', () => {
	it('reach the crew, carry the customer, take the crew’s steps and photo, and refuse everyone else’s', async () => {
		const crewA = await createCrew('一队', ['user:wofitter']);
		await createCrew('二队', ['user:wostranger']);
		const agentDb = new PouchDB<TicketDoc>('wo-agent', { adapter: 'memory' });
		const events: TicketEvent[] = [
			{
				id: 'wo-0',
				type: 'created',
				at: at(),
				by: 'user:woagent',
				number: 'WO-1',
				callerNumber: '13912345678',
				customerIds: [],
				contactName: '王先生',
				departmentId: CENTER,
				serviceTypeId: 'serviceType:repair',
				contentCategoryId: null,
				content: '无信号',
				callbackRequired: true
			},
			{
				id: 'wo-1',
				type: 'transferred',
				at: at(),
				by: 'user:woagent',
				toDepartmentId: INSTALL,
				flowId: null,
				note: ''
			}
		];
		await agentDb.put(buildTicket('ticket:wo-1', events, CENTER));
		expect((await agentDb.replicate.to(remote('agent'))).doc_write_failures).toBe(0);

		// The department dispatches it to crew A.
		const clerkDb = new PouchDB<TicketDoc>('wo-clerk', { adapter: 'memory' });
		await clerkDb.replicate.from(remote('clerk'));
		const atClerk = await clerkDb.get('ticket:wo-1');
		const dispatched: TicketEvent = {
			id: 'wo-2',
			type: 'dispatched',
			at: at(),
			by: 'user:woclerk',
			crewId: crewA,
			from: '2026-11-26T09:00:00.000Z',
			to: '2026-11-26T11:00:00.000Z',
			note: '带分支器',
			customers: [
				{ id: 'contact', name: '王先生', address: '文三路 1 号', phones: ['13912345678'] }
			]
		};
		await clerkDb.put(
			buildTicket('ticket:wo-1', [...atClerk.events, dispatched], CENTER, atClerk._rev)
		);
		expect((await clerkDb.replicate.to(remote('clerk'))).doc_write_failures).toBe(0);

		// Crew A's tablet receives it with the customer's card; crew B's does not.
		const fitterDb = new PouchDB<TicketDoc>('wo-fitter', { adapter: 'memory' });
		await fitterDb.replicate.from(remote('wofitter'));
		const onTablet = await fitterDb.get('ticket:wo-1');
		expect(onTablet.workOrder).toMatchObject({
			crewId: crewA,
			step: 'dispatched',
			customers: [{ name: '王先生', address: '文三路 1 号' }]
		});
		const strangerDb = new PouchDB<TicketDoc>('wo-stranger', { adapter: 'memory' });
		await strangerDb.replicate.from(remote('wostranger'));
		expect((await strangerDb.allDocs()).rows).toHaveLength(0);

		// Crew A works it: steps and a photo (its own document plus an event).
		// Ids as the tablet makes them: att:<ticket id>:<uuid v7>.
		const attId = 'att:ticket:wo-1:01a216b7-4f4a-7305-a27d-826dde8e64cf';
		const steps: TicketEvent[] = [
			{ id: 'wo-3', type: 'workStep', at: at(), by: 'user:wofitter', step: 'accepted' },
			{ id: 'wo-4', type: 'workStep', at: at(), by: 'user:wofitter', step: 'onSite' },
			{
				id: 'wo-5',
				type: 'attached',
				at: at(),
				by: 'user:wofitter',
				attachmentId: attId,
				contentType: 'image/png'
			},
			{
				id: 'wo-6',
				type: 'workStep',
				at: at(),
				by: 'user:wofitter',
				step: 'done',
				note: '更换分支器',
				parts: '分支器 × 1',
				confirmedBy: '王先生'
			}
		];
		await fitterDb.put(
			buildTicket('ticket:wo-1', [...onTablet.events, ...steps], CENTER, onTablet._rev)
		);
		const stamp = at();
		await (fitterDb as unknown as PouchDB.Database).put({
			_id: attId,
			type: 'att',
			ticketId: 'ticket:wo-1',
			by: 'user:wofitter',
			at: stamp,
			updatedAt: stamp,
			visibleTo: ['user:wofitter', crewA],
			_attachments: { photo: { content_type: 'image/png', data: PNG_BASE64 } }
		});
		const up = await fitterDb.replicate.to(remote('wofitter'));
		expect(up.doc_write_failures).toBe(0);
		const stored = await server.runtime.store.db<TicketDoc>('tickets').get('ticket:wo-1');
		expect(stored.workOrder).toMatchObject({ step: 'done', finishedAt: steps[3]!.at });

		// The photo is served to the department that holds the ticket, and to no one else.
		const photoPath = `/api/tickets/ticket:wo-1/attachments/${encodeURIComponent(attId)}`;
		const forClerk = await fetch(server.url + photoPath, { headers: { cookie: cookies.clerk! } });
		expect(forClerk.status).toBe(200);
		expect(forClerk.headers.get('content-type')).toBe('image/png');
		expect(Buffer.from(await forClerk.arrayBuffer()).toString('base64')).toBe(PNG_BASE64);
		const forStranger = await fetch(server.url + photoPath, {
			headers: { cookie: cookies.wostranger! }
		});
		expect(forStranger.status).toBe(404);

		// Crew B cannot record steps on crew A's work order, even with the ticket in hand.
		const current = await server.runtime.store.db<TicketDoc>('tickets').get('ticket:wo-1');
		const forged = buildTicket(
			'ticket:wo-1',
			[
				...current.events,
				{
					id: 'wo-7',
					type: 'workStep',
					at: at(),
					by: 'user:wostranger',
					step: 'failed',
					reason: 'x'
				}
			],
			CENTER
		);
		const sneaky = new PouchDB<TicketDoc>('wo-sneaky', { adapter: 'memory' });
		await sneaky.put(forged);
		const refused = await sneaky.replicate.to(remote('wostranger'));
		expect(refused.doc_write_failures).toBe(1);
		expect(JSON.stringify(refused.errors)).toMatch(/not visible to you|only the crew/);

		// A photo in someone else's name, or a second file, is refused.
		const forgedPhoto = new PouchDB('wo-forged-photo', { adapter: 'memory' });
		await forgedPhoto.put({
			_id: 'att:ticket:wo-1:p2',
			type: 'att',
			ticketId: 'ticket:wo-1',
			by: 'user:woclerk',
			at: stamp,
			updatedAt: stamp,
			visibleTo: ['user:wofitter'],
			_attachments: { photo: { content_type: 'image/png', data: PNG_BASE64 } }
		});
		const photoRefused = await forgedPhoto.replicate.to(remote('wofitter'));
		expect(photoRefused.doc_write_failures).toBe(1);
		expect(JSON.stringify(photoRefused.errors)).toContain('recorded by their author only');
	});

	it('F28 a backlog of the largest photos uploads in push batches that fit the server’s body limit', async () => {
		const ticket = await server.runtime.store.db<TicketDoc>('tickets').get('ticket:wo-1');
		const tablet = new PouchDB('wo-big-photos', { adapter: 'memory' });
		// More of the largest photos the server takes than one request may carry (64 MiB).
		const bytes = Math.floor((ATTACHMENT_MAX_BASE64 * 3) / 4) - 3;
		const count = 14;
		for (let i = 0; i < count; i++) {
			const stamp = at();
			await tablet.put({
				_id: `att:ticket:wo-1:big-${i}`,
				type: 'att',
				ticketId: 'ticket:wo-1',
				by: 'user:wofitter',
				at: stamp,
				updatedAt: stamp,
				visibleTo: attachmentVisibleTo(ticket.events, 'user:wofitter', stamp),
				_attachments: {
					photo: { content_type: 'image/jpeg', data: Buffer.alloc(bytes, i).toString('base64') }
				}
			});
		}
		// All in one batch the request is too large, on every retry: the device would never sync.
		const oneBatch = await tablet.replicate.to(remote('wofitter'), { batch_size: 500 }).then(
			() => null,
			(err: { status?: number }) => err.status
		);
		expect(oneBatch).toBe(413);
		// In the devices' push batches every photo arrives.
		const up = await tablet.replicate.to(remote('wofitter'), { batch_size: PUSH_BATCH_SIZE });
		expect(up.doc_write_failures).toBe(0);
		const held = await server.runtime.store
			.db('tickets')
			.allDocs({ startkey: 'att:ticket:wo-1:big-', endkey: 'att:ticket:wo-1:big-\uffff' });
		expect(held.rows).toHaveLength(count);
		await tablet.destroy();
	}, 120_000);
});
