import { describe, expect, it } from 'vitest';
import { expiredIds } from './retention';
import type { TicketDoc } from './ticket';

const DAY = 86_400_000;
const now = Date.parse('2026-11-26T08:00:00Z');
const ago = (days: number) => new Date(now - days * DAY).toISOString();
const ticket = (id: string, over: Partial<TicketDoc>): TicketDoc =>
	({
		_id: id,
		type: 'ticket',
		status: 'atDepartment',
		updatedAt: ago(30),
		workOrder: null,
		...over
	}) as TicketDoc;
const order = (finishedAt: string | null) => ({
	crewId: 'crew:a',
	from: ago(31),
	to: ago(31),
	step: finishedAt ? ('done' as const) : ('onSite' as const),
	finishedAt,
	customers: []
});

describe('F28 device retention', () => {
	it('forgets finished work orders and closed tickets after the window, with their photos', () => {
		const docs = [
			ticket('ticket:done-old', { workOrder: order(ago(30)), updatedAt: ago(30) }),
			ticket('ticket:done-recent', { workOrder: order(ago(2)), updatedAt: ago(2) }),
			ticket('ticket:open-old', { workOrder: order(null), updatedAt: ago(60) }),
			ticket('ticket:closed-old', { status: 'closed', updatedAt: ago(10) }),
			ticket('ticket:at-dept-old', { status: 'atDepartment', updatedAt: ago(100) }),
			{
				_id: 'att:ticket:done-old:1',
				type: 'att',
				ticketId: 'ticket:done-old',
				updatedAt: ago(31)
			},
			{
				_id: 'att:ticket:open-old:1',
				type: 'att',
				ticketId: 'ticket:open-old',
				updatedAt: ago(31)
			},
			{
				_id: 'att:ticket:elsewhere:1',
				type: 'att',
				ticketId: 'ticket:elsewhere',
				updatedAt: ago(9)
			}
		];
		expect(expiredIds(docs, new Set(), now).sort()).toEqual(
			[
				'ticket:done-old',
				'ticket:closed-old',
				'att:ticket:done-old:1',
				'att:ticket:elsewhere:1'
			].sort()
		);
	});

	it('never forgets what has not reached the server', () => {
		const docs = [
			ticket('ticket:done-old', { workOrder: order(ago(30)), updatedAt: ago(30) }),
			{ _id: 'att:ticket:done-old:1', type: 'att', ticketId: 'ticket:done-old', updatedAt: ago(31) }
		];
		expect(expiredIds(docs, new Set(['ticket:done-old']), now)).toEqual([]);
		expect(expiredIds(docs, new Set(['att:ticket:done-old:1']), now)).toEqual(['ticket:done-old']);
	});
});

describe('#15 a department device keeps a day of what it sees only through its department', () => {
	it('forgets others’ tickets not open at its department after a day; keeps its own, open and unsynced ones', () => {
		const holder = { userId: 'user:a1', departmentId: 'department:center' };
		const seen = (id: string, over: Partial<TicketDoc>) =>
			ticket(id, { visibleTo: ['department:center'], status: 'closed', ...over });
		const docs = [
			seen('ticket:others-old', { updatedAt: ago(2) }),
			seen('ticket:others-today', { updatedAt: ago(0.5) }),
			seen('ticket:mine-old', { updatedAt: ago(2), visibleTo: ['department:center', 'user:a1'] }),
			seen('ticket:callback-due', {
				updatedAt: ago(5),
				status: 'callback',
				departmentId: 'department:center'
			}),
			seen('ticket:at-network', {
				updatedAt: ago(2),
				status: 'atDepartment',
				departmentId: 'department:network'
			}),
			seen('ticket:unsynced', { updatedAt: ago(2) })
		];
		expect(expiredIds(docs, new Set(['ticket:unsynced']), now, undefined, holder).sort()).toEqual([
			'ticket:at-network',
			'ticket:others-old'
		]);
		// A field crew's tablet keeps its work orders until they are finished.
		expect(
			expiredIds(docs, new Set(), now, undefined, { userId: 'user:c1', departmentId: null })
		).toEqual([]);
	});
});
