/**
 * What a device may forget (F28): bounded working sets (DESIGN.md). A ticket whose work order is finished, or
 * that is closed, leaves the device once nothing has happened to it for the retention window and everything
 * the device recorded on it has reached the server. Its photos go with it. Open tickets and open work orders
 * stay however old they are. The server keeps everything; `/api` opens any old ticket again.
 */
import type { TicketDoc } from './ticket';

export const RETENTION_DAYS = 7;

interface Held {
	_id: string;
	type?: string;
	ticketId?: string;
	updatedAt?: string;
}

/** Ids of the documents to purge from this device now. `unsynced` are ids with local changes not yet pushed. */
export function expiredIds(
	docs: readonly (Held | TicketDoc)[],
	unsynced: ReadonlySet<string>,
	now: number,
	retentionMs = RETENTION_DAYS * 86_400_000
): string[] {
	const cutoff = new Date(now - retentionMs).toISOString();
	const gone = new Set<string>();
	const tickets = new Set<string>();
	for (const doc of docs) {
		if (doc.type !== 'ticket') continue;
		const ticket = doc as TicketDoc;
		tickets.add(ticket._id);
		const finished = ticket.workOrder
			? ticket.workOrder.finishedAt !== null
			: ticket.status === 'closed';
		if (finished && ticket.updatedAt < cutoff && !unsynced.has(ticket._id)) gone.add(ticket._id);
	}
	const out = [...gone];
	for (const doc of docs) {
		if (doc.type !== 'att' || unsynced.has(doc._id) || !doc.ticketId) continue;
		// A photo goes with its ticket, or on its own once its ticket is no longer here.
		if (gone.has(doc.ticketId) || (!tickets.has(doc.ticketId) && (doc.updatedAt ?? '') < cutoff)) {
			out.push(doc._id);
		}
	}
	return out;
}
