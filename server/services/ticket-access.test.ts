import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
	canRead,
	changesSelector,
	inSyncSet,
	refuseDeviceDeletion,
	refuseTicketRevision,
	refuseTicketWrites,
	scopeHash,
	scopesOf,
	userWriteRules,
	type HeldDoc,
	type SyncDb,
	type KnownIds,
	type WrittenDoc
} from './ticket-access';
import { buildTicket, eventFingerprint, type TicketDoc } from '#shared/tickets/ticket';
import type { TicketEvent } from '#shared/tickets/events';
import { ATTACHMENT_DAILY_BYTES, ATTACHMENT_DAILY_COUNT } from '#shared/tickets/attachment';

const user = { _id: 'user:alice', departmentId: 'department:center' };
const scopes = scopesOf(user);

describe('access rules', () => {
	it('a user’s scopes are the user and the department', () => {
		expect(scopes).toEqual(['user:alice', 'department:center']);
	});

	it('F28 a field crew member’s scopes are the user and the crews, not the whole department', () => {
		const fitter = {
			_id: 'user:bob',
			departmentId: 'department:engineering-install',
			permissions: ['workOrder.execute'],
			crewIds: ['crew:a']
		};
		expect(scopesOf(fitter)).toEqual(['user:bob', 'crew:a']);
		expect(scopesOf({ ...fitter, permissions: ['workOrder.execute', 'dept.process'] })).toEqual([
			'user:bob',
			'department:engineering-install',
			'crew:a'
		]);
	});

	it('tickets are readable when visibleTo meets a scope; design and local docs never', () => {
		expect(canRead('tickets', { _id: 'ticket:1', visibleTo: ['department:center'] }, scopes)).toBe(
			true
		);
		expect(canRead('tickets', { _id: 'ticket:2', visibleTo: ['department:network'] }, scopes)).toBe(
			false
		);
		expect(canRead('tickets', { _id: 'ticket:3' }, scopes)).toBe(false);
		expect(canRead('config', { _id: '_design/app', type: 'x' }, scopes)).toBe(false);
		expect(canRead('config', { _id: 'role:agent', type: 'role' }, scopes)).toBe(true);
	});

	it('the scope hash changes with the scopes, not with their order', () => {
		expect(scopeHash('tickets', ['a', 'b'])).toBe(scopeHash('tickets', ['b', 'a']));
		expect(scopeHash('tickets', ['a'])).not.toBe(scopeHash('tickets', ['a', 'b']));
		expect(scopeHash('tickets', ['a'])).not.toBe(scopeHash('config', ['a']));
	});

	it('the changes selector uses only visibleTo and updatedAt, bounded by the window', () => {
		expect(changesSelector('config', scopes, { now: 0, windowMs: 1 })).toEqual({
			$and: [{ $or: [{ type: { $exists: true } }, { _deleted: true }] }]
		});
		const selector = changesSelector('tickets', scopes, {
			now: Date.parse('2026-01-31T00:00:00Z'),
			windowMs: 30 * 86_400_000
		});
		expect(selector).toEqual({
			$and: [
				{ visibleTo: { $elemMatch: { $in: scopes } } },
				{ updatedAt: { $gte: '2026-01-01T00:00:00.000Z' } }
			]
		});
		const withIds = changesSelector('tickets', scopes, {
			now: 0,
			windowMs: 1,
			docIds: ['ticket:1']
		});
		expect((withIds.$and as object[]).at(-1)).toEqual({ _id: { $in: ['ticket:1'] } });
	});
});

const CENTER = 'department:center';
const NETWORK = 'department:network';
const ENGINEERING = 'department:engineering';
const known: KnownIds = {
	departments: new Set([CENTER, NETWORK, ENGINEERING]),
	crews: new Set(['crew:a', 'crew:b']),
	flows: new Set(['flow:f'])
};
const NOW = Date.parse('2026-01-02T00:00:00.000Z');
const at = (minute: number) =>
	new Date(Date.parse('2026-01-01T08:00:00.000Z') + minute * 60_000).toISOString();
const agent = {
	_id: 'user:alice',
	departmentId: CENTER,
	permissions: ['ticket.create', 'ticket.transfer', 'ticket.closeAtCenter']
};
const asUser = (
	user: { _id: string; departmentId: string; permissions: string[] },
	crewIds: string[] = []
) => userWriteRules(user, crewIds, known, NOW);

