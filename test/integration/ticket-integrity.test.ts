/**
 * Issue #13, ticket event integrity: each rule `/sync` enforces on ticket and photo writes, tried as an
 * attacker would — a signed-in user's `_bulk_docs` with `new_edits: false`, exactly as PouchDB sends it —
 * and refused with its reason, the stored ticket unchanged and no event lost. Beside each attack, the
 * honest write it must not get in the way of.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';
import {
	attachmentVisibleTo,
	buildTicket,
	type TicketDoc
} from '../../src/lib/shared/tickets/ticket';
import type { TicketEvent } from '../../src/lib/shared/tickets/events';
import {
	ATTACHMENT_DAILY_BYTES,
	ATTACHMENT_DAILY_COUNT
} from '../../src/lib/shared/tickets/attachment';

const CENTER = 'department:center';
const NETWORK = 'department:network';
const ENGINEERING = 'department:engineering';
const INSTALL = 'department:engineering-install';
/** An 8×8 PNG. */
const PNG =
	'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEklEQVR4nGP4z8CAFTEMLQkAVb8/wZXw/rQAAAAASUVORK5CYII=';

let server: TestServer;
const cookies: Record<string, string> = {};
const crews: Record<string, string> = {};

type Stored = TicketDoc & { _revisions: { start: number; ids: string[] }; _conflicts?: string[] };
type Result = { id: string; rev?: string; error?: string; reason?: string };

const tickets = () => server.runtime.store.db<TicketDoc>('tickets');
const hash = () => randomBytes(16).toString('hex');
const t0 = Date.now() - 3_600_000;
let clock = 0;
/** Event times in the past, always later than the one before. */
const next = () => new Date(t0 + ++clock * 1000).toISOString();
const eventId = () => `ev-${hash().slice(0, 12)}`;

/** The user's `/sync/tickets/_bulk_docs`, as PouchDB's replicator sends it; the store's answer. */
async function push(who: string, docs: object[]): Promise<Result[]> {
	const res = await fetch(`${server.url}/sync/tickets/_bulk_docs`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', cookie: cookies[who]! },
		body: JSON.stringify({ docs, new_edits: false })
	});
	expect(res.status).toBe(201);
	return (await res.json()) as Result[];
}

const current = (id: string) =>
	tickets().get(id, { revs: true, conflicts: true }) as Promise<Stored>;

/** A new revision on top of the server's winner (or of `parent`), as a device writes it. */
function child(parent: Stored, events: TicketEvent[], extra: object = {}) {
	const h = hash();
	const start = parent._revisions.start + 1;
	return {
		...buildTicket(parent._id, events, CENTER),
		_rev: `${start}-${h}`,
		_revisions: { start, ids: [h, ...parent._revisions.ids] },
		...extra
	};
}

/** A first revision, as a device that recorded the ticket pushes it. */
function first(id: string, events: TicketEvent[]) {
	const h = hash();
	return {
		...buildTicket(id, events, CENTER),
		_rev: `1-${h}`,
		_revisions: { start: 1, ids: [h] }
	};
}

/** What must not change when a write is refused: the revisions, the conflicts and every event. */
async function snapshot(id: string) {
	const doc = await current(id);
	return { rev: doc._rev, conflicts: doc._conflicts ?? [], events: doc.events };
}

/** An honest write: every document accepted. */
async function accepted(who: string, docs: object[]) {
	expect(await push(who, docs)).toEqual([]);
}

async function append(who: string, id: string, ...events: TicketEvent[]) {
	const doc = await current(id);
	await accepted(who, [child(doc, [...doc.events, ...events])]);
}

const created = (
	by: string,
	number: string,
	at = next()
): Extract<TicketEvent, { type: 'created' }> => ({
	id: eventId(),
	type: 'created',
	at,
	by,
	number,
	callerNumber: '13800001111',
	customerIds: ['digital:1001'],
	departmentId: CENTER,
	serviceTypeId: null,
	contentCategoryId: null,
	content: '无信号',
	callbackRequired: false
});
const transferred = (by: string, to: string, flowId: string | null = null): TicketEvent => ({
	id: eventId(),
	type: 'transferred',
	at: next(),
	by,
	toDepartmentId: to,
	flowId,
	note: ''
});
const handled = (by: string, departmentId: string, nextId: string | null): TicketEvent => ({
	id: eventId(),
	type: 'handled',
	at: next(),
	by,
	departmentId,
	note: '已处理',
	nextDepartmentId: nextId
});
const dispatched = (crewId: string): TicketEvent => ({
	id: eventId(),
	type: 'dispatched',
	at: next(),
	by: 'user:ticlerk',
	crewId,
	from: next(),
	to: next(),
	note: '',
	customers: []
});
const comment = (by: string, text: string, at = next(), id = eventId()): TicketEvent => ({
	id,
	type: 'comment',
	at,
	by,
	text
});

