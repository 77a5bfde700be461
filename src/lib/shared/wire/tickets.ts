/**
 * What the ticket routes answer (`/api/tickets`, `POST /api/devices`'s code aside): the 业务管理 list and
 * statistics (F22, F25), one ticket, and the caller's earlier tickets (F17) — whose entry is also what the
 * screen pop carries and what the entry form shows from the device's own replica, so it is built by one
 * function, `historyEntry`, wherever it comes from.
 */
import * as v from 'valibot';
import { StatDimension, StatRow, TicketSummary } from '../tickets/report';
import { TicketDoc } from '../tickets/ticket';

/** F22: the period's tickets that match the filters, at most a page of them. */
export const TicketList = v.object({
	tickets: v.array(TicketSummary),
	/** More tickets matched than were sent: the user should narrow the filters. */
	truncated: v.boolean()
});

/** F25: the period's tickets counted by one dimension. */
export const TicketStats = v.object({
	by: StatDimension,
	total: v.number(),
	rows: v.array(StatRow)
});
export type TicketStats = v.InferOutput<typeof TicketStats>;

/** One ticket as stored: a CouchDB document, which may carry fields a later version added. */
export const TicketAnswer = v.looseObject(TicketDoc.entries);

/** F17: one earlier ticket of a caller or subscriber, as the entry form and the screen pop show it. */
export const HistoryTicket = v.pick(TicketDoc, [
	'_id',
	'number',
	'status',
	'departmentId',
	'serviceTypeId',
	'contentCategoryId',
	'callerNumber',
	'createdAt',
	'createdBy',
	'events'
]);
export type HistoryTicket = v.InferOutput<typeof HistoryTicket>;

/** The history entry of a ticket: the server's look-up, the screen pop and the device's replica build it here. */
export function historyEntry(t: TicketDoc): HistoryTicket {
	return {
		_id: t._id,
		number: t.number,
		status: t.status,
		departmentId: t.departmentId,
		serviceTypeId: t.serviceTypeId,
		contentCategoryId: t.contentCategoryId,
		callerNumber: t.callerNumber,
		createdAt: t.createdAt,
		createdBy: t.createdBy,
		events: t.events
	};
}

/** F17: the earlier tickets of a caller number and of subscribers, newest first. */
export const TicketHistory = v.object({ tickets: v.array(HistoryTicket) });
