/**
 * Sizes the server and the devices agree on, so a replication batch always fits the server's body limit:
 * a device that pushed batches too large for it would be refused (413) on every retry and never sync.
 */
import { ATTACHMENT_MAX_BASE64 } from './attachment';

/** The largest replication request `/sync` and `/replicate` accept. */
export const SYNC_BODY_MAX_BYTES = 64 * 1024 * 1024;

/** Room for a document's fields beside its photo. */
const DOC_OVERHEAD_BYTES = 64 * 1024;

/**
 * Documents per push batch: even a batch of nothing but the largest photos fits the body limit (11).
 * Pulls are not bounded by it and use larger batches.
 */
export const PUSH_BATCH_SIZE = Math.floor(
	SYNC_BODY_MAX_BYTES / (ATTACHMENT_MAX_BASE64 + DOC_OVERHEAD_BYTES)
);

/**
 * How a device replicates `tickets` (`src/lib/replication/tickets-db.ts`; the capacity benchmark's device
 * and its witness test use the same). Pulls in large batches (first sync); pushes in batches that always fit
 * the body limit. Both directions keep their checkpoints on the device only (issue #15: a checkpoint read and
 * write on the server after every batch were most of what devices asked of it); the server marks its
 * positions with the device's scopes instead (`ReplicationPolicy.positionTag`).
 */
export const TICKET_REPLICATION = {
	pull: { batch_size: 500, checkpoint: 'target' },
	push: { batch_size: PUSH_BATCH_SIZE, checkpoint: 'source' }
} as const;
