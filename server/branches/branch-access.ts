/**
 * What a branch office's server may read and write through the center's `/replicate/<db>` (F29). Pure
 * functions beside `services/ticket-access.ts`, whose rules they reuse: a branch reads the configuration and the
 * accounts whole (never design documents, sessions or counters) and the tickets visible to its scopes (its
 * departments and their crews); it writes tickets and attachments visible to those scopes under the same
 * rules as a user's `/sync` — every new event by a user the branch serves (a user of its departments or a
 * member of its crews, as the center's accounts say) with the permission for it — and it never deletes an
 * event: it deletes only revisions its resolver merged away, whose events live on in another revision.
 */
import {
	ancestry,
	canRead,
	changesSelector,
	refuseTicketWrites,
	type Author,
	type BatchSoFar,
	type HeldDoc,
	type WriteRules,
	type WrittenDoc
} from '../services/ticket-access';
import type { TicketEvent } from '#shared/tickets/events';
import type { Doc } from '../store';

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

/** An account as the center holds it, as far as authorship needs it. */
export interface Account {
	_id: string;
	type?: unknown;
	departmentId: string;
	permissions: readonly string[];
}

/** A crew as the center's configuration holds it. */
export interface Crew {
	_id: string;
	departmentId: string;
	memberIds: readonly string[];
}

/**
 * Who may author events through a branch: the users of its departments and the members of its crews, with
 * their permissions and crews as the center holds them.
 */
export function branchAuthors(
	departmentIds: readonly string[],
	accounts: ReadonlyMap<string, Account>,
	crews: readonly Crew[]
): (id: string) => Author | string {
	return (id) => {
		const account = accounts.get(id);
		if (!account || account.type !== 'user') return `${id} is not a known user`;
		const crewIds = crews.filter((c) => c.memberIds.includes(id)).map((c) => c._id);
		const served =
			departmentIds.includes(account.departmentId) ||
			crews.some((c) => departmentIds.includes(c.departmentId) && c.memberIds.includes(id));
		if (!served) return `${id} is not a user this branch serves`;
		return {
			_id: id,
			departmentId: account.departmentId,
			permissions: account.permissions,
			crewIds
		};
	};
}

/**
 * A branch's resolver deletes the revisions it merged away. Such a deletion is stored only when it loses no
 * event: every event of each live revision it replaces must be in a live revision that stays (on the
 * center, or accepted in the same request), so a ticket itself is never deleted.
 */
export function refuseMergedDeletion(
	doc: WrittenDoc,
	held: HeldDoc | null,
	batch: BatchSoFar,
	scopes: readonly string[]
): string | null {
	if (!doc._id.startsWith('ticket:')) return 'only merged ticket revisions are deleted';
	if (held && !canRead('tickets', held.winner, scopes)) return 'not visible to this branch';
	const replaces = new Set(ancestry(doc));
	const staying = [
		...(held?.leaves ?? [])
			.filter((leaf) => !replaces.has(leaf.rev) && !batch.dead.has(leaf.rev))
			.map((leaf) => leaf.events as TicketEvent[]),
		...batch.live.filter((d) => !replaces.has(d._rev ?? '')).map((d) => d.events)
	];
	if (!held) return staying.length > 0 ? null : 'not visible to this branch';
	if (staying.length === 0) return 'a ticket is never deleted';
	const kept = new Set(staying.flat().map((e) => e.id));
	for (const leaf of held.leaves) {
		if (!replaces.has(leaf.rev)) continue;
		const lost = (leaf.events as TicketEvent[]).find((e) => !kept.has(e.id));
		if (lost) {
			return `a branch never deletes events: ${lost.id} of ${leaf.rev} is in no other revision`;
		}
	}
	return null;
}

/**
 * May a branch store these revisions in the center's tickets database? `held`: what the center holds of
 * the request's ids and of its attachments' tickets. For each document in order: null, or the reason.
 * Two differences from a device, both for what a branch's replication does on its own: a photo may arrive
 * before its ticket or the ticket's dispatch (the branch pushes in its changes order, in batches, and a
 * refused document is never sent again), so it may then be visible to its author and one of the author's
 * crews the branch serves; and no photo quota is counted (the branch's own `/sync` counted each user's
 * photos, and the backlog of a long outage must still arrive).
 */
export function refuseBranchWrites(
	docs: readonly Doc[],
	held: ReadonlyMap<string, HeldDoc>,
	rules: WriteRules
): (string | null)[] {
	return refuseTicketWrites(docs, held, rules, {
		refuseDeletion: (doc, h, batch) => refuseMergedDeletion(doc, h, batch, rules.scopes),
		ticketMayFollow: true
	});
}