const created = (over: Partial<Extract<TicketEvent, { type: 'created' }>> = {}): TicketEvent => ({
	id: 'e0',
	type: 'created',
	at: at(0),
	by: 'user:alice',
	number: 'N1',
	callerNumber: '13800000000',
	customerIds: ['digital:1'],
	departmentId: CENTER,
	serviceTypeId: null,
	contentCategoryId: null,
	content: '无信号',
	callbackRequired: false,
	...over
});
const transferred = (id: string, minute: number, to: string, by = 'user:alice'): TicketEvent => ({
	id,
	type: 'transferred',
	at: at(minute),
	by,
	toDepartmentId: to,
	flowId: null,
	note: ''
});
const handled = (
	id: string,
	minute: number,
	by: string,
	departmentId: string,
	next: string | null
): TicketEvent => ({
	id,
	type: 'handled',
	at: at(minute),
	by,
	departmentId,
	note: '已处理',
	nextDepartmentId: next
});
const dispatched = (id: string, minute: number, crewId: string): TicketEvent => ({
	id,
	type: 'dispatched',
	at: at(minute),
	by: 'user:clerk',
	crewId,
	from: at(60),
	to: at(120),
	note: '',
	customers: []
});
const step = (id: string, minute: number, by: string): TicketEvent => ({
	id,
	type: 'workStep',
	at: at(minute),
	by,
	step: 'accepted'
});

/** A ticket revision as a device sends it, with its ancestry. */
function revision(events: TicketEvent[], rev: string, parents: string[] = []): WrittenDoc {
	const [n, hash] = rev.split('-') as [string, string];
	return {
		...buildTicket('ticket:1', events, CENTER),
		_rev: rev,
		_revisions: { start: Number(n), ids: [hash, ...parents.map((p) => p.split('-')[1]!)] }
	};
}
/** What the store holds: these live leaves. */
function held(...leaves: TicketDoc[]): HeldDoc {
	const events = new Map<string, string>();
	for (const leaf of leaves) for (const e of leaf.events) events.set(e.id, eventFingerprint(e));
	return {
		winner: leaves[0]!,
		events,
		leaves: leaves.map((leaf) => ({ rev: leaf._rev!, events: leaf.events }))
	};
}
const stored = (events: TicketEvent[], rev: string) => ({
	...buildTicket('ticket:1', events, CENTER),
	_rev: rev
});

