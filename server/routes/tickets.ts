/**
 * Ticket look-ups outside a device's working set (DESIGN.md: bounded working sets), answered by the
 * ticket reads service (`services/tickets.ts`): F22 lists, F25 statistics, F17 every earlier ticket of a
 * caller number, one ticket and its photos.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { normalizePhone } from '#shared/phone';
import { PHOTO_TYPES, isPhotoType } from '#shared/tickets/attachment';
import { TicketListQuery, TicketStatsQuery } from '#shared/tickets/report';
import { TicketAnswer, TicketHistory, TicketList, TicketStats } from '#shared/wire/tickets';
import { requireAnyPermission, requireUser } from '../middleware/auth';
import { doc, send } from '../openapi';
import { validQuery } from '../validate';
import type { AppDeps, AppEnv } from '../context';

const HistoryQuery = v.object({
	phone: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(40, 'too_long')), ''),
	/** One or several (`?customerId=a&customerId=b`). */
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

export const ticketRoutes = ({ tickets }: AppDeps) =>
	new Hono<AppEnv>()
		.use(requireUser())
		// F22 业务管理: the list with its filters, for team leaders and whoever manages tickets.
		.get(
			'/list',
			doc("Lists a period's tickets that match the filters (F22)", TicketList),
			requireAnyPermission('ticket.manage', 'supervise', 'stats.view'),
			validQuery(TicketListQuery),
			async (c) => send(c, TicketList, await tickets.list(c.req.valid('query')))
		)
		// F25 statistics: counts by one dimension; a department's own statistics with dept.stats.
		.get(
			'/stats',
			doc("Counts a period's tickets by one dimension (F25)", TicketStats),
			requireAnyPermission('stats.view', 'dept.stats'),
			validQuery(TicketStatsQuery),
			async (c) => {
				const { by, ...filters } = c.req.valid('query');
				return send(c, TicketStats, await tickets.stats(c.get('user')!, filters, by));
			}
		)
		.get(
			'/history',
			doc('Finds the earlier tickets of a caller number and of subscribers (F17)', TicketHistory),
			requireAnyPermission('ticket.create', 'customer.search'),
			validQuery(HistoryQuery),
			async (c) => {
				const query = c.req.valid('query');
				const found = await tickets.history({
					phone: normalizePhone(query.phone),
					customerIds: query.customerId,
					limit: HISTORY_LIMIT
				});
				return send(c, TicketHistory, { tickets: found });
			}
		)
		// One ticket, also outside the device's working set: to its holders and to those managing tickets.
		.get(
			'/:id',
			doc('Reads one ticket its holders or ticket managers may see', TicketAnswer),
			async (c) => send(c, TicketAnswer, await tickets.readable(c.get('user')!, c.req.param('id')))
		)
		// A ticket's photo (F28): to whoever may read the ticket; crews' tablets hold their own copies.
		.get(
			'/:id/attachments/:attId',
			doc('Serves a photo of a ticket the user may read (F28)', null, {
				description: `The photo (${PHOTO_TYPES.join(', ')}); any other stored type as a download`
			}),
			async (c) => {
				const { body, contentType } = await tickets.photo(
					c.get('user')!,
					c.req.param('id'),
					c.req.param('attId')
				);
				return new Response(body, { headers: attachmentHeaders(contentType) });
			}
		);
