/**
 * F33 the audit trail on the wire: one entry says who did what to which record, when, with the record
 * before and after where the action changed one. The server records and lists entries of this shape; the
 * administrator's audit page reads them with the same schema.
 */
import * as v from 'valibot';

export const AuditEntry = v.object({
	/** ISO time of the action. */
	at: v.string(),
	/** The user id of who did it. */
	actor: v.string(),
	/** `<area>.<verb>`, e.g. `user.create`; filters match its beginning. */
	action: v.string(),
	/** The id of the record acted on. */
	target: v.string(),
	/** The record (or the part that changed) before and after: any JSON. */
	before: v.optional(v.unknown()),
	after: v.optional(v.unknown())
});
export type AuditEntry = v.InferOutput<typeof AuditEntry>;

export const AuditEntries = v.object({ entries: v.array(AuditEntry) });

/** Which entries to read: by actor, by the action's beginning, by target, from/to days (inclusive). */
export const AuditQuery = v.object({
	actor: v.optional(v.pipe(v.string(), v.maxLength(80)), ''),
	action: v.optional(v.pipe(v.string(), v.maxLength(80)), ''),
	target: v.optional(v.pipe(v.string(), v.maxLength(80)), ''),
	from: v.optional(v.union([v.literal(''), v.pipe(v.string(), v.isoDate('date_invalid'))]), ''),
	to: v.optional(v.union([v.literal(''), v.pipe(v.string(), v.isoDate('date_invalid'))]), ''),
	limit: v.optional(
		v.pipe(v.string(), v.transform(Number), v.integer(), v.minValue(1), v.maxValue(500)),
		'100'
	)
});
export type AuditQuery = v.InferOutput<typeof AuditQuery>;