describe('#13 ticket writes', () => {
	it('a write is refused unless the user may record its events and the list fields are derived', () => {
		const doc = revision([created()], '1-a');
		expect(refuseTicketRevision(doc, null, asUser(agent))).toBeNull();
		expect(refuseTicketRevision(doc, null, asUser({ ...agent, permissions: [] }))).toMatch(
			/needs ticket.create/
		);
		const forged = revision([created({ by: 'user:bob' })], '1-a');
		const withBob = { ...asUser(agent), scopes: [...scopes, 'user:bob'] };
		expect(refuseTicketRevision(forged, null, withBob)).toMatch(/by their author only/);
		// An event the server already holds was checked when it arrived; it must arrive unchanged.
		const onServer = held(stored([created({ by: 'user:bob' })], '1-a'));
		expect(refuseTicketRevision(forged, onServer, withBob)).toBeNull();
		const edited = revision([created({ by: 'user:bob', content: '改过' })], '1-b');
		expect(refuseTicketRevision(edited, onServer, withBob)).toBe('events are never changed');
		expect(
			refuseTicketRevision(
				{ ...doc, visibleTo: [...(doc.visibleTo as string[]), 'department:x'] },
				null,
				asUser(agent)
			)
		).toMatch(/visibleTo is not derived/);
		expect(
			refuseTicketRevision(
				doc,
				{ ...held(stored([created()], '1-a')), winner: { _id: 'ticket:1', visibleTo: [NETWORK] } },
				asUser(agent)
			)
		).toMatch(/not visible/);
		expect(refuseTicketRevision({ ...doc, events: [{ id: 'x' }] }, null, asUser(agent))).toMatch(
			/malformed/
		);
		expect(refuseTicketRevision({ ...doc, _id: 'role:x' }, null, asUser(agent))).toMatch(
			/not a ticket/
		);
		expect(
			refuseTicketWrites([{ _id: 'ticket:1', _deleted: true }], new Map(), asUser(agent), {
				refuseDeletion: refuseDeviceDeletion
			})
		).toEqual(['only the server deletes documents']);
	});

	it('#13 exactly one created event, and nothing before it — also merged with the revisions the server holds', () => {
		const original = stored([created()], '1-a');
		// A second, backdated `created` would replace number, caller, customers, creator and department.
		const hijack = created({ id: 'e-x', at: at(-60), number: 'X', callerNumber: '110' });
		const rules = asUser(agent);
		expect(
			refuseTicketRevision(revision([created(), hijack], '2-b', ['1-a']), held(original), rules)
		).toBe('a ticket has exactly one created event');
		// As a sibling revision holding only its own `created`, it would win the union-of-events merge.
		expect(refuseTicketRevision(revision([hijack], '1-z'), held(original), rules)).toBe(
			'a ticket has exactly one created event'
		);
		// Two siblings in one request, each with its own `created`.
		expect(
			refuseTicketWrites(
				[revision([created()], '1-a'), revision([hijack], '1-z')],
				new Map(),
				rules,
				{ refuseDeletion: refuseDeviceDeletion }
			)
		).toEqual([null, 'a ticket has exactly one created event']);
		const early = { ...transferred('e1', -1, NETWORK) };
		expect(refuseTicketRevision(revision([created(), early], '1-a'), null, rules)).toBe(
			'no event comes before the created event'
		);
		// Device clocks collide: an event at the very same time as `created` is fine.
		const same = { ...transferred('a-first-by-id', 0, NETWORK) };
		expect(refuseTicketRevision(revision([created(), same], '1-a'), null, rules)).toBeNull();
	});

	it('#13 departments, crews and flows named by new events exist', () => {
		const rules = asUser(agent);
		expect(
			refuseTicketRevision(
				revision([created(), transferred('e1', 1, 'department:nowhere')], '1-a'),
				null,
				rules
			)
		).toBe('event e1 names department department:nowhere, which does not exist');
		expect(
			refuseTicketRevision(
				revision(
					[created(), { ...transferred('e1', 1, NETWORK), flowId: 'flow:gone' } as TicketEvent],
					'1-a'
				),
				null,
				rules
			)
		).toMatch(/flow flow:gone, which does not exist/);
		expect(
			refuseTicketRevision(
				revision([created({ departmentId: 'department:made-up' })], '1-a'),
				null,
				rules
			)
		).toMatch(/department:made-up, which does not exist/);
		const clerk = { _id: 'user:clerk', departmentId: NETWORK, permissions: ['workOrder.dispatch'] };
		const base = [created(), transferred('e1', 1, NETWORK)];
		const onServer = held(stored(base, '2-a'));
		expect(
			refuseTicketRevision(
				revision([...base, dispatched('e2', 2, 'crew:ghost')], '3-b', ['2-a']),
				onServer,
				asUser(clerk)
			)
		).toMatch(/crew crew:ghost, which does not exist/);
		expect(
			refuseTicketRevision(
				revision([...base, dispatched('e2', 2, 'crew:a')], '3-b', ['2-a']),
				onServer,
				asUser(clerk)
			)
		).toBeNull();
	});

	it('#13 only the department that holds the ticket now records its handling', () => {
		const netUser = { _id: 'user:net1', departmentId: NETWORK, permissions: ['dept.process'] };
		const path = [
			created(),
			transferred('e1', 1, NETWORK),
			handled('e2', 2, 'user:net1', NETWORK, ENGINEERING)
		];
		const onServer = held(stored(path, '3-a'));
		// 网络部 held it once and sent it on to 工程部: it may not handle it again.
		expect(
			refuseTicketRevision(
				revision([...path, handled('e3', 3, 'user:net1', NETWORK, null)], '4-b', ['3-a']),
				onServer,
				asUser(netUser)
			)
		).toBe('only the department that holds the ticket now records its handling');
		// 工程部 holds it now.
		const engUser = { _id: 'user:eng1', departmentId: ENGINEERING, permissions: ['dept.process'] };
		expect(
			refuseTicketRevision(
				revision([...path, handled('e3', 3, 'user:eng1', ENGINEERING, null)], '4-b', ['3-a']),
				onServer,
				asUser(engUser)
			)
		).toBeNull();
		// Two devices of the holding department handling it offline at once both keep their handling.
		const atNetwork = held(stored(path.slice(0, 2), '2-a'));
		const first = revision(
			[...path.slice(0, 2), handled('h1', 3, 'user:net1', NETWORK, null)],
			'3-x',
			['2-a']
		);
		const second = revision(
			[...path.slice(0, 2), handled('h2', 4, 'user:net1', NETWORK, null)],
			'3-y',
			['2-a']
		);
		expect(
			refuseTicketWrites([first, second], new Map([['ticket:1', atNetwork]]), asUser(netUser), {
				refuseDeletion: refuseDeviceDeletion
			})
		).toEqual([null, null]);
		// Handling in another department's name.
		expect(
			refuseTicketRevision(
				revision([...path, handled('e3', 3, 'user:net1', ENGINEERING, null)], '4-b', ['3-a']),
				onServer,
				asUser(netUser)
			)
		).toBe('a department records only its own handling');
	});

	it('#13 only the crew of the latest dispatch records work steps', () => {
		const base = [created(), transferred('e1', 1, NETWORK), dispatched('e2', 2, 'crew:a')];
		const fitterA = { _id: 'user:fa', departmentId: NETWORK, permissions: ['workOrder.execute'] };
		const onServer = held(stored([...base, dispatched('e3', 3, 'crew:b')], '4-a'));
		const redispatched = [...base, dispatched('e3', 3, 'crew:b')];
		expect(
			refuseTicketRevision(
				revision([...redispatched, step('e4', 4, 'user:fa')], '5-b', ['4-a']),
				onServer,
				asUser(fitterA, ['crew:a'])
			)
		).toBe('only the crew the work order went to last records its steps');
		expect(
			refuseTicketRevision(
				revision([...redispatched, step('e4', 4, 'user:fb')], '5-b', ['4-a']),
				onServer,
				asUser({ ...fitterA, _id: 'user:fb' }, ['crew:b'])
			)
		).toBeNull();
		// No work order at all.
		expect(
			refuseTicketRevision(
				revision([created(), step('e4', 4, 'user:fa')], '2-b', ['1-a']),
				held(stored([created()], '1-a')),
				{ ...asUser(fitterA, ['crew:a']), scopes: ['user:fa', CENTER] }
			)
		).toBe('only the crew the work order went to last records its steps');
	});

	it('#13 events may be dated in the past but not beyond the server’s clock and a small skew', () => {
		const rules = { ...asUser(agent), now: Date.parse(at(10)) };
		const late = { ...transferred('e1', 14, NETWORK) }; // 4 minutes ahead: clock drift
		expect(refuseTicketRevision(revision([created(), late], '1-a'), null, rules)).toBeNull();
		const future = { ...transferred('e1', 60 * 24 * 365, NETWORK) };
		expect(refuseTicketRevision(revision([created(), future], '1-a'), null, rules)).toMatch(
			/dated in the future/
		);
		// Offline for a month: long past is fine.
		expect(
			refuseTicketRevision(revision([created()], '1-a'), null, {
				...rules,
				now: Date.parse(at(60 * 24 * 30))
			})
		).toBeNull();
	});

	it('#13 events only grow: a revision replacing a live leaf keeps every event of it', () => {
		const comment = (id: string, minute: number): TicketEvent => ({
			id,
			type: 'comment',
			at: at(minute),
			by: 'user:alice',
			text: '备注'
		});
		const onServer = held(stored([created(), comment('c1', 1), comment('c2', 2)], '3-a'));
		const rules = asUser(agent);
		expect(
			refuseTicketRevision(
				revision([created(), comment('c1', 1), comment('c3', 3)], '4-b', ['3-a']),
				onServer,
				rules
			)
		).toBe('events are never removed: c2 of 3-a is missing');
		// Deeper in the ancestry too.
		expect(
			refuseTicketRevision(
				revision([created(), comment('c3', 3)], '5-b', ['4-q', '3-a']),
				onServer,
				rules
			)
		).toMatch(/never removed/);
		// A sibling of an older revision keeps what it knew; the merge unites both.
		expect(
			refuseTicketRevision(revision([created(), comment('c3', 3)], '2-s', ['1-o']), onServer, rules)
		).toBeNull();
		expect(
			refuseTicketRevision(
				revision([created(), comment('c1', 1), comment('c2', 2), comment('c3', 3)], '4-b', ['3-a']),
				onServer,
				rules
			)
		).toBeNull();
	});

	it('#13 one event id, one content: inside a revision and across the revisions of one request', () => {
		const comment = (text: string): TicketEvent => ({
			id: 'c1',
			type: 'comment',
			at: at(1),
			by: 'user:alice',
			text
		});
		const rules = asUser(agent);
		const twice = { ...revision([created(), comment('甲')], '1-a') };
		twice.events = [...(twice.events as TicketEvent[]), comment('乙')];
		expect(refuseTicketRevision(twice, null, rules)).toBe(
			'event c1 is listed twice with different content'
		);
		const siblings = [
			revision([created(), comment('甲')], '1-a'),
			revision([created(), comment('乙')], '1-b')
		];
		expect(
			refuseTicketWrites(siblings, new Map(), rules, { refuseDeletion: refuseDeviceDeletion })
		).toEqual([null, 'event c1 differs from another revision of this ticket in the same request']);
	});

	it('#13 no files on a ticket document', () => {
		const doc = {
			...revision([created()], '1-a'),
			_attachments: { photo: { content_type: 'image/png', data: 'AAAA' } }
		};
		expect(refuseTicketRevision(doc, null, asUser(agent))).toMatch(/carries no files/);
	});
});

