/**
 * Ticket reads outside a device's working set (DESIGN.md: bounded working sets): lists and statistics of a
 * period, every earlier ticket of a caller number or subscriber (F17), one ticket and its photos to those
 * who may read it. Tickets are written by devices through `/sync` (ticket-access.ts checks every write);
 * nothing here writes.
 */
import type { TicketDoc } from '#shared/tickets/ticket';
import { historyEntry, type HistoryTicket } from '#shared/wire/tickets';
import {
	MAX_RANGE_DAYS,
	groupTickets,
	matches,
	summarize,
	type StatDimension,
	type TicketListQuery
} from '#shared/tickets/report';
import { AppError } from '../errors';
import type { Store } from '../store';
import type { UserDoc } from './accounts';
import { canRead, scopesOf } from './ticket-access';
import type { ConfigAdmin } from './config-admin';
import type { TicketHistory } from './ticket-history';

/** Tickets one list or statistics request may load; a busier period must be narrowed (issue #13). */
export const RANGE_MAX_DOCS = 50_000;
const LIST_LIMIT = 2000;
/** Those who see every ticket: they manage tickets, supervise the center or read its statistics. */
const MANAGERS = ['ticket.manage', 'supervise', 'stats.view'];

/** Days are the center's (China Standard Time, UTC+8). */
const dayStart = (day: string) => new Date(`${day}T00:00:00.000+08:00`).toISOString();
const dayEnd = (day: string) => new Date(`${day}T23:59:59.999+08:00`).toISOString();

export function createTicketReads({
	store,
	configAdmin,
	history
}: {
	store: Store;
	configAdmin: Pick<ConfigAdmin, 'crewsOf'>;
	/** The server's history index; without it (or while it is built) the store's views answer. */
	history?: Pick<TicketHistory, 'find'>;
}) {
	const tickets = store.db<TicketDoc>('tickets');

	/**
	 * Tickets created in a date range (default: the last 7 days), newest first: at most MAX_RANGE_DAYS and
	 * RANGE_MAX_DOCS tickets, or a validation error telling the user to narrow the period.
	 */
	async function inRange(q: TicketListQuery): Promise<TicketDoc[]> {
		const to = q.to || new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
		const from = q.from || new Date(Date.parse(to) - 6 * 86_400_000).toISOString().slice(0, 10);
		const refuse = (code: string, message: string) =>
			new AppError('validation', 400, message, { field: 'from', issues: { from: code } });
		if (from > to) throw refuse('date_range', 'The start date is after the end date');
		if ((Date.parse(to) - Date.parse(from)) / 86_400_000 >= MAX_RANGE_DAYS) {
			throw refuse('range_too_long', `A period is at most ${MAX_RANGE_DAYS} days`);
		}
		const res = await tickets.view('tickets_by_created', {
			startkey: dayEnd(to),
			endkey: dayStart(from),
			descending: true,
			include_docs: true,
			limit: RANGE_MAX_DOCS + 1
		});
		if (res.rows.length > RANGE_MAX_DOCS) {
			throw refuse('range_too_many', `More than ${RANGE_MAX_DOCS} tickets in this period`);
		}
		return res.rows.flatMap((r) => (r.doc ? [r.doc] : []));
	}

	/**
	 * The ticket, if this user holds it (its scopes) or manages tickets.
	 * @throws AppError 404 otherwise, whether it exists or not
	 */
	async function readable(user: UserDoc, id: string): Promise<TicketDoc> {
		if (!id.startsWith('ticket:')) throw new AppError('not_found', 404, 'No such ticket');
		const doc = await tickets.get(id).catch(() => null);
		const manager = MANAGERS.some((p) => user.permissions.includes(p));
		const scopes = manager
			? []
			: scopesOf({ ...user, crewIds: await configAdmin.crewsOf(user._id) });
		if (!doc || (!manager && !canRead('tickets', doc, scopes))) {
			throw new AppError('not_found', 404, 'No such ticket');
		}
		return doc;
	}

	return {
		readable,

		/** F22 业务管理: the period's tickets that match the filters, as list rows. @throws AppError 400 */
		async list(q: TicketListQuery) {
			const now = Date.now();
			const rows = (await inRange(q)).map((t) => summarize(t, now)).filter((t) => matches(t, q));
			return { tickets: rows.slice(0, LIST_LIMIT), truncated: rows.length > LIST_LIMIT };
		},

		/**
		 * F25: the period's tickets counted by one dimension — all of them for `stats.view`, otherwise those
		 * of the user's department (`dept.stats`). @throws AppError 400
		 */
		async stats(user: UserDoc, q: TicketListQuery, by: StatDimension) {
			const now = Date.now();
			const found = (await inRange(q))
				.filter(
					(t) => user.permissions.includes('stats.view') || t.visibleTo.includes(user.departmentId)
				)
				.filter((t) => matches(summarize(t, now), q));
			return { by, total: found.length, rows: groupTickets(found, by, now) };
		},

		/**
		 * F17: the tickets of a caller number (normalised, at least 3 digits) and of subscribers, each at
		 * most once, newest first, as history entries; at most `limit` per number or subscriber.
		 */
		async history({
			phone,
			customerIds = [],
			limit
		}: {
			phone: string;
			customerIds?: string[];
			limit: number;
		}): Promise<HistoryTicket[]> {
			const indexed = await history?.find({ phone, customerIds, limit });
			if (indexed) return indexed;
			const lookups = [
				...(phone.length >= 3
					? [tickets.view('tickets_by_caller', { key: phone, include_docs: true, limit })]
					: []),
				...(customerIds.length > 0
					? [
							tickets.view('tickets_by_customer', {
								keys: customerIds,
								include_docs: true,
								limit
							})
						]
					: [])
			];
			const byId = new Map<string, TicketDoc>();
			for (const r of await Promise.all(lookups)) {
				for (const row of r.rows) if (row.doc) byId.set(row.doc._id, row.doc);
			}
			return [...byId.values()]
				.sort((a, b) => b.createdAt.localeCompare(a.createdAt))
				.map(historyEntry);
		},

		/**
		 * A photo of a ticket the user may read (F28), streamed, with the type it was stored as.
		 * @throws AppError 404
		 */
		async photo(
			user: UserDoc,
			ticketId: string,
			attId: string
		): Promise<{ body: ReadableStream<Uint8Array>; contentType: string | null }> {
			const ticket = await readable(user, ticketId);
			if (!attId.startsWith(`att:${ticket._id}:`)) {
				throw new AppError('not_found', 404, 'No such attachment');
			}
			// The tablet names every attachment's one file `photo` (see src/lib/data/work-orders.ts).
			const res = await tickets.attachment(attId, 'photo');
			if (!res?.body) throw new AppError('not_found', 404, 'No such attachment');
			return { body: res.body, contentType: res.headers.get('content-type') };
		}
	};
}
export type TicketReads = ReturnType<typeof createTicketReads>;
