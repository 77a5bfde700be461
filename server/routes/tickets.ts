/**
 * Ticket look-ups outside a device's working set (DESIGN.md: bounded working sets). F17: every earlier
 * ticket of a caller number, newest first, for agents at the center.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { normalizePhone } from '#shared/phone';
import { isPhotoType } from '#shared/tickets/attachment';
import type { TicketDoc } from '#shared/tickets/ticket';
import {
	MAX_RANGE_DAYS,
	STAT_DIMENSIONS,
	TicketListQuery,
	groupTickets,
	matches,
	summarize
} from '#shared/tickets/report';
import type { UserDoc } from '../services/accounts';
import { canRead, scopesOf } from '../services/access';
import { AppError } from '../errors';
import { requireUser } from '../middleware/auth';
import { parseOrThrow } from '../validate';
import type { AppDeps, AppEnv } from '../context';

const HistoryQuery = v.object({
	phone: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(40, 'too_long')), ''),
	customerId: v.optional(
		v.pipe(
			v.union([v.string(), v.array(v.string())]),
			v.transform((x) => (Array.isArray(x) ? x : [x])),
			v.maxLength(20, 'too_long')
		),
		[]
	)
});
const HISTORY_LIMIT = 100;
const LIST_LIMIT = 2000;
/** Tickets one list or statistics request may load; a busier period must be narrowed (issue #13). */
export const RANGE_MAX_DOCS = 50_000;
/** Days are the center's (China Standard Time, UTC+8). */
const dayStart = (day: string) => new Date(`${day}T00:00:00.000+08:00`).toISOString();
const dayEnd = (day: string) => new Date(`${day}T23:59:59.999+08:00`).toISOString();

const StatsQuery = v.object({ by: v.picklist(STAT_DIMENSIONS, 'invalid') });

function allowed(user: UserDoc, permissions: string[]) {
	if (!permissions.some((p) => user.permissions.includes(p))) {
		throw new AppError('forbidden', 403, `Missing permission ${permissions.join(' or ')}`);
	}
}

/**
 * How a stored file is served from the app's origin: a photo type as itself, anything else (an SVG or an
 * HTML page smuggled into the store) only as a download — and never as active content either way: no
 * script runs in it, no sniffing turns it into something else (issue #13).
 */
export function attachmentHeaders(stored: string | null): Record<string, string> {
	const type = (stored ?? '').split(';')[0]!.trim().toLowerCase();
	const photo = isPhotoType(type);
	return {
		'content-type': photo ? type : 'application/octet-stream',
		...(photo ? {} : { 'content-disposition': 'attachment' }),
		'content-security-policy': "default-src 'none'; sandbox",
		'x-content-type-options': 'nosniff',
		'cache-control': 'private, max-age=86400, immutable'
	};
}

