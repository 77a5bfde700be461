/**
 * `GET /api/metrics`: how the server itself is doing — memory, CPU, the event loop since the previous read,
 * and what it asked of the store — for monitoring and the capacity benchmark (issue #15).
 */
import * as v from 'valibot';

export const Metrics = v.object({
	uptimeSeconds: v.number(),
	memory: v.object({ rssBytes: v.number(), heapUsedBytes: v.number() }),
	/** CPU time of the process since it started. */
	cpu: v.object({ userMs: v.number(), systemMs: v.number() }),
	/** Since the previous read of the metrics (or the start): how busy and how late the event loop was. */
	eventLoop: v.object({
		utilization: v.number(),
		delayMs: v.object({ p50: v.number(), p99: v.number(), max: v.number() })
	}),
	/** The feed hub of each database devices replicate (`SYNC_FANOUT`): documents in memory, waiting long-polls. */
	feeds: v.record(v.string(), v.object({ documents: v.number(), waiters: v.number() })),
	store: v.object({
		/** Calls of each operation of each database since the start (`tickets` → `bulkDocs` → 12). */
		operations: v.record(v.string(), v.record(v.string(), v.number())),
		/** Writes the embedded store accepted; null for Apache CouchDB. */
		writes: v.nullable(v.number())
	})
});
export type Metrics = v.InferOutput<typeof Metrics>;