/** A photo document as the tablet writes it (`attachPhoto`). */
function photo(by: string, ticket: TicketDoc, extra: object = {}) {
	const at = next();
	const h = hash();
	return {
		_id: `att:${ticket._id}:${hash()}`,
		_rev: `1-${h}`,
		_revisions: { start: 1, ids: [h] },
		type: 'att',
		ticketId: ticket._id,
		by,
		at,
		updatedAt: at,
		visibleTo: attachmentVisibleTo(ticket.events, by, at),
		_attachments: { photo: { content_type: 'image/png', data: PNG } },
		...extra
	};
}

/** A ticket recorded at the center and transferred to `to`, as the agent's device pushes it. */
async function recorded(number: string, to: string | null = null): Promise<string> {
	const id = `ticket:${number}`;
	const events: TicketEvent[] = [created('user:tiagent', number)];
	if (to) events.push(transferred('user:tiagent', to));
	await accepted('tiagent', [first(id, events)]);
	return id;
}

beforeAll(async () => {
	server = await startTestServer();
	const users: [string, string, string][] = [
		['tiagent', 'agent', CENTER],
		['tirival', 'agent', CENTER],
		['tinet', 'department', NETWORK],
		['tieng', 'department', ENGINEERING],
		['ticlerk', 'department', INSTALL],
		['tifa', 'crew', INSTALL],
		['tifb', 'crew', INSTALL],
		['tiquota', 'crew', INSTALL]
	];
	for (const [username, roleKey, departmentId] of users) {
		cookies[username] = await server.createUser({ username, roleKey, departmentId });
	}
	for (const [name, member] of [
		['A', 'user:tifa'],
		['B', 'user:tifb'],
		['Q', 'user:tiquota']
	] as const) {
		const crew = await server.runtime.deps.configAdmin.create(
			'crew',
			{ name: `完整性${name}队`, departmentId: INSTALL, memberIds: [member] },
			'user:admin'
		);
		crews[name] = crew._id;
	}
}, 60_000);
afterAll(async () => {
	await server?.close();
});

