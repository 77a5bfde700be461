/**
 * The ticket document and the one pure function that derives its list fields from its events, and the
 * union-of-events merge that resolves concurrent offline edits without a human (DESIGN.md).
 */
import * as v from 'valibot';
import { TicketEvent, WORK_STEPS, WorkOrderCustomer } from './events';
import { normalizePhone } from '../phone';

export const TICKET_STATUSES = ['new', 'atDepartment', 'resolved', 'callback', 'closed'] as const;
export const TicketStatus = v.picklist(TICKET_STATUSES);
export type TicketStatus = v.InferOutput<typeof TicketStatus>;

/** The ticket's current work order (派工单): the latest dispatch and the crew's latest step on it. */
export const WorkOrder = v.object({
	crewId: v.string(),
	from: v.string(),
	to: v.string(),
	/** `cancelled`: the ticket was resolved or closed while the work order was still open (not a crew's step). */
	step: v.picklist(['dispatched', ...WORK_STEPS, 'cancelled']),
	/** When the crew finished (done or could not complete) or the order was cancelled; null while open. */
	finishedAt: v.nullable(v.string()),
	customers: v.array(WorkOrderCustomer)
});
export type WorkOrder = v.InferOutput<typeof WorkOrder>;

export const TicketDerived = v.object({
	number: v.string(),
	status: TicketStatus,
	/** Where the ticket is now: the center or the department it was transferred to. */
	departmentId: v.nullable(v.string()),
	flowId: v.nullable(v.string()),
	serviceTypeId: v.nullable(v.string()),
	contentCategoryId: v.nullable(v.string()),
	callerNumber: v.string(),
	/** The caller number normalised (`normalizePhone`), for finding a caller's earlier tickets (F17). */
	callerKey: v.string(),
	customerIds: v.array(v.string()),
	createdAt: v.string(),
	createdBy: v.string(),
	updatedAt: v.string(),
	/** Grow-only: every principal that ever held the ticket (DESIGN.md, Access). */
	visibleTo: v.array(v.string()),
	workOrder: v.nullable(WorkOrder)
});
export type TicketDerived = v.InferOutput<typeof TicketDerived>;

/** The stored ticket: its events and the fields derived from them (`deriveTicket`). */
export const TicketDoc = v.object({
	_id: v.string(),
	_rev: v.optional(v.string()),
	type: v.literal('ticket'),
	...TicketDerived.entries,
	events: v.array(TicketEvent)
});
export type TicketDoc = v.InferOutput<typeof TicketDoc>;

/**
 * When a new event on a ticket is recorded: now, or a millisecond after the ticket's latest event when this
 * device's clock is behind the one that recorded it — so the new event follows what the user saw in the
 * canonical order (a department's handling after the transfer that brought the ticket there), whatever the
 * clocks of the devices involved say.
 */
export function nextEventTime(events: readonly Pick<TicketEvent, 'at'>[], now = new Date()): Date {
	let latest = -Infinity;
	for (const e of events) latest = Math.max(latest, Date.parse(e.at));
	return new Date(Math.max(now.getTime(), latest + 1));
}

/** Events in their one canonical order: by time, then id (ids are unique), so every replica folds alike. */
export function orderEvents(events: readonly TicketEvent[]): TicketEvent[] {
	return [...events].sort((a, b) =>
		a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
	);
}

