import { describe, expect, it } from 'vitest';
import { buildTicket } from './ticket';
import type { TicketEvent } from './events';
import { groupTickets, isOverdue, matches, summarize, OVERDUE_HOURS } from './report';

const CENTER = 'department:center';
const NOW = Date.parse('2026-11-25T12:00:00.000Z');

function ticket(id: string, at: string, by: string, type: string, transferTo?: string) {
	const created: TicketEvent = {
		id: `${id}-0`,
		type: 'created',
		at,
		by,
		number: id,
		callerNumber: '13800138000',
		customerIds: [],
		departmentId: CENTER,
		serviceTypeId: type,
		contentCategoryId: null,
		content: '内容',
		callbackRequired: false
	};
	const next = new Date(Date.parse(at) + 1).toISOString();
	const finish: TicketEvent = transferTo
		? {
				id: `${id}-1`,
				type: 'transferred',
				at: next,
				by,
				toDepartmentId: transferTo,
				flowId: null,
				note: ''
			}
		: { id: `${id}-1`, type: 'closedAtCenter', at: next, by, note: '' };
	return buildTicket(`ticket:${id}`, [created, finish], CENTER);
}

const old = '2026-11-20T00:00:00.000Z';
const recent = '2026-11-25T11:00:00.000Z';
const tickets = [
	ticket('a', old, 'user:x', 'serviceType:repair', 'department:network'),
	ticket('b', recent, 'user:x', 'serviceType:repair', 'department:network'),
	ticket('c', recent, 'user:y', 'serviceType:inquiry')
];

describe('业务管理 filters and overdue', () => {
	it('an open ticket is overdue after the limit; a closed one never', () => {
		expect(OVERDUE_HOURS).toBe(48);
		expect(isOverdue(tickets[0]!, NOW)).toBe(true);
		expect(isOverdue(tickets[1]!, NOW)).toBe(false);
		expect(isOverdue({ ...tickets[0]!, status: 'closed' }, NOW)).toBe(false);
	});

	it('filters by status (open = anything not closed), type, agent and overdue', () => {
		const rows = tickets.map((t) => summarize(t, NOW));
		const base = {
			from: '',
			to: '',
			status: '',
			departmentId: '',
			serviceTypeId: '',
			contentCategoryId: '',
			agent: '',
			overdue: ''
		} as const;
		const ids = (q: Partial<Record<keyof typeof base, string>>) =>
			rows.filter((r) => matches(r, { ...base, ...q } as never)).map((r) => r.number);
		expect(ids({ status: 'open' })).toEqual(['a', 'b']);
		expect(ids({ status: 'closed' })).toEqual(['c']);
		expect(ids({ serviceTypeId: 'serviceType:inquiry' })).toEqual(['c']);
		expect(ids({ agent: 'user:x', overdue: '1' })).toEqual(['a']);
		expect(ids({ departmentId: 'department:network' })).toEqual(['a', 'b']);
	});
});

describe('statistics', () => {
	it('counts by service type, most first, with open/closed/overdue and how each was handled', () => {
		expect(groupTickets(tickets, 'serviceType', NOW)).toEqual([
			{
				key: 'serviceType:repair',
				total: 2,
				open: 2,
				closed: 0,
				overdue: 1,
				closedAtCenter: 0,
				transferred: 2
			},
			{
				key: 'serviceType:inquiry',
				total: 1,
				open: 0,
				closed: 1,
				overdue: 0,
				closedAtCenter: 1,
				transferred: 0
			}
		]);
	});

	it('counts by handling department and by day in the center’s time zone, in date order', () => {
		expect(groupTickets(tickets, 'department', NOW).map((r) => [r.key, r.total])).toEqual([
			['department:network', 2],
			[CENTER, 1]
		]);
		// 2026-11-20T00:00Z is already 08:00 on the 20th in China; 11:00Z on the 25th is 19:00 there.
		expect(groupTickets(tickets, 'day', NOW).map((r) => [r.key, r.total])).toEqual([
			['2026-11-20', 1],
			['2026-11-25', 2]
		]);
		expect(groupTickets(tickets, 'agent', NOW).map((r) => [r.key, r.total])).toEqual([
			['user:x', 2],
			['user:y', 1]
		]);
	});
});
