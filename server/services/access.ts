/**
 * Who may see and write which replicated document (DESIGN.md, Access). Pure functions, used by every door
 * of the /sync endpoint and by the /api routes alike.
 *
 * A scope is the id of a principal: the user (`user:<name>`), their department (`department:<key>`) and,
 * later, their crews (`crew:<key>`). A ticket's `visibleTo` is a grow-only set of such ids.
 */
import { createHash } from 'node:crypto';
import type { UserDoc } from './accounts';

export type SyncDb = 'config' | 'tickets';
export const SYNC_DBS: readonly SyncDb[] = ['config', 'tickets'];

export function scopesOf(
	user: Pick<UserDoc, '_id' | 'departmentId'> & { crewIds?: string[] }
): string[] {
	return [user._id, user.departmentId, ...(user.crewIds ?? [])];
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

/**
 * May this user push this revision of a ticket? `known` are the event ids the server already holds for the
 * document (in any leaf revision); every other event must be the user's own.
 * Returns null when allowed, or the reason it is not.
 */
export function refuseTicketWrite(
	doc: TicketLike,
	user: Pick<UserDoc, '_id'>,
	scopes: readonly string[],
	existing: { readable: boolean; known: Set<string> } | null
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
	if (doc.type === 'ticket') {
		for (const e of doc.events ?? []) {
			if (typeof e.id !== 'string') return 'malformed event';
			if (!existing?.known.has(e.id) && e.by !== user._id) {
				return 'events are recorded by their author only';
			}
		}
	}
	return null;
}
