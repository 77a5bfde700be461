/**
 * A ticket (业务记录) is one document holding an append-only list of immutable events (DESIGN.md). Each
 * event has a unique id, its author, time and payload; nothing is ever edited or removed — a correction is a
 * new event. The list fields (status, current department, visibleTo …) are derived by `deriveTicket`.
 */
import * as v from 'valibot';
import { PHOTO_TYPES } from './attachment';

const Id = v.pipe(v.string(), v.nonEmpty(), v.maxLength(80));
const Text = (max: number) => v.pipe(v.string(), v.trim(), v.maxLength(max, 'too_long'));

/**
 * How far ahead of the server's clock an event may be dated. Devices that were offline record in the past,
 * which is always allowed; a time in the future would hold the ticket in every working set and ahead of
 * every later event, so it is refused beyond ordinary clock drift.
 */
export const EVENT_CLOCK_SKEW_MS = 5 * 60_000;

const Base = {
	id: Id,
	at: v.pipe(v.string(), v.isoTimestamp()),
	by: Id
};

export const TicketCreated = v.object({
	...Base,
	type: v.literal('created'),
	number: v.pipe(v.string(), v.maxLength(40)),
	callerNumber: Text(32),
	customerIds: v.pipe(v.array(Id), v.maxLength(20)),
	/** A caller not (yet) in the subscriber data leaves a contact instead (F16). */
	contactName: v.optional(Text(80)),
	contactAddress: v.optional(Text(200)),
	/** The hotline call this ticket was recorded for (its SIP Call-ID), when it came by telephone. */
	callId: v.optional(Text(200)),
	/** The department the ticket starts at: the service center. */
	departmentId: Id,
	serviceTypeId: v.nullable(Id),
	contentCategoryId: v.nullable(Id),
	content: Text(2000),
	callbackRequired: v.boolean()
});

/** 中心处理: handled and closed at the center now. */
export const TicketClosedAtCenter = v.object({
	...Base,
	type: v.literal('closedAtCenter'),
	note: Text(2000)
});

/** 移交执行: transferred to a department (optionally along a department flow). */
export const TicketTransferred = v.object({
	...Base,
	type: v.literal('transferred'),
	toDepartmentId: Id,
	flowId: v.nullable(Id),
	note: Text(2000)
});

/** F21: a department records how it handled the ticket (处理内容) and where it goes next. */
export const TicketHandled = v.object({
	...Base,
	type: v.literal('handled'),
	departmentId: Id,
	note: v.pipe(Text(2000), v.nonEmpty('required')),
	/** The next department of the flow, or null: back to the center. */
	nextDepartmentId: v.nullable(Id)
});

/** How a called-back customer rated the handling (回访满意度), or that they could not be reached. */
export const SATISFACTIONS = ['satisfied', 'neutral', 'dissatisfied', 'unreachable'] as const;
export const Satisfaction = v.picklist(SATISFACTIONS);
export type Satisfaction = v.InferOutput<typeof Satisfaction>;

/** 回访: the customer was called back; closes the ticket. */
export const TicketCallback = v.object({
	...Base,
	type: v.literal('callback'),
	satisfaction: Satisfaction,
	note: Text(2000)
});

/** A team leader closes a ticket that would need a callback, with a reason. */
export const TicketClosed = v.object({
	...Base,
	type: v.literal('closed'),
	reason: v.pipe(Text(500), v.nonEmpty('required'))
});

export const TicketComment = v.object({
	...Base,
	type: v.literal('comment'),
	text: v.pipe(Text(2000), v.nonEmpty())
});

/** A customer as the crew needs them on site, copied into the work order so the tablet has it offline. */
export const WorkOrderCustomer = v.object({
	id: Id,
	name: Text(80),
	address: Text(200),
	phones: v.pipe(v.array(Text(32)), v.maxLength(5))
});
export type WorkOrderCustomer = v.InferOutput<typeof WorkOrderCustomer>;

/** 派工: the ticket's work order goes to a field crew (施工队) with an appointment window. */
export const TicketDispatched = v.object({
	...Base,
	type: v.literal('dispatched'),
	crewId: Id,
	/** The appointment window agreed with the customer. */
	from: v.pipe(v.string(), v.isoTimestamp()),
	to: v.pipe(v.string(), v.isoTimestamp()),
	note: Text(2000),
	customers: v.pipe(v.array(WorkOrderCustomer), v.maxLength(5))
});

export const WORK_STEPS = ['accepted', 'onTheWay', 'onSite', 'done', 'failed'] as const;
export type WorkStep = (typeof WORK_STEPS)[number];

/** A crew's step on its work order: accepted → on the way → on site → done | could not complete. */
export const TicketWorkStep = v.pipe(
	v.object({
		...Base,
		type: v.literal('workStep'),
		step: v.picklist(WORK_STEPS),
		/** Why the work could not be completed (required for `failed`). */
		reason: v.optional(Text(500)),
		note: v.optional(Text(2000)),
		/** Parts used, as the crew writes them (型号 × 数量). */
		parts: v.optional(Text(500)),
		/** The customer's name as they confirmed the work on the tablet. */
		confirmedBy: v.optional(Text(80))
	}),
	v.check((e) => e.step !== 'failed' || !!e.reason, 'reason_required')
);

/** A photo (or other file) kept as its own immutable document `att:<ticket>:<id>` (DESIGN.md). */
export const TicketAttached = v.object({
	...Base,
	type: v.literal('attached'),
	attachmentId: v.pipe(v.string(), v.startsWith('att:'), v.maxLength(200)),
	contentType: v.picklist(PHOTO_TYPES),
	caption: v.optional(Text(200))
});

export const TicketEvent = v.variant('type', [
	TicketCreated,
	TicketClosedAtCenter,
	TicketTransferred,
	TicketHandled,
	TicketCallback,
	TicketClosed,
	TicketComment,
	TicketDispatched,
	TicketWorkStep,
	TicketAttached
]);
export type TicketEvent = v.InferOutput<typeof TicketEvent>;
export type TicketEventType = TicketEvent['type'];
