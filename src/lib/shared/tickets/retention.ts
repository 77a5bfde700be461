/**
 * What a device may forget (F28): bounded working sets (DESIGN.md). A ticket whose work order is finished, or
 * that is closed, leaves the device once nothing has happened to it for the retention window and everything
 * the device recorded on it has reached the server. Its photos go with it. Open tickets and open work orders
 * stay however old they are. The server keeps everything; `/api` opens any old ticket again.
 *
 * A center or department device also receives every change to its department's tickets (issue #15: its
 * first listing holds only the most recent of those). Of these, a ticket that is not the user's own and not
 * open at the user's department leaves once unchanged for `RECENT_HOURS` — so an agent's replica holds
 * about a day of the center's tickets, not three months of them. A later change brings it back.
 */
import type { TicketDoc } from './ticket';

export const RETENTION_DAYS = 7;
export const RECENT_HOURS = 24;

/** Whose replica it is: their own tickets and those open at their department stay. */
export interface Holder {
	userId: string;
	/** Null for a field crew's tablet (its work orders follow the finished rule only). */
	departmentId: string | null;
}

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
	retentionMs = RETENTION_DAYS * 86_400_000,
	holder?: Holder
): string[] {
	const cutoff = new Date(now - retentionMs).toISOString();
	const recent = new Date(now - RECENT_HOURS * 3_600_000).toISOString();
	/** Seen only through the department, not open there, and quiet for a day. */
	const pastSlice = (t: TicketDoc) =>
		holder?.departmentId != null &&
		!t.visibleTo?.includes(holder.userId) &&
		!(t.status !== 'closed' && t.departmentId === holder.departmentId) &&
		!(t.workOrder && t.workOrder.finishedAt === null) &&
		t.updatedAt < recent;
	const gone = new Set<string>();
	const tickets = new Set<string>();
	for (const doc of docs) {
		if (doc.type !== 'ticket') continue;
		const ticket = doc as TicketDoc;
		tickets.add(ticket._id);
		const finished = ticket.workOrder
			? ticket.workOrder.finishedAt !== null
			: ticket.status === 'closed';
		if (unsynced.has(ticket._id)) continue;
		if ((finished && ticket.updatedAt < cutoff) || pastSlice(ticket)) gone.add(ticket._id);
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
