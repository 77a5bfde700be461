/**
 * Who may see and write which replicated document (DESIGN.md, Access). Pure functions, used by every door
 * of the /sync endpoint and by the /api routes alike.
 *
 * A scope is the id of a principal: the user (`user:<name>`), their department (`department:<key>`) and,
 * later, their crews (`crew:<key>`). A ticket's `visibleTo` is a grow-only set of such ids.
 */
import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { TicketEvent, type TicketEventType } from '#shared/tickets/events';
import { deriveTicket, eventFingerprint } from '#shared/tickets/ticket';
import { CENTER_DEPARTMENT_ID } from '#shared/docs/config';
import { ATTACHMENT_MAX_BASE64, isPhotoType } from '#shared/tickets/attachment';
import { homeOf, type Permission } from '#shared/permissions';
import type { UserDoc } from './accounts';

/** Which permission lets a user record which kind of ticket event. */
const EVENT_PERMISSION: Record<TicketEventType, Permission | null> = {
	created: 'ticket.create',
	closedAtCenter: 'ticket.closeAtCenter',
	transferred: 'ticket.transfer',
	handled: 'dept.process',
	callback: 'callback.record',
	closed: 'supervise',
	comment: null,
	dispatched: 'workOrder.dispatch',
	workStep: 'workOrder.execute',
	attached: null
};

export type SyncDb = 'config' | 'tickets';
export const SYNC_DBS: readonly SyncDb[] = ['config', 'tickets'];

export function scopesOf(
	user: Pick<UserDoc, '_id' | 'departmentId'> & { permissions?: string[]; crewIds?: string[] }
): string[] {
	// A field crew's tablet holds its work orders, not everything its department handles (DESIGN.md).
	const fieldOnly = user.permissions !== undefined && homeOf(user.permissions) === 'field';
	return [user._id, ...(fieldOnly ? [] : [user.departmentId]), ...(user.crewIds ?? [])];
}

/** Stable hash of what a user may see in one database; part of every checkpoint id. */
export function scopeHash(db: SyncDb, scopes: readonly string[]): string {
	return createHash('sha256')
		.update(JSON.stringify([db, [...scopes].sort()]))
		.digest('hex')
		.slice(0, 16);
}

interface AnyDoc {
	_id: string;
	_deleted?: boolean;
	type?: unknown;
	visibleTo?: unknown;
}

/** May a user with these scopes read this revision? Design documents are never served. */
export function canRead(db: SyncDb, doc: AnyDoc, scopes: readonly string[]): boolean {
	if (doc._id.startsWith('_design/') || doc._id.startsWith('_local/')) return false;
	// Deletions of configuration must reach every device, or deleted departments would live on there.
	if (db === 'config') return doc._deleted === true || typeof doc.type === 'string';
	return Array.isArray(doc.visibleTo) && doc.visibleTo.some((s) => scopes.includes(s as string));
}

/**
 * The server's own `_changes` selector: only documents the user may read and, for tickets, only those
 * changed within the working-set window. It uses only `visibleTo` (grow-only) and `updatedAt` (moves
 * forward on every change), so a document never silently stops matching while it is still being changed.
 */
export function changesSelector(
	db: SyncDb,
	scopes: readonly string[],
	{ now, windowMs, docIds }: { now: number; windowMs: number; docIds?: string[] }
): Record<string, unknown> {
	const parts: Record<string, unknown>[] =
		db === 'config'
			? [{ $or: [{ type: { $exists: true } }, { _deleted: true }] }]
			: [
					{ visibleTo: { $elemMatch: { $in: [...scopes] } } },
					{ updatedAt: { $gte: new Date(now - windowMs).toISOString() } }
				];
	if (docIds) parts.push({ _id: { $in: docIds } });
	return { $and: parts };
}

interface TicketLike extends AnyDoc {
	events?: { id?: unknown; by?: unknown }[];
}

