/**
 * What one caller may do with one database through a replication door: the policy each door builds
 * (`user-policy.ts` for a signed-in user's `/sync`, `branch-policy.ts` for a branch office's `/replicate`)
 * and the protocol's endpoints obey. The access rules (`services/ticket-access.ts`,
 * `branches/branch-access.ts`) reach the protocol only through it.
 */
import type { DbKey, Doc } from '../store';
import type { FeedView, HubEntry } from './feed-hub';

export type { Doc };

/** What the store already holds of a document that a caller writes. */
export interface Existing {
	/** The current winning revision (never a deletion). */
	winner: Doc;
	/** Every event in any leaf revision: its id and its content's fingerprint (`eventFingerprint`). */
	events: Map<string, string>;
	/** The revisions of the leaves that are not deleted. */
	liveRevs: string[];
	/** The leaves that are not deleted, with their events (what a revision replacing one must keep). */
	leaves: { rev: string; events: unknown[] }[];
}

/** What one caller may do with one database. */
export interface ReplicationPolicy {
	/** The store database behind the door. */
	dbKey: DbKey;
	/** The name the caller knows the database by (`db_name` of its info). */
	name: string;
	readOnly: boolean;
	/** Store id (after `_local/`) of the caller's checkpoint document `_local/<clientId>`. */
	checkpointId(clientId: string): string;
	/** The server's own `_changes` selector; `docIds` when the replicator asked for those only. */
	selector(docIds?: string[]): Record<string, unknown>;
	/**
	 * What the caller's `_changes` lists, decided in memory by the feed hub (`feed-hub.ts`) — the rule of
	 * `selector`, and on a first listing possibly less (a bounded working set). Absent: the door asks the
	 * store's own filtered feed (branch offices, a few callers).
	 */
	visible?(entry: HubEntry, view: FeedView): boolean;
	/**
	 * Marks the feed hub's positions handed to this caller with what it may see (`<position>.<tag>`): devices
	 * keep their checkpoints themselves, so a position given under other scopes (a user moved to another
	 * department, added to a crew) starts a first listing again instead of skipping what is newly visible.
	 */
	positionTag?: string;
	canRead(doc: Doc): boolean;
	/** Whether a deleted revision is served to whoever may read the document's current winner. */
	tombstonesFollowWinner: boolean;
	/**
	 * Whether `GET <id>/<file>` serves a readable document's attachment (the replicator fetches each one
	 * so); otherwise attachment paths are refused.
	 */
	servesAttachments: boolean;
	/**
	 * Checks one `_bulk_docs` request: for each document in order, null when the caller may store it or the
	 * reason it may not. `held`: what the store holds of the request's ids; `lookup` reads more (e.g. the
	 * ticket an attachment names). `stored` is called once with what was stored (also after a failure).
	 */
	checkWrites(
		docs: readonly Doc[],
		held: ReadonlyMap<string, Existing>,
		lookup: (ids: string[]) => Promise<Map<string, Existing>>
	): Promise<{ reasons: (string | null)[]; stored?(docs: readonly Doc[]): Promise<void> }>;
}

/** Who is asking through a door, as far as the protocol needs to know. */
export interface Caller {
	/** The policy for a database key in the path, or null when the caller may not replicate it (403). */
	policyOf(dbKey: string): Promise<ReplicationPolicy | null>;
	/** Whom per-caller bounds (live feeds, checkpoints) count against; none for trusted callers. */
	owner?: string;
	/** Ends a live feed when the caller's sign-in ends (returns the unwatch function). */
	watch?(onEnd: () => void): () => void;
}