export const ticketRoutes = ({ store, configAdmin }: AppDeps) => {
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
		const res = await store.db<TicketDoc>('tickets').view('tickets_by_created', {
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

	/** The ticket, if this user holds it (its scopes) or manages tickets; 404 otherwise. */
	async function readable(user: UserDoc, id: string): Promise<TicketDoc> {
		if (!id.startsWith('ticket:')) throw new AppError('not_found', 404, 'No such ticket');
		const doc = await store
			.db<TicketDoc>('tickets')
			.get(id)
			.catch(() => null);
		const manager = ['ticket.manage', 'supervise', 'stats.view'].some((p) =>
			user.permissions.includes(p)
		);
		const scopes = manager
			? []
			: scopesOf({ ...user, crewIds: await configAdmin.crewsOf(user._id) });
		if (!doc || (!manager && !canRead('tickets', doc, scopes))) {
			throw new AppError('not_found', 404, 'No such ticket');
		}
		return doc;
	}

	return (
		new Hono<AppEnv>()
			.use(requireUser())
			// F22 业务管理: the list with its filters, for team leaders and whoever manages tickets.
			.get('/list', async (c) => {
				allowed(c.get('user')!, ['ticket.manage', 'supervise', 'stats.view']);
				const q = parseOrThrow(TicketListQuery, c.req.query());
				const now = Date.now();
				const rows = (await inRange(q)).map((t) => summarize(t, now)).filter((t) => matches(t, q));
				return c.json(
					{ tickets: rows.slice(0, LIST_LIMIT), truncated: rows.length > LIST_LIMIT },
					200
				);
			})
			// F25 statistics: counts by one dimension; a department's own statistics with dept.stats.
			.get('/stats', async (c) => {
				const user = c.get('user')!;
				allowed(user, ['stats.view', 'dept.stats']);
				const q = parseOrThrow(TicketListQuery, c.req.query());
				const { by } = parseOrThrow(StatsQuery, c.req.query());
				const now = Date.now();
				const tickets = (await inRange(q))
					.filter(
						(t) =>
							user.permissions.includes('stats.view') || t.visibleTo.includes(user.departmentId)
					)
					.filter((t) => matches(summarize(t, now), q));
				return c.json({ by, total: tickets.length, rows: groupTickets(tickets, by, now) }, 200);
			})
			.get('/history', async (c) => {
				const user = c.get('user')!;
				if (
					!user.permissions.includes('ticket.create') &&
					!user.permissions.includes('customer.search')
				) {
					throw new AppError(
						'forbidden',
						403,
						'Missing permission ticket.create or customer.search'
					);
				}
				const query = parseOrThrow(HistoryQuery, {
					...c.req.query(),
					customerId: c.req.queries('customerId') ?? []
				});
				const phone = normalizePhone(query.phone);
				const db = store.db<TicketDoc>('tickets');
				const lookups = [
					...(phone.length >= 3
						? [
								db.view('tickets_by_caller', {
									key: phone,
									include_docs: true,
									limit: HISTORY_LIMIT
								})
							]
						: []),
					...(query.customerId.length > 0
						? [
								db.view('tickets_by_customer', {
									keys: query.customerId,
									include_docs: true,
									limit: HISTORY_LIMIT
								})
							]
						: [])
				];
				const byId = new Map<string, TicketDoc>();
				for (const r of await Promise.all(lookups)) {
					for (const row of r.rows) if (row.doc) byId.set(row.doc._id, row.doc);
				}
				const res = { rows: [...byId.values()].map((doc) => ({ doc })) };
				const tickets = res.rows
					.flatMap((r) => (r.doc ? [r.doc] : []))
					.sort((a, b) => b.createdAt.localeCompare(a.createdAt))
					.map(
						({
							_id,
							number,
							status,
							departmentId,
							serviceTypeId,
							contentCategoryId,
							callerNumber,
							createdAt,
							createdBy,
							events
						}) => ({
							_id,
							number,
							status,
							departmentId,
							serviceTypeId,
							contentCategoryId,
							callerNumber,
							createdAt,
							createdBy,
							events
						})
					);
				return c.json({ tickets }, 200);
			})
			// One ticket, also outside the device's working set: to its holders and to those managing tickets.
			.get('/:id', async (c) => c.json(await readable(c.get('user')!, c.req.param('id')), 200))
			// A ticket's photo (F28): to whoever may read the ticket; crews' tablets hold their own copies.
			.get('/:id/attachments/:attId', async (c) => {
				const ticket = await readable(c.get('user')!, c.req.param('id'));
				const attId = c.req.param('attId');
				if (!attId.startsWith(`att:${ticket._id}:`)) {
					throw new AppError('not_found', 404, 'No such attachment');
				}
				// The tablet names every attachment's one file `photo` (see src/lib/data/work-orders.ts).
				const res = await store.db('tickets').attachment(attId, 'photo');
				if (!res?.body) throw new AppError('not_found', 404, 'No such attachment');
				return new Response(res.body, {
					headers: attachmentHeaders(res.headers.get('content-type'))
				});
			})
	);
};
