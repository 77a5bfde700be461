/**
 * Ticket look-ups outside a device's working set (DESIGN.md: bounded working sets). F17: every earlier
 * ticket of a caller number, newest first, for agents at the center.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { normalizePhone } from '#shared/phone';
import type { TicketDoc } from '#shared/tickets/ticket';
import { AppError } from '../errors';
import { requireUser } from '../middleware/auth';
import { parseOrThrow } from '../validate';
import type { AppDeps, AppEnv } from '../context';

const HistoryQuery = v.object({
	phone: v.pipe(v.string('required'), v.trim(), v.maxLength(40, 'too_long'))
});
const HISTORY_LIMIT = 100;

export const ticketRoutes = ({ store }: AppDeps) =>
	new Hono<AppEnv>().use(requireUser()).get('/history', async (c) => {
		const user = c.get('user')!;
		if (
			!user.permissions.includes('ticket.create') &&
			!user.permissions.includes('customer.search')
		) {
			throw new AppError('forbidden', 403, 'Missing permission ticket.create or customer.search');
		}
		const phone = normalizePhone(parseOrThrow(HistoryQuery, c.req.query()).phone);
		if (phone.length < 3) return c.json({ tickets: [] }, 200);
		const res = await store
			.db<TicketDoc>('tickets')
			.view('app', 'tickets_by_caller', { key: phone, include_docs: true, limit: HISTORY_LIMIT });
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
	});
