/** Tickets as devices record them, for tests that put them in the store or push them through `/sync`. */
import { buildTicket } from '../../src/lib/shared/tickets/ticket';
import type { TicketEvent } from '../../src/lib/shared/tickets/events';

const CENTER = 'department:center';

/**
 * `ticket:<id>` with one `created` event (`ev-<id>`) by `by` at `departmentId`, then `extra` events; the
 * list fields derived as the app derives them.
 */
export function recordedTicket(
	id: string,
	by: string,
	{
		departmentId = CENTER,
		at = new Date(),
		extra = []
	}: { departmentId?: string; at?: Date; extra?: TicketEvent[] } = {}
) {
	const created: TicketEvent = {
		id: `ev-${id}`,
		type: 'created',
		at: at.toISOString(),
		by,
		number: id,
		callerNumber: '13800000000',
		customerIds: [],
		departmentId,
		serviceTypeId: null,
		contentCategoryId: null,
		content: '用户来电',
		callbackRequired: false
	};
	return buildTicket(`ticket:${id}`, [created, ...extra], CENTER);
}
