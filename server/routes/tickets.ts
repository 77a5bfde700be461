/**
 * Ticket look-ups outside a device's working set (DESIGN.md: bounded working sets), answered by the
 * ticket reads service (`services/tickets.ts`): F22 lists, F25 statistics, F17 every earlier ticket of a
 * caller number, one ticket and its photos.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { normalizePhone } from '#shared/phone';
import { isPhotoType } from '#shared/tickets/attachment';
import { STAT_DIMENSIONS, TicketListQuery } from '#shared/tickets/report';
import type { UserDoc } from '../services/accounts';
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

export const ticketRoutes = ({ tickets }: AppDeps) =>
	new Hono<AppEnv>()
		.use(requireUser())
		// F22 业务管理: the list with its filters, for team leaders and whoever manages tickets.
		.get('/list', async (c) => {
			allowed(c.get('user')!, ['ticket.manage', 'supervise', 'stats.view']);
			const q = parseOrThrow(TicketListQuery, c.req.query());
			return c.json(await tickets.list(q), 200);
		})
		// F25 statistics: counts by one dimension; a department's own statistics with dept.stats.
		.get('/stats', async (c) => {
			const user = c.get('user')!;
			allowed(user, ['stats.view', 'dept.stats']);
			const q = parseOrThrow(TicketListQuery, c.req.query());
			const { by } = parseOrThrow(StatsQuery, c.req.query());
			return c.json(await tickets.stats(user, q, by), 200);
		})
		.get('/history', async (c) => {
			const user = c.get('user')!;
			if (
				!user.permissions.includes('ticket.create') &&
				!user.permissions.includes('customer.search')
			) {
				throw new AppError('forbidden', 403, 'Missing permission ticket.create or customer.search');
			}
			const query = parseOrThrow(HistoryQuery, {
				...c.req.query(),
				customerId: c.req.queries('customerId') ?? []
			});
			const found = await tickets.history({
				phone: normalizePhone(query.phone),
				customerIds: query.customerId,
				limit: HISTORY_LIMIT
			});
			return c.json(
				{
					tickets: found.map(
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
					)
				},
				200
			);
		})
		// One ticket, also outside the device's working set: to its holders and to those managing tickets.
		.get('/:id', async (c) =>
			c.json(await tickets.readable(c.get('user')!, c.req.param('id')), 200)
		)
		// A ticket's photo (F28): to whoever may read the ticket; crews' tablets hold their own copies.
		.get('/:id/attachments/:attId', async (c) => {
			const { body, contentType } = await tickets.photo(
				c.get('user')!,
				c.req.param('id'),
				c.req.param('attId')
			);
			return new Response(body, { headers: attachmentHeaders(contentType) });
		});