describe('#13 ticket events through /sync', () => {
	it('#13 a second, backdated created event cannot take over a ticket, as a child or a sibling revision', async () => {
		const id = await recorded('TI-1');
		const before = await snapshot(id);
		const doc = await current(id);
		const hijack: TicketEvent = {
			...created('user:tirival', 'EVIL-1', new Date(t0 - 86_400_000).toISOString()),
			callerNumber: '110',
			customerIds: []
		};
		const results = await push('tirival', [
			child(doc, [...doc.events, hijack]),
			first(id, [hijack])
		]);
		expect(results.map((r) => r.reason)).toEqual([
			'a ticket has exactly one created event',
			'a ticket has exactly one created event'
		]);
		expect(await snapshot(id)).toEqual(before);
		expect(await tickets().get(id)).toMatchObject({
			number: 'TI-1',
			callerNumber: '13800001111',
			customerIds: ['digital:1001'],
			createdBy: 'user:tiagent',
			departmentId: CENTER
		});
	});

	it('#13 events naming departments, crews or flows that do not exist are refused', async () => {
		const id = await recorded('TI-2');
		const before = await snapshot(id);
		const doc = await current(id);
		const nowhere = transferred('user:tiagent', 'department:nowhere');
		const noFlow = transferred('user:tiagent', NETWORK, 'flow:nowhere');
		const results = await push('tiagent', [
			child(doc, [...doc.events, nowhere]),
			child(doc, [...doc.events, noFlow])
		]);
		expect(results.map((r) => r.reason)).toEqual([
			`event ${nowhere.id} names department department:nowhere, which does not exist`,
			`event ${noFlow.id} names flow flow:nowhere, which does not exist`
		]);
		expect(await snapshot(id)).toEqual(before);
		expect((await tickets().get(id)).visibleTo).toEqual([CENTER, 'user:tiagent']);
		// A department that exists is fine.
		await append('tiagent', id, transferred('user:tiagent', NETWORK));
		expect((await tickets().get(id)).departmentId).toBe(NETWORK);
	});

	it('#13 a department that once held a ticket cannot handle it after it moved on', async () => {
		const id = await recorded('TI-3', NETWORK);
		await append('tinet', id, handled('user:tinet', NETWORK, ENGINEERING));
		const before = await snapshot(id);
		const doc = await current(id);
		const again = await push('tinet', [
			child(doc, [...doc.events, handled('user:tinet', NETWORK, null)])
		]);
		expect(again.map((r) => r.reason)).toEqual([
			'only the department that holds the ticket now records its handling'
		]);
		expect(await snapshot(id)).toEqual(before);
		expect(await tickets().get(id)).toMatchObject({
			status: 'atDepartment',
			departmentId: ENGINEERING
		});
		// The department that holds it now handles it.
		await append('tieng', id, handled('user:tieng', ENGINEERING, null));
		expect((await tickets().get(id)).status).toBe('closed');
	});

	it('#13 a crew of an earlier dispatch cannot record steps on the work order', async () => {
		const id = await recorded('TI-4', INSTALL);
		await append('ticlerk', id, dispatched(crews.A!));
		await append('ticlerk', id, dispatched(crews.B!));
		const before = await snapshot(id);
		const doc = await current(id);
		const step: TicketEvent = {
			id: eventId(),
			type: 'workStep',
			at: next(),
			by: 'user:tifa',
			step: 'failed',
			reason: '客户不在家'
		};
		expect((await push('tifa', [child(doc, [...doc.events, step])])).map((r) => r.reason)).toEqual([
			'only the crew the work order went to last records its steps'
		]);
		expect(await snapshot(id)).toEqual(before);
		expect((await tickets().get(id)).workOrder).toMatchObject({
			crewId: crews.B,
			step: 'dispatched'
		});
		await append('tifb', id, { ...step, id: eventId(), by: 'user:tifb', at: next() });
		expect((await tickets().get(id)).workOrder).toMatchObject({ crewId: crews.B, step: 'failed' });
	});

	it('#13 an event dated in the future is refused; one recorded offline days ago is accepted', async () => {
		const id = 'ticket:TI-5';
		const days = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();
		// Recorded offline three days ago, commented two days ago, pushed now.
		await accepted('tiagent', [
			first(id, [
				created('user:tiagent', 'TI-5', days(-3)),
				comment('user:tiagent', '离线', days(-2))
			])
		]);
		const before = await snapshot(id);
		const doc = await current(id);
		const future = comment('user:tiagent', '明天', days(1));
		expect((await push('tiagent', [child(doc, [...doc.events, future])]))[0]?.reason).toBe(
			`event ${future.id} is dated in the future (${future.at})`
		);
		expect(await snapshot(id)).toEqual(before);
		// The ticket stays out of working sets once its time has passed.
		expect((await tickets().get(id)).updatedAt).toBe(doc.events.at(-1)!.at);
	});

	it('#13 a revision that drops events is refused, also with the live revision deeper in its ancestry', async () => {
		const id = await recorded('TI-6');
		await append('tiagent', id, comment('user:tiagent', '一'));
		await append('tiagent', id, comment('user:tiagent', '二'));
		const before = await snapshot(id);
		const doc = await current(id);
		const kept = doc.events.slice(0, -1);
		const dropped = doc.events.at(-1)!;
		// A made-up intermediate revision hides the live one from the store's own check (parent only).
		const h = hash();
		const hidden = {
			...buildTicket(id, [...kept, comment('user:tiagent', '三')], CENTER),
			_rev: `${doc._revisions.start + 2}-${h}`,
			_revisions: { start: doc._revisions.start + 2, ids: [h, hash(), ...doc._revisions.ids] }
		};
		const results = await push('tiagent', [child(doc, kept), hidden]);
		expect(results.map((r) => r.reason)).toEqual([
			`events are never removed: ${dropped.id} of ${doc._rev} is missing`,
			`events are never removed: ${dropped.id} of ${doc._rev} is missing`
		]);
		expect(await snapshot(id)).toEqual(before);
	});

	it('#13 one event id with two contents is refused, in one revision and between sibling revisions of one request', async () => {
		const id = await recorded('TI-7');
		const doc = await current(id);
		const before = await snapshot(id);
		const shared = eventId();
		const at = next();
		const twice = child(doc, [...doc.events, comment('user:tiagent', '甲', at, shared)]);
		twice.events = [...twice.events, comment('user:tiagent', '乙', at, shared)];
		expect((await push('tiagent', [twice]))[0]?.reason).toBe(
			`event ${shared} is listed twice with different content`
		);
		expect(await snapshot(id)).toEqual(before);
		// Two siblings in one request: the first is stored, the second would jam the resolver.
		const siblings = await push('tiagent', [
			child(doc, [...doc.events, comment('user:tiagent', '甲', at, shared)]),
			child(doc, [...doc.events, comment('user:tiagent', '乙', at, shared)])
		]);
		expect(siblings.map((r) => r.reason)).toEqual([
			`event ${shared} differs from another revision of this ticket in the same request`
		]);
		const after = await current(id);
		expect(after._conflicts).toBeUndefined();
		expect(after.events.map((e) => e.id)).toEqual([...before.events.map((e) => e.id), shared]);
		expect(after.events.find((e) => e.id === shared)).toMatchObject({ text: '甲' });
	});
});

