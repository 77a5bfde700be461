import { describe, expect, it } from 'vitest';
import { canRead, changesSelector, refuseTicketWrite, scopeHash, scopesOf } from './access';

const user = { _id: 'user:alice', departmentId: 'department:center' };
const scopes = scopesOf(user);

describe('access rules', () => {
	it('a user’s scopes are the user and the department', () => {
		expect(scopes).toEqual(['user:alice', 'department:center']);
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

	it('a write is refused unless the user can see the result and authored the new events', () => {
		const doc = {
			_id: 'ticket:1',
			type: 'ticket',
			visibleTo: ['user:alice'],
			events: [{ id: 'e1', by: 'user:alice' }]
		};
		expect(refuseTicketWrite(doc, user, scopes, null)).toBeNull();
		expect(
			refuseTicketWrite({ ...doc, events: [{ id: 'e1', by: 'user:bob' }] }, user, scopes, null)
		).toMatch(/author/);
		expect(
			refuseTicketWrite({ ...doc, events: [{ id: 'e1', by: 'user:bob' }] }, user, scopes, {
				readable: true,
				known: new Set(['e1'])
			})
		).toBeNull();
		expect(refuseTicketWrite(doc, user, scopes, { readable: false, known: new Set() })).toMatch(
			/not visible/
		);
		expect(refuseTicketWrite({ ...doc, visibleTo: ['department:x'] }, user, scopes, null)).toMatch(
			/would not be visible/
		);
		expect(refuseTicketWrite({ ...doc, _id: 'role:x' }, user, scopes, null)).toMatch(
			/not a ticket/
		);
		expect(refuseTicketWrite({ _id: 'ticket:1', _deleted: true }, user, scopes, null)).toMatch(
			/deletes/
		);
	});
});
