import { describe, expect, it } from 'vitest';
import { buildTicket, eventFingerprint } from '#shared/tickets/ticket';
import type { TicketEvent } from '#shared/tickets/events';
import { branchCanRead, branchSelector, refuseBranchWrite } from './access';

const EAST = 'department:east';
const CENTER = 'department:center';
const created: TicketEvent = {
	id: 'e0',
	type: 'created',
	at: '2026-01-01T00:00:00.000Z',
	by: 'user:someone-at-the-branch',
	number: 'N',
	callerNumber: '1',
	customerIds: [],
	departmentId: EAST,
	serviceTypeId: null,
	contentCategoryId: null,
	content: '',
	callbackRequired: false
};
const ticket = { ...buildTicket('ticket:t', [created], CENTER), _rev: '1-a' };
const existing = (liveRevs: string[]) => ({
	winner: ticket,
	events: new Map([[created.id, eventFingerprint(created)]]),
	liveRevs
});
const tombstone = (parent: string) => ({
	_id: 'ticket:t',
	_deleted: true,
	_rev: `2-x`,
	_revisions: { start: 2, ids: ['x', parent.split('-')[1]] }
});

describe('F29 what a branch may read and write', () => {
	it('reads accounts but not sessions, counters or design documents', () => {
		expect(branchCanRead('users', { _id: 'user:a' }, [])).toBe(true);
		expect(branchCanRead('users', { _id: 'session:abc', type: 'session' }, [])).toBe(false);
		expect(branchCanRead('users', { _id: 'counter:devices' }, [])).toBe(false);
		expect(branchCanRead('config', { _id: '_design/app' }, [])).toBe(false);
		expect(branchCanRead('tickets', ticket, [EAST])).toBe(true);
		expect(branchCanRead('tickets', ticket, ['department:west'])).toBe(false);
		expect(branchSelector('tickets', [EAST])).toEqual({
			$and: [{ visibleTo: { $elemMatch: { $in: [EAST] } } }]
		});
	});

	it('writes tickets of its scopes whose events and derived fields agree, by any of its users', () => {
		expect(refuseBranchWrite(ticket, [EAST], null, [ticket])).toBeNull();
		expect(refuseBranchWrite(ticket, ['department:west'], null, [ticket])).toMatch(/visible/);
		const forged = { ...ticket, status: 'closed' };
		expect(refuseBranchWrite(forged, [EAST], null, [forged])).toMatch(/not derived/);
		// An event the center holds arrives unchanged or not at all.
		const edited = { ...buildTicket('ticket:t', [{ ...created, content: '改过' }], CENTER) };
		expect(refuseBranchWrite(edited, [EAST], existing(['1-a']), [edited])).toBe(
			'events are never changed'
		);
	});

	it('deletes merged-away conflicts but never the last live revision of a ticket', () => {
		expect(refuseBranchWrite(tombstone('1-a'), [EAST], existing(['1-a']), [])).toMatch(/never/);
		expect(refuseBranchWrite(tombstone('1-a'), [EAST], existing(['1-a', '1-b']), [])).toBeNull();
		expect(
			refuseBranchWrite(tombstone('1-a'), ['department:west'], existing(['1-a', '1-b']), [])
		).not.toBeNull();
		expect(refuseBranchWrite({ _id: 'att:t:1', _deleted: true }, [EAST], null, [])).not.toBeNull();
	});
});
