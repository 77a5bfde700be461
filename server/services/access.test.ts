import { describe, expect, it } from 'vitest';
import { canRead, changesSelector, refuseTicketWrite, scopeHash, scopesOf } from './access';
import { buildTicket, eventFingerprint } from '#shared/tickets/ticket';

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

	it('a write is refused unless the user may record its events and the list fields are derived', () => {
		const agent = { ...user, permissions: ['ticket.create', 'ticket.transfer'] };
		const created = {
			id: 'e1',
			type: 'created' as const,
			at: '2026-01-01T00:00:00.000Z',
			by: 'user:alice',
			number: 'N1',
			callerNumber: '1',
			customerIds: [],
			departmentId: 'department:center',
			serviceTypeId: null,
			contentCategoryId: null,
			content: '',
			callbackRequired: false
		};
		const doc = buildTicket('ticket:1', [created], 'department:center');
		expect(refuseTicketWrite(doc, agent, scopes, null)).toBeNull();
		expect(refuseTicketWrite(doc, { ...agent, permissions: [] }, scopes, null)).toMatch(
			/needs ticket.create/
		);
		const forged = buildTicket('ticket:1', [{ ...created, by: 'user:bob' }], 'department:center');
		expect(refuseTicketWrite(forged, agent, [...scopes, 'user:bob'], null)).toMatch(/author/);
		// An event the server already holds was checked when it arrived; it must arrive unchanged.
		const held = forged.events[0]!;
		expect(
			refuseTicketWrite(forged, agent, [...scopes, 'user:bob'], {
				readable: true,
				known: new Map([['e1', eventFingerprint(held)]])
			})
		).toBeNull();
		const edited = buildTicket(
			'ticket:1',
			[{ ...created, by: 'user:bob', content: '改过' }],
			'department:center'
		);
		expect(
			refuseTicketWrite(edited, agent, [...scopes, 'user:bob'], {
				readable: true,
				known: new Map([['e1', eventFingerprint(held)]])
			})
		).toBe('events are never changed');
		expect(
			refuseTicketWrite(
				{ ...doc, visibleTo: [...doc.visibleTo, 'department:x'] },
				agent,
				scopes,
				null
			)
		).toMatch(/visibleTo is not derived/);
		const handled = {
			id: 'e2',
			type: 'handled' as const,
			at: '2026-01-01T00:01:00.000Z',
			by: 'user:alice',
			departmentId: 'department:x',
			note: '好',
			nextDepartmentId: null
		};
		const handledDoc = buildTicket('ticket:1', [created, handled], 'department:center');
		expect(
			refuseTicketWrite(
				handledDoc,
				{ ...agent, permissions: ['ticket.create', 'dept.process'] },
				scopes,
				null
			)
		).toMatch(/its own handling/);
		expect(refuseTicketWrite(doc, agent, scopes, { readable: false, known: new Map() })).toMatch(
			/not visible/
		);
		expect(refuseTicketWrite({ ...doc, events: [{ id: 'x' }] }, agent, scopes, null)).toMatch(
			/malformed/
		);
		expect(refuseTicketWrite({ ...doc, _id: 'role:x' }, agent, scopes, null)).toMatch(
			/not a ticket/
		);
		expect(refuseTicketWrite({ _id: 'ticket:1', _deleted: true }, agent, scopes, null)).toMatch(
			/deletes/
		);
	});
});
