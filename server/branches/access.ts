/**
 * What a branch office's server may read and write through the center's `/replicate/<db>` (F29). Pure
 * functions beside `services/access.ts`, whose rules they reuse: a branch reads the configuration and the
 * accounts whole (never design documents, sessions or counters) and the tickets visible to its scopes (its
 * departments and their crews); it writes only tickets and attachments visible to those scopes, with valid
 * events and derived fields. Who recorded which event was checked by the branch's own `/sync`, so the
 * per-user author and permission checks are not repeated here.
 */
import { canRead, changesSelector, refuseTicketWrite } from '../services/access';
import type { Doc, Existing } from '../routes/replication-protocol';

export type BranchDb = 'config' | 'users' | 'tickets';
export const BRANCH_DBS: readonly BranchDb[] = ['config', 'users', 'tickets'];

/** The accounts a branch receives: user documents only (not sessions, not the device-code counter). */
const USER_ID = /^user:/;

/** May a branch with these scopes read this revision? */
export function branchCanRead(db: BranchDb, doc: Doc, scopes: readonly string[]): boolean {
	if (doc._id.startsWith('_design/') || doc._id.startsWith('_local/')) return false;
	if (db === 'users') return USER_ID.test(doc._id);
	return canRead(db, doc, scopes);
}

/**
 * The center's `_changes` selector for a branch: configuration and accounts whole, tickets by `visibleTo`
 * (grow-only) without the devices' working-set window — a branch is a server and keeps its whole history.
 */
export function branchSelector(
	db: BranchDb,
	scopes: readonly string[],
	docIds?: string[]
): Record<string, unknown> {
	if (db === 'config') {
		return changesSelector('config', scopes, {
			now: 0,
			windowMs: 0,
			...(docIds ? { docIds } : {})
		});
	}
	const parts: Record<string, unknown>[] = [
		db === 'users'
			? { _id: { $regex: USER_ID.source } }
			: { visibleTo: { $elemMatch: { $in: [...scopes] } } }
	];
	if (docIds) parts.push({ _id: { $in: docIds } });
	return { $and: parts };
}

/** `<start-1>-<id>` of a replicated revision's parent, or null for a first revision. */
function parentRev(doc: Doc): string | null {
	const revisions = doc._revisions as { start?: number; ids?: string[] } | undefined;
	if (!revisions?.ids || revisions.ids.length < 2 || typeof revisions.start !== 'number') {
		return null;
	}
	return `${revisions.start - 1}-${revisions.ids[1]}`;
}

/**
 * May a branch store this revision in the center's tickets database? `existing`: what the center holds of
 * the document; `batch`: the whole `_bulk_docs` request. Returns null when allowed, or the reason.
 */
export function refuseBranchWrite(
	doc: Doc,
	scopes: readonly string[],
	existing: Existing | null,
	batch: readonly Doc[]
): string | null {
	const readable = existing ? canRead('tickets', existing.winner, scopes) : true;
	if (doc._deleted) {
		// The branch's conflict resolver deletes the revisions it merged away; a ticket itself never goes.
		if (!doc._id.startsWith('ticket:')) return 'only merged ticket revisions are deleted';
		const liveInBatch = batch.some(
			(d) => d._id === doc._id && !d._deleted && canRead('tickets', d, scopes)
		);
		if (!existing) return liveInBatch ? null : 'not visible to this branch';
		if (!readable) return 'not visible to this branch';
		const parent = parentRev(doc);
		const othersLive = existing.liveRevs.some((rev) => rev !== parent);
		return othersLive || liveInBatch ? null : 'a ticket is never deleted';
	}
	if (doc.type === 'att') {
		const ticketId = doc.ticketId;
		if (!doc._id.startsWith('att:') || typeof ticketId !== 'string') {
			return 'not an attachment document';
		}
		if (!doc._id.startsWith(`att:${ticketId}:`)) return 'an attachment names its ticket in its id';
		if (existing) return readable ? 'attachments are never changed' : 'not visible to this branch';
		return canRead('tickets', doc, scopes) ? null : 'not visible to this branch';
	}
	// The authors and their permissions were checked at the branch's /sync. What remains is
	// refuseTicketWrite's own part: type and id, visibility, valid and unchanged events, derived fields.
	return refuseTicketWrite(
		doc,
		BRANCH_WRITER,
		scopes,
		{ readable, known: existing?.events ?? new Map() },
		{ authorsChecked: true }
	);
}

/** Stands for "the branch server" where refuseTicketWrite wants a user; never an event author. */
const BRANCH_WRITER = { _id: 'branch:', permissions: [], departmentId: '' };
