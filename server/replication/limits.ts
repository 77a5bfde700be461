/** Bounds of one replication request (issue #13): what PouchDB sends stays well inside them (batches of 500). */
export const REPLICATION_LIMITS = {
	/** Revisions one `_bulk_get` may ask for (after removing repeats). */
	bulkGetRevs: 1_000,
	/** Revisions fetched from the store at a time while a `_bulk_get` answer streams out. */
	bulkGetChunk: 100,
	/** Documents one `_bulk_docs` may carry (devices push 11, branches a few hundred at most). */
	bulkDocs: 1_000,
	/** Documents one `_revs_diff` may ask about, and revisions in all. */
	revsDiffDocs: 1_000,
	revsDiffRevs: 5_000,
	/** `doc_ids` of a filtered `_changes`. */
	docIds: 1_000,
	/** `limit` of `_changes`. */
	changesLimit: 1_000,
	/** `heartbeat` of a feed is clamped into this range (ms): 1 ms heartbeats were accepted. */
	heartbeatMinMs: 5_000,
	heartbeatMaxMs: 60_000,
	/** `timeout` of a feed at most (ms). */
	feedTimeoutMaxMs: 60_000,
	/** Live feeds one caller (user) may hold open at once; more get 429. */
	feedsPerOwner: 12,
	/** A checkpoint (`_local`) document's size, and how many one caller keeps (the oldest go first). */
	checkpointBytes: 16 * 1024,
	checkpointsPerOwner: 32
} as const;
