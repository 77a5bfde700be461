/**
 * Branch offices on the wire (F29): at the center, each configured branch with when it last replicated and
 * how many tickets it holds; at a branch, the state of its link to the center and of each replication.
 */
import * as v from 'valibot';

export const BranchSummary = v.object({
	name: v.string(),
	departmentIds: v.array(v.string()),
	/** When the branch last called `/replicate`; null if never. */
	lastSeenAt: v.nullable(v.string()),
	/** Ticket documents visible to the branch's scopes, i.e. those it holds once caught up. */
	tickets: v.number()
});
export type BranchSummary = v.InferOutput<typeof BranchSummary>;

export const LINK_STATES = ['starting', 'active', 'paused', 'offline', 'error', 'standby'] as const;
/**
 * active: copying; paused: caught up, waiting for changes; offline: center unreachable; error: refused;
 * standby: another app server of this branch holds the singletons' lease and runs the link (issue #16).
 */
export const LinkState = v.picklist(LINK_STATES);
export type LinkState = v.InferOutput<typeof LinkState>;

/** One of the branch's replications with the center. */
export const ReplicationStatus = v.object({
	db: v.picklist(['config', 'users', 'tickets']),
	direction: v.picklist(['pull', 'push']),
	state: LinkState,
	/** When this replication last caught up or copied a batch. */
	lastSyncAt: v.nullable(v.string()),
	docsRead: v.number(),
	docsWritten: v.number(),
	/** Documents the other side refused (e.g. a ticket not visible to the branch). */
	docsDenied: v.number(),
	lastError: v.nullable(v.string()),
	/** When a failed replication starts again (earlier if the center answers a probe first). */
	retryAt: v.nullable(v.string())
});
export type ReplicationStatus = v.InferOutput<typeof ReplicationStatus>;

/** A branch office's link to its center. */
export const LinkStatus = v.object({
	center: v.string(),
	name: v.string(),
	/** The worst state of the replications. */
	state: LinkState,
	replications: v.array(ReplicationStatus)
});
export type LinkStatus = v.InferOutput<typeof LinkStatus>;

/** `GET /api/branches`: the branches served (at the center) and the link to the center (at a branch). */
export const BranchHealth = v.object({
	branches: v.array(BranchSummary),
	link: v.nullable(LinkStatus)
});
export type BranchHealth = v.InferOutput<typeof BranchHealth>;