describe('#13 photo documents', () => {
	const fitter = { _id: 'user:fa', departmentId: NETWORK, permissions: ['workOrder.execute'] };
	const ticketEvents = [created(), transferred('e1', 1, NETWORK), dispatched('e2', 2, 'crew:a')];
	const ticket = stored(ticketEvents, '3-t');
	const onServer = new Map([[ticket._id, held(ticket)]]);
	const photo = (over: Record<string, unknown> = {}): WrittenDoc => ({
		_id: 'att:ticket:1:p1',
		_rev: '1-p',
		type: 'att',
		ticketId: 'ticket:1',
		by: 'user:fa',
		at: at(5),
		updatedAt: at(5),
		visibleTo: ['crew:a', 'user:fa'],
		_attachments: { photo: { content_type: 'image/png', data: 'iVBORw0KGgo=' } },
		...over
	});
	const check = (docs: WrittenDoc[], held = onServer, used = { count: 0, bytes: 0 }) =>
		refuseTicketWrites(docs, held, asUser(fitter, ['crew:a']), {
			refuseDeletion: refuseDeviceDeletion,
			quotaUsed: used
		});

	it('#13 visibleTo is derived from the ticket, not chosen by the writer', () => {
		expect(check([photo()])).toEqual([null]);
		expect(check([photo({ visibleTo: ['user:fa', 'crew:a', 'department:billing'] })])).toEqual([
			'visibleTo of an attachment is derived from its ticket'
		]);
		expect(check([photo({ visibleTo: ['user:fa'] })])).toEqual([
			'visibleTo of an attachment is derived from its ticket'
		]);
	});

	it('#13 the ticket exists (on the server or in the same request) and the writer may write it', () => {
		expect(check([photo()], new Map())).toEqual(['the ticket ticket:1 does not exist']);
		const fresh = revision(ticketEvents, '1-n');
		const clerk = {
			_id: 'user:fa',
			departmentId: CENTER,
			permissions: ['ticket.create', 'ticket.transfer', 'workOrder.dispatch', 'workOrder.execute']
		};
		const mixed = refuseTicketWrites(
			[
				photo(),
				{
					...fresh,
					events: (fresh.events as TicketEvent[]).map((e) => ({ ...e, by: 'user:fa' }))
				} as WrittenDoc
			],
			new Map(),
			asUser(clerk, ['crew:a']),
			{ refuseDeletion: refuseDeviceDeletion }
		);
		// The ticket was refused (its list fields no longer match), so the photo has no ticket.
		expect(mixed[1]).not.toBeNull();
		expect(mixed[0]).toBe('the ticket ticket:1 does not exist');
		const elsewhere = stored([created(), transferred('e1', 1, 'department:engineering')], '2-e');
		expect(
			check([photo({ visibleTo: ['user:fa'] })], new Map([[elsewhere._id, held(elsewhere)]]))
		).toEqual(['the ticket of this attachment is not visible to you']);
		expect(check([photo({ by: 'user:someone' })])).toEqual([
			'events and photos are recorded by their author only'
		]);
	});

	it('#13 a photo is one image file with its time, never changed', () => {
		expect(check([photo({ updatedAt: undefined })])[0]).toMatch(/carries its time/);
		expect(
			check([photo({ at: '2099-01-01T00:00:00.000Z', updatedAt: '2099-01-01T00:00:00.000Z' })])[0]
		).toMatch(/not in the future/);
		expect(
			check([photo({ _attachments: { photo: { content_type: 'text/html', data: 'PGI+' } } })])
		).toEqual(['only images are attached']);
		expect(
			check([photo({ _attachments: { photo: { content_type: 'image/png', stub: true } } })])
		).toEqual(['an attachment carries its image']);
		const existing = new Map([
			...onServer,
			[
				'att:ticket:1:p1',
				{ ...held(ticket), winner: { _id: 'att:ticket:1:p1', visibleTo: ['user:fa'] } }
			]
		]);
		expect(check([photo()], existing)).toEqual(['attachments are never changed']);
	});

	it('#13 a user stores at most the daily quota of photos, in count and in bytes', () => {
		expect(
			check([photo(), photo({ _id: 'att:ticket:1:p2' })], onServer, {
				count: ATTACHMENT_DAILY_COUNT - 1,
				bytes: 0
			})
		).toEqual([null, `daily quota reached: at most ${ATTACHMENT_DAILY_COUNT} photos a day`]);
		expect(check([photo()], onServer, { count: 0, bytes: ATTACHMENT_DAILY_BYTES - 3 })).toEqual([
			`daily quota reached: at most ${ATTACHMENT_DAILY_BYTES / 1024 / 1024} MB of photos a day`
		]);
		// A refused photo spends nothing.
		expect(
			check([photo({ visibleTo: [] }), photo({ _id: 'att:ticket:1:p2' })], onServer, {
				count: ATTACHMENT_DAILY_COUNT - 1,
				bytes: 0
			})[1]
		).toBeNull();
	});
});

