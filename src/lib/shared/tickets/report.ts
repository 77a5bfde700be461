/**
 * 业务管理 and 统计 (F22, F25): the filters of the ticket list, what "overdue" means, and the grouping behind
 * the statistics — one definition for the server that answers and the browser that shows and exports.
 */
import * as v from 'valibot';
import { TicketDoc, type TicketStatus } from './ticket';

/** An open ticket older than this is overdue (超时). */
export const OVERDUE_HOURS = 48;

export function isOverdue(t: Pick<TicketDoc, 'status' | 'createdAt'>, now = Date.now()): boolean {
	return t.status !== 'closed' && now - Date.parse(t.createdAt) > OVERDUE_HOURS * 3_600_000;
}

const Day = v.union([v.literal(''), v.pipe(v.string(), v.isoDate('date_invalid'))]);
const OptionalId = v.optional(v.pipe(v.string(), v.maxLength(80, 'too_long')), '');

/** The longest period a list or statistics request covers (issue #13: unbounded ranges loaded everything). */
export const MAX_RANGE_DAYS = 366;

const daysBetween = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 86_400_000;

const ListFilters = {
	from: v.optional(Day, ''),
	to: v.optional(Day, ''),
	status: v.optional(
		v.picklist(['', 'open', 'new', 'atDepartment', 'resolved', 'callback', 'closed']),
		''
	),
	departmentId: OptionalId,
	serviceTypeId: OptionalId,
	contentCategoryId: OptionalId,
	agent: OptionalId,
	overdue: v.optional(v.picklist(['', '0', '1']), '')
};

/** A period is checked as a whole: the start not after the end, at most MAX_RANGE_DAYS. */
type Period = { from: string; to: string };
const ordered = (q: Period) => !q.from || !q.to || q.from <= q.to;
const notTooLong = (q: Period) => !q.from || !q.to || daysBetween(q.from, q.to) < MAX_RANGE_DAYS;

export const TicketListQuery = v.pipe(
	v.object(ListFilters),
	v.check((q) => ordered(q), 'date_range'),
	v.check((q) => notTooLong(q), 'range_too_long')
);
export type TicketListQuery = v.InferOutput<typeof TicketListQuery>;

/** One line of the 业务管理 list. */
export const TicketSummary = v.object({
	...v.pick(TicketDoc, [
		'_id',
		'number',
		'status',
		'departmentId',
		'serviceTypeId',
		'contentCategoryId',
		'callerNumber',
		'customerIds',
		'createdAt',
		'createdBy',
		'updatedAt'
	]).entries,
	/** What the caller asked for (the `created` event's content). */
	content: v.string(),
	overdue: v.boolean()
});
export type TicketSummary = v.InferOutput<typeof TicketSummary>;

export function summarize(t: TicketDoc, now = Date.now()): TicketSummary {
	const created = t.events.find((e) => e.type === 'created');
	return {
		_id: t._id,
		number: t.number,
		status: t.status,
		departmentId: t.departmentId,
		serviceTypeId: t.serviceTypeId,
		contentCategoryId: t.contentCategoryId,
		callerNumber: t.callerNumber,
		customerIds: t.customerIds,
		createdAt: t.createdAt,
		createdBy: t.createdBy,
		updatedAt: t.updatedAt,
		content: created?.type === 'created' ? created.content : '',
		overdue: isOverdue(t, now)
	};
}

export function matches(t: TicketSummary, q: TicketListQuery): boolean {
	if (q.status === 'open' ? t.status === 'closed' : q.status && t.status !== q.status) return false;
	if (q.departmentId && t.departmentId !== q.departmentId) return false;
	if (q.serviceTypeId && t.serviceTypeId !== q.serviceTypeId) return false;
	if (q.contentCategoryId && t.contentCategoryId !== q.contentCategoryId) return false;
	if (q.agent && t.createdBy !== q.agent) return false;
	if (q.overdue === '1' && !t.overdue) return false;
	return true;
}

export const STAT_DIMENSIONS = [
	'serviceType',
	'contentCategory',
	'department',
	'agent',
	'day',
	'month'
] as const;
export type StatDimension = (typeof STAT_DIMENSIONS)[number];

export const StatDimension = v.picklist(STAT_DIMENSIONS);

/** F25: the list's filters and the dimension to count by. */
export const TicketStatsQuery = v.pipe(
	v.object({ ...ListFilters, by: v.picklist(STAT_DIMENSIONS, 'invalid') }),
	v.check((q) => ordered(q), 'date_range'),
	v.check((q) => notTooLong(q), 'range_too_long')
);

/** One row of the statistics: the tickets of one key of the dimension, counted. */
export const StatRow = v.object({
	/** An id (service type, category, department, user) or a period (2026-11-25, 2026-11); '' = none. */
	key: v.string(),
	total: v.number(),
	open: v.number(),
	closed: v.number(),
	overdue: v.number(),
	closedAtCenter: v.number(),
	transferred: v.number()
});
export type StatRow = v.InferOutput<typeof StatRow>;

const STATUS_OPEN: readonly TicketStatus[] = ['new', 'atDepartment', 'resolved', 'callback'];

/**
 * Tickets counted by one dimension. The department is where the ticket was handled: the center when it
 * was closed there, otherwise the first department it was transferred to.
 */
export function groupTickets(
	tickets: readonly TicketDoc[],
	by: StatDimension,
	now = Date.now()
): StatRow[] {
	const rows = new Map<string, StatRow>();
	for (const t of tickets) {
		const transfer = t.events.find((e) => e.type === 'transferred');
		const key =
			by === 'serviceType'
				? (t.serviceTypeId ?? '')
				: by === 'contentCategory'
					? (t.contentCategoryId ?? '')
					: by === 'department'
						? transfer?.type === 'transferred'
							? transfer.toDepartmentId
							: ((t.events.find((e) => e.type === 'created') as { departmentId?: string })
									?.departmentId ?? '')
						: by === 'agent'
							? t.createdBy
							: // Periods in the center's time zone (UTC+8), as people count days there.
								new Date(Date.parse(t.createdAt) + 8 * 3_600_000)
									.toISOString()
									.slice(0, by === 'day' ? 10 : 7);
		const row = rows.get(key) ?? {
			key,
			total: 0,
			open: 0,
			closed: 0,
			overdue: 0,
			closedAtCenter: 0,
			transferred: 0
		};
		row.total++;
		if (STATUS_OPEN.includes(t.status)) row.open++;
		else row.closed++;
		if (isOverdue(t, now)) row.overdue++;
		if (transfer) row.transferred++;
		else if (t.events.some((e) => e.type === 'closedAtCenter')) row.closedAtCenter++;
		rows.set(key, row);
	}
	return [...rows.values()].sort((a, b) =>
		by === 'day' || by === 'month' ? a.key.localeCompare(b.key) : b.total - a.total
	);
}