/** Derives every list field from the events alone. Deterministic; needs at least the `created` event. */
export function deriveTicket(events: readonly TicketEvent[], centerId: string): TicketDerived {
	const ordered = orderEvents(events);
	const created = ordered.find((e) => e.type === 'created');
	if (!created || created.type !== 'created') {
		throw new Error('a ticket starts with a created event');
	}
	const visible = new Set<string>([created.by, created.departmentId]);
	let status: TicketStatus = 'new';
	let departmentId: string | null = created.departmentId;
	let flowId: string | null = null;
	let callbackDone = false;
	let closed = false;
	let workOrder: WorkOrder | null = null;

	const resolve = () => {
		departmentId = centerId;
		status = created.callbackRequired && !callbackDone ? 'callback' : 'closed';
	};

	for (const e of ordered) {
		// visibleTo must only grow under any merge, so every event's principals count, whatever the state.
		visible.add(e.by);
		if (e.type === 'transferred') visible.add(e.toDepartmentId);
		if (e.type === 'handled' && e.nextDepartmentId) visible.add(e.nextDepartmentId);
		if (e.type === 'dispatched') visible.add(e.crewId);
		// Work orders follow their own steps. Once the ticket is resolved (closed or waiting for its callback)
		// an open work order is cancelled: a ticket is never finished with a crew still sent out (#17). What a
		// crew reports afterwards is kept, and only its outcome counts (done or could not complete, recorded
		// offline after the close); a new dispatch or an intermediate step does not reopen the order.
		// (`resolve()` sets the status inside a closure, which the compiler cannot follow.)
		const now = status as TicketStatus;
		const resolved = closed || now === 'callback' || now === 'closed';
		if (e.type === 'dispatched' && !resolved) {
			workOrder = {
				crewId: e.crewId,
				from: e.from,
				to: e.to,
				step: 'dispatched',
				finishedAt: null,
				customers: e.customers
			};
		} else if (e.type === 'workStep') {
			const current = workOrder as WorkOrder | null; // set by an earlier iteration
			const finished = e.step === 'done' || e.step === 'failed';
			if (current && (finished || !resolved)) {
				workOrder = { ...current, step: e.step, finishedAt: finished ? e.at : null };
			}
		}
		if (closed) continue; // later events (comments, late offline edits) are kept but do not reopen
		switch (e.type) {
			case 'closedAtCenter':
				resolve();
				break;
			case 'transferred':
				departmentId = e.toDepartmentId;
				flowId = e.flowId ?? flowId;
				visible.add(e.toDepartmentId);
				status = 'atDepartment';
				break;
			case 'handled':
				if (e.nextDepartmentId) {
					departmentId = e.nextDepartmentId;
					visible.add(e.nextDepartmentId);
					status = 'atDepartment';
				} else {
					resolve();
				}
				break;
			case 'callback':
				callbackDone = true;
				// `resolve()` may have set the status inside a closure, which the compiler cannot follow.
				if ((status as TicketStatus) === 'callback') status = 'closed';
				break;
			case 'closed':
				status = 'closed';
				break;
			default:
				break;
		}
		if (status === 'closed') closed = true;
		const open = workOrder as WorkOrder | null;
		const after = status as TicketStatus;
		if (open && !open.finishedAt && (after === 'closed' || after === 'callback')) {
			workOrder = { ...open, step: 'cancelled', finishedAt: e.at };
		}
	}
	return {
		number: created.number,
		status,
		departmentId,
		flowId,
		serviceTypeId: created.serviceTypeId,
		contentCategoryId: created.contentCategoryId,
		callerNumber: created.callerNumber,
		callerKey: normalizePhone(created.callerNumber),
		customerIds: created.customerIds,
		createdAt: created.at,
		createdBy: created.by,
		updatedAt: ordered.at(-1)!.at,
		visibleTo: [...visible].sort(),
		workOrder
	};
}

/**
 * Who sees a photo `by` took at `at` on this ticket: its author and the crew the work order had gone to by then
 * (the latest dispatch at or before it), so the photo stays on the tablets of the crew that took it and
 * never floods the center's devices; everyone who holds the ticket gets it from the server. The tablet
 * writes it and the server checks it with this one function, so a writer cannot choose it.
 */
export function attachmentVisibleTo(
	events: readonly TicketEvent[],
	by: string,
	at: string
): string[] {
	let crewId: string | null = null;
	for (const e of orderEvents(events)) {
		if (e.at > at) break;
		if (e.type === 'dispatched') crewId = e.crewId;
	}
	return [...new Set([by, ...(crewId ? [crewId] : [])])].sort();
}

/** A ticket document with its derived fields recomputed from `events`. */
export function buildTicket(
	id: string,
	events: readonly TicketEvent[],
	centerId: string,
	rev?: string
): TicketDoc {
	const ordered = orderEvents(dedupe(events));
	return {
		_id: id,
		...(rev ? { _rev: rev } : {}),
		type: 'ticket',
		...deriveTicket(ordered, centerId),
		events: ordered
	};
}

/** An event's content, whatever the order of its keys: the same event has the same fingerprint everywhere. */
export const eventFingerprint = (e: TicketEvent) =>
	JSON.stringify(e, Object.keys(e).sort() as (keyof TicketEvent)[]);

/** Thrown when two revisions hold different events under one id: no union keeps both (events never change). */
export class EventMismatch extends Error {}

function dedupe(events: readonly TicketEvent[]): TicketEvent[] {
	const byId = new Map<string, TicketEvent>();
	for (const e of events) {
		const seen = byId.get(e.id);
		if (!seen) byId.set(e.id, e);
		else if (seen !== e && eventFingerprint(seen) !== eventFingerprint(e)) {
			throw new EventMismatch(`event ${e.id} differs between revisions`);
		}
	}
	return [...byId.values()];
}

/**
 * The union of two revisions' events, derived again. Commutative, associative and idempotent (proved by
 * property tests), so replicas that merge in any order agree and no recorded event is ever lost.
 */
export function mergeTickets(a: TicketDoc, b: TicketDoc, centerId: string): TicketDoc {
	return buildTicket(a._id, [...a.events, ...b.events], centerId, a._rev);
}