describe('#13 photo documents through /sync', () => {
	it('#13 visibleTo comes from the ticket; the ticket exists and is the writer’s; tickets carry no files', async () => {
		const id = await recorded('TI-8', INSTALL);
		await append('ticlerk', id, dispatched(crews.B!));
		const ticket = await current(id);
		const honest = photo('user:tifb', ticket);
		expect(honest.visibleTo).toEqual([crews.B, 'user:tifb'].sort());
		const wider = photo('user:tifb', ticket, {
			visibleTo: [...honest.visibleTo, 'department:billing']
		});
		const orphan = photo('user:tifb', ticket, {
			_id: 'att:ticket:none:p1',
			ticketId: 'ticket:none'
		});
		const centerTicket = await current(await recorded('TI-9'));
		const foreign = photo('user:tifb', centerTicket, { visibleTo: ['user:tifb'] });
		const results = await push('tifb', [honest, wider, orphan, foreign]);
		expect(results.map((r) => [r.id, r.reason])).toEqual([
			[wider._id, 'visibleTo of an attachment is derived from its ticket'],
			[orphan._id, 'the ticket ticket:none does not exist'],
			[foreign._id, 'the ticket of this attachment is not visible to you']
		]);
		const held = await tickets().allDocs({
			keys: [honest._id, wider._id, orphan._id, foreign._id],
			include_docs: true
		});
		expect(held.rows.map((r) => ('error' in r ? r.error : 'stored'))).toEqual([
			'stored',
			'not_found',
			'not_found',
			'not_found'
		]);

		// A file on the ticket document itself.
		const before = await snapshot(centerTicket._id);
		const withFile = child(centerTicket, centerTicket.events, {
			_attachments: { photo: { content_type: 'image/png', data: PNG } }
		});
		expect((await push('tiagent', [withFile]))[0]?.reason).toBe(
			'a ticket carries no files: a photo is its own document'
		);
		expect(await snapshot(centerTicket._id)).toEqual(before);
	});

	it('#13 a user’s photos beyond the daily quota are refused with the reason', async () => {
		const id = await recorded('TI-10', INSTALL);
		await append('ticlerk', id, dispatched(crews.Q!));
		const ticket = await current(id);
		for (let sent = 0; sent < ATTACHMENT_DAILY_COUNT; sent += 100) {
			await accepted(
				'tiquota',
				Array.from({ length: 100 }, () => photo('user:tiquota', ticket))
			);
		}
		const over = photo('user:tiquota', ticket);
		expect((await push('tiquota', [over])).map((r) => r.reason)).toEqual([
			`daily quota reached: at most ${ATTACHMENT_DAILY_COUNT} photos a day`
		]);
		const held = await tickets().allDocs({ startkey: `att:${id}:`, endkey: `att:${id}:\uffff` });
		expect(held.rows).toHaveLength(ATTACHMENT_DAILY_COUNT);

		// In bytes: another crew member who already stored nearly the day's bytes (as the ledger says).
		const audit = server.runtime.store.db('audit');
		const ledger = 'attachment-quota:user:tifb';
		const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
		const found = await audit.local.get(ledger);
		const put = await audit.local.put(ledger, {
			day: today,
			count: 1,
			bytes: ATTACHMENT_DAILY_BYTES - 10,
			...(found ? { _rev: found._rev } : {})
		});
		expect(put.rev).toBeTruthy();
		const other = await recorded('TI-11', INSTALL);
		await append('ticlerk', other, dispatched(crews.B!));
		const big = photo('user:tifb', await current(other));
		expect((await push('tifb', [big])).map((r) => r.reason)).toEqual([
			`daily quota reached: at most ${ATTACHMENT_DAILY_BYTES / 1024 / 1024} MB of photos a day`
		]);
		expect((await tickets().allDocs({ keys: [big._id] })).rows[0]).toMatchObject({
			error: 'not_found'
		});
	});
});
