/**
 * The replication doors' protocol (`protocol.ts`) with the two kinds of caller it serves: signed-in users'
 * devices (`user-policy.ts`, `/sync`) and branch offices' servers (`branch-policy.ts`, `/replicate`).
 */
import { join } from 'node:path';
import type { BranchRegistry } from '../branches/center';
import type { ConfigAdmin } from '../services/config-admin';
import { createAttachmentQuota } from '../services/attachment-quota';
import type { Store } from '../store';
import { createBranchPolicies } from './branch-policy';
import { createFeedHub, type FeedHub } from './feed-hub';
import { createReplication } from './protocol';
import { createUserPolicies } from './user-policy';

export function createReplicationDoors({
	store,
	instanceId,
	configAdmin,
	branches,
	syncWindowMs,
	recentTickets,
	fanout,
	snapshots,
	log
}: {
	store: Store;
	/** A stable id of this server (the CouchDB-protocol `uuid`). */
	instanceId: string;
	configAdmin: ConfigAdmin;
	branches: Pick<BranchRegistry, 'scopesOf'>;
	syncWindowMs: number;
	/** How many recently changed department tickets a device's first listing holds (`SYNC_RECENT_TICKETS`). */
	recentTickets: number;
	/** One feed per replicated database fanned out in memory (`feed-hub.ts`), instead of a store feed each. */
	fanout: boolean;
	/** Where the hubs save their snapshots (none: every start reads the store from 0), and of which store. */
	snapshots?: { dir: string; store: string };
	log?: (msg: string) => void;
}) {
	const snapshot = (db: string) =>
		snapshots
			? { snapshotPath: join(snapshots.dir, `sync-hub-${db}.v8`), storeIdentity: snapshots.store }
			: {};
	const hubs: Partial<Record<'tickets' | 'config', FeedHub>> = fanout
		? {
				// Tickets older than every window are never listed again until they change.
				tickets: createFeedHub({
					store,
					dbKey: 'tickets',
					retain: (facts, now) => facts.updatedAt >= now - syncWindowMs,
					...snapshot('tickets'),
					log
				}),
				config: createFeedHub({ store, dbKey: 'config', ...snapshot('config'), log })
			}
		: {};
	return {
		...createReplication({ store, instanceId, hubs, log }),
		/** What each feed hub holds (`GET /api/metrics`). */
		feedStats: () =>
			Object.fromEntries(
				Object.entries(hubs).map(([db, hub]) => {
					const { documents, waiters } = hub.stats();
					return [db, { documents, waiters }];
				})
			),
		/** Stops following the store (at shutdown). */
		async stopHubs() {
			await Promise.all(Object.values(hubs).map((hub) => hub.stop()));
		},
		/** A signed-in user's policy for a database of `/sync`. */
		userPolicy: createUserPolicies({
			configAdmin,
			quota: createAttachmentQuota(store),
			syncWindowMs,
			recentTickets
		}),
		/** A branch office's policy for a database of `/replicate`. */
		branchPolicy: createBranchPolicies({ store, configAdmin, registry: branches })
	};
}
export type ReplicationDoors = ReturnType<typeof createReplicationDoors>;
