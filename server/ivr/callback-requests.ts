/**
 * #18 F23 F22 a caller who asks the voice menu to be called back leaves a ticket at once: recorded for the
 * caller number (and the subscribers registered under it), closed at the center with a callback required —
 * so it is on every agent's 待回访 list and, being in the store, survives any restart. The menu's author is
 * `system:ivr`; its id comes from the menu call's Call-ID, so the same request is never recorded twice.
 */
import { createHash } from 'node:crypto';
import { CENTER_DEPARTMENT_ID } from '#shared/docs/config';
import { normalizePhone } from '#shared/phone';
import type { TicketEvent } from '#shared/tickets/events';
import { buildTicket } from '#shared/tickets/ticket';
import { storeStatus } from '../errors';
import type { CustomerIndex } from '../services/customer-index';
import type { Store } from '../store';

/** Who recorded the voice menu's tickets. */
export const IVR_AUTHOR = 'system:ivr';

export interface CallbackRequest {
	/** The menu call's Call-ID. */
	callId: string;
	/** The caller number, as the carrier gave it. */
	caller: string;
	hotline: string;
	/** The titles of the menu nodes the caller went through. */
	path: string[];
	keys: string[];
	at: number;
}

const hashOf = (callId: string) => createHash('sha256').update(callId).digest('hex');

/** The ticket a menu call's callback request is recorded as. */
export const callbackTicketId = (callId: string) => `ticket:ivr-${hashOf(callId).slice(0, 32)}`;

export function createCallbackRequests({
	store,
	customers
}: {
	store: Store;
	customers: Pick<CustomerIndex, 'search'>;
}) {
	const tickets = store.db('tickets');
	return {
		/** Records the request as a ticket due for a callback; true when recorded now, false when it was. */
		async record(request: CallbackRequest): Promise<boolean> {
			const hash = hashOf(request.callId);
			const at = new Date(request.at);
			const phone = normalizePhone(request.caller);
			const customerIds =
				phone.length >= 5
					? customers
							.search({ q: phone, field: 'phone', match: 'exact', source: 'all', limit: 5 })
							.hits.map((h) => h._id)
					: [];
			const created: TicketEvent = {
				id: `ivr-${hash.slice(0, 24)}-1`,
				type: 'created',
				at: at.toISOString(),
				by: IVR_AUTHOR,
				number: `${at.toISOString().slice(0, 10).replaceAll('-', '')}-IVR-${hash.slice(0, 6).toUpperCase()}`,
				callerNumber: request.caller,
				customerIds,
				callId: request.callId,
				departmentId: CENTER_DEPARTMENT_ID,
				serviceTypeId: null,
				contentCategoryId: null,
				content: `语音导航回电请求（热线 ${request.hotline}）：${request.path.join(' › ')} · 按键 ${request.keys.join(' ')}`,
				callbackRequired: true
			};
			// A millisecond later, so the canonical order never depends on ids (as the agents' devices do).
			const closed: TicketEvent = {
				id: `ivr-${hash.slice(0, 24)}-2`,
				type: 'closedAtCenter',
				at: new Date(at.getTime() + 1).toISOString(),
				by: IVR_AUTHOR,
				note: '来电者在语音导航中请求回电'
			};
			try {
				await tickets.insert(
					buildTicket(callbackTicketId(request.callId), [created, closed], CENTER_DEPARTMENT_ID)
				);
				return true;
			} catch (err) {
				if (storeStatus(err) === 409) return false;
				throw err;
			}
		}
	};
}
export type CallbackRequests = ReturnType<typeof createCallbackRequests>;
