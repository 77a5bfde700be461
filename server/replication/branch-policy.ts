/**
 * A branch office's policy on the center's `/replicate/<db>` (F29), under the rules of
 * `branches/branch-access.ts`: `config` and `users` read-only; `tickets` both ways, limited to the branch's
 * scopes, its writes under a user's `/sync` rules with the users it serves as authors (as the center's
 * accounts and crews say). Checkpoints are stored per branch and per scope hash, so a change of the branch's
 * departments or crews restarts its replication cleanly.
 */
import { createHash } from 'node:crypto';
import type { CrewDoc } from '#shared/docs/config';
import {
	BRANCH_DBS,
	branchAuthors,
	branchCanRead,
	branchSelector,
	refuseBranchWrites,
	type Account,
	type BranchDb
} from '../branches/branch-access';
import type { BranchRegistry } from '../branches/center';
import type { BranchSettings } from '../settings';
import { scopeHash } from '../services/ticket-access';
import type { ConfigAdmin } from '../services/config-admin';
import type { Store } from '../store';
import type { ReplicationPolicy } from './policy';

export function createBranchPolicies({
	store,
	configAdmin,
	registry
}: {
	store: Store;
	configAdmin: Pick<ConfigAdmin, 'knownIds' | 'all'>;
	registry: Pick<BranchRegistry, 'scopesOf'>;
}) {
	const users = store.db<Account>('users');

	/** The center's accounts of these ids (authors of the events a branch writes). */
	async function accounts(ids: string[]): Promise<Map<string, Account>> {
		if (ids.length === 0) return new Map();
		return users.getMany(ids);
	}

	/** What a branch may do with one of the databases branches replicate; null for others. */
	return async function policyOf(
		branch: BranchSettings,
		dbKey: string
	): Promise<ReplicationPolicy | null> {
		if (!BRANCH_DBS.includes(dbKey as BranchDb)) return null;
		const db = dbKey as BranchDb;
		const scopes = db === 'tickets' ? await registry.scopesOf(branch) : [];
		return {
			dbKey: db,
			name: db,
			readOnly: db !== 'tickets',
			checkpointId: (clientId) =>
				'branch-' +
				createHash('sha256')
					.update(JSON.stringify([branch.name, scopeHash('tickets', scopes), db, clientId]))
					.digest('hex'),
			selector: (docIds) => branchSelector(db, scopes, docIds),
			canRead: (doc) => branchCanRead(db, doc, scopes),
			tombstonesFollowWinner: db === 'tickets',
			servesAttachments: db === 'tickets',
			// The rules of a user's /sync, with the branch's scopes and the users it serves as authors.
			async checkWrites(docs, held, lookup) {
				if (db !== 'tickets') return { reasons: docs.map(() => 'This database is read-only') };
				const named = docs.flatMap((d) =>
					d.type === 'att' && typeof d.ticketId === 'string' ? [d.ticketId] : []
				);
				const authors = new Set<string>();
				for (const d of docs) {
					if (typeof d.by === 'string') authors.add(d.by);
					for (const e of Array.isArray(d.events) ? (d.events as { by?: unknown }[]) : []) {
						if (typeof e?.by === 'string') authors.add(e.by);
					}
				}
				const [more, known, crews, users] = await Promise.all([
					lookup([...new Set(named)]),
					configAdmin.knownIds(),
					configAdmin.all<CrewDoc>('crew'),
					accounts([...authors])
				]);
				const rules = {
					scopes,
					author: branchAuthors(branch.departmentIds, users, crews),
					known,
					now: Date.now()
				};
				return { reasons: refuseBranchWrites(docs, new Map([...held, ...more]), rules) };
			}
		};
	};
}
export type BranchPolicies = ReturnType<typeof createBranchPolicies>;