describe('#15 the feed hub’s rule is the store selector’s rule', () => {
	it('inSyncSet decides every document as the Mango selector the store applies', async () => {
		const { matchesSelector } = await import('pouchdb-selector-core');
		const now = Date.parse('2026-11-30T12:00:00.000Z');
		const windowMs = 90 * 86_400_000;
		const scopeIds = ['user:alice', 'department:center', 'department:network', 'crew:a', 'x'];
		const doc = fc.record(
			{
				type: fc.constantFrom('ticket', 'att', 'department'),
				visibleTo: fc.uniqueArray(fc.constantFrom(...scopeIds), { maxLength: 3 }),
				updatedAt: fc.integer({ min: now - 2 * windowMs, max: now + 86_400_000 }),
				deleted: fc.boolean()
			},
			{ requiredKeys: ['deleted'] }
		);
		fc.assert(
			fc.property(
				doc,
				fc.uniqueArray(fc.constantFrom(...scopeIds), { minLength: 1 }),
				fc.constantFrom<SyncDb>('tickets', 'config'),
				(d, scopes, db) => {
					const stored = {
						_id: 'ticket:1',
						...(d.deleted ? { _deleted: true } : {}),
						...(d.type !== undefined ? { type: d.type } : {}),
						...(d.visibleTo !== undefined ? { visibleTo: d.visibleTo } : {}),
						...(d.updatedAt !== undefined ? { updatedAt: new Date(d.updatedAt).toISOString() } : {})
					};
					const facts = {
						deleted: d.deleted,
						...(d.type !== undefined ? { type: d.type } : {}),
						...(d.visibleTo !== undefined ? { visibleTo: d.visibleTo } : {}),
						updatedAt: d.updatedAt ?? NaN
					};
					const selector = changesSelector(db, scopes, { now, windowMs });
					expect(inSyncSet(db, facts, scopes, { now, windowMs })).toBe(
						matchesSelector(stored, selector)
					);
				}
			),
			{ numRuns: 2_000 }
		);
	});
});