/** Attachment documents are written once, by their author, with one image and the fields the selector needs. */
function refuseAttachment(
	doc: TicketLike,
	user: Pick<UserDoc, '_id'>,
	exists: boolean
): string | null {
	const att = doc as TicketLike & {
		ticketId?: unknown;
		by?: unknown;
		updatedAt?: unknown;
		_attachments?: Record<string, { content_type?: unknown; data?: unknown; stub?: unknown }>;
	};
	if (exists) return 'attachments are never changed';
	if (att.by !== user._id) return 'attachments are added by their author only';
	if (typeof att.ticketId !== 'string' || !doc._id.startsWith(`att:${att.ticketId}:`)) {
		return 'an attachment names its ticket in its id';
	}
	if (typeof att.updatedAt !== 'string') return 'an attachment carries its time';
	const names = Object.keys(att._attachments ?? {});
	if (names.length !== 1 || names[0] !== 'photo') return 'an attachment holds one file, photo';
	const file = att._attachments?.photo;
	if (!isPhotoType(file?.content_type)) return 'only images are attached';
	if (typeof file?.data === 'string' && file.data.length > ATTACHMENT_MAX_BASE64) {
		return 'the image is too large';
	}
	return null;
}

/**
 * May this user push this revision of a ticket? `known` are the event ids the server already holds for the
 * document (in any leaf revision); every other event must be the user's own.
 * Returns null when allowed, or the reason it is not.
 */
export function refuseTicketWrite(
	doc: TicketLike,
	user: Pick<UserDoc, '_id' | 'permissions' | 'departmentId'>,
	scopes: readonly string[],
	existing: { readable: boolean; known: ReadonlyMap<string, string> } | null,
	{ authorsChecked = false }: { authorsChecked?: boolean } = {}
): string | null {
	if (doc._deleted) return 'only the server deletes documents';
	if (
		doc.type === 'ticket'
			? !doc._id.startsWith('ticket:')
			: doc.type === 'att'
				? !doc._id.startsWith('att:')
				: true
	) {
		return 'not a ticket or attachment document';
	}
	if (existing && !existing.readable) return 'not visible to you';
	if (!canRead('tickets', doc, scopes)) return 'the document would not be visible to you';
	if (doc.type === 'att') return refuseAttachment(doc, user, existing !== null);
	if (doc.type === 'ticket') {
		const parsed = v.safeParse(v.array(TicketEvent), doc.events);
		if (!parsed.success) return 'malformed event';
		for (const e of parsed.output) {
			const held = existing?.known.get(e.id);
			if (held !== undefined) {
				// Already on the server: whoever recorded it was checked then; its content never changes.
				if (held !== eventFingerprint(e)) return 'events are never changed';
				continue;
			}
			if (authorsChecked) continue; // a branch server checked its own users' events
			if (e.by !== user._id) return 'events are recorded by their author only';
			const needed = EVENT_PERMISSION[e.type];
			if (needed && !user.permissions.includes(needed)) {
				return `recording ${e.type} needs ${needed}`;
			}
			if (e.type === 'handled' && e.departmentId !== user.departmentId) {
				return 'a department records only its own handling';
			}
			if (
				e.type === 'workStep' &&
				!parsed.output.some((d) => d.type === 'dispatched' && scopes.includes(d.crewId))
			) {
				return 'only the crew the work order went to records its steps';
			}
		}
		// The list fields must be exactly what the events say: a device cannot widen visibleTo by hand.
		let derived;
		try {
			derived = deriveTicket(parsed.output, CENTER_DEPARTMENT_ID);
		} catch {
			return 'a ticket starts with a created event';
		}
		const given = doc as unknown as Record<string, unknown>;
		for (const field of Object.keys(derived) as (keyof typeof derived)[]) {
			if (JSON.stringify(given[field]) !== JSON.stringify(derived[field])) {
				return `${field} is not derived from the events`;
			}
		}
	}
	return null;
}
