/**
 * The replication doors' protocol (`protocol.ts`) with the two kinds of caller it serves: signed-in users'
 * devices (`user-policy.ts`, `/sync`) and branch offices' servers (`branch-policy.ts`, `/replicate`).
 */
import type { BranchRegistry } from '../branches/center';
import type { ConfigAdmin } from '../services/config-admin';
import { createAttachmentQuota } from '../services/attachment-quota';
import type { Store } from '../store';
import { createBranchPolicies } from './branch-policy';
import { createReplication } from './protocol';
import { createUserPolicies } from './user-policy';

export function createReplicationDoors({
	store,
	instanceId,
	configAdmin,
	branches,
	syncWindowMs,
	log
}: {
	store: Store;
	/** A stable id of this server (the CouchDB-protocol `uuid`). */
	instanceId: string;
	configAdmin: ConfigAdmin;
	branches: Pick<BranchRegistry, 'scopesOf'>;
	syncWindowMs: number;
	log?: (msg: string) => void;
}) {
	return {
		...createReplication({ store, instanceId, log }),
		/** A signed-in user's policy for a database of `/sync`. */
		userPolicy: createUserPolicies({
			configAdmin,
			quota: createAttachmentQuota(store),
			syncWindowMs
		}),
		/** A branch office's policy for a database of `/replicate`. */
		branchPolicy: createBranchPolicies({ store, configAdmin, registry: branches })
	};
}
export type ReplicationDoors = ReturnType<typeof createReplicationDoors>;
