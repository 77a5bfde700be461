/**
 * A signed-in user's policy on `/sync/<db>` (the only way a browser replicates): the configuration
 * read-only, the tickets within the user's scopes (`services/ticket-access.ts`) and the working-set window, every
 * pushed revision under the user's write rules and photos within the daily quota. Checkpoints are stored per
 * user and per scope hash, so a change of the user's department or crews restarts replication cleanly.
 */
import { createHash } from 'node:crypto';
import {
	attachmentBytes,
	canRead,
	changesSelector,
	inFirstListing,
	inSyncSet,
	refuseDeviceDeletion as refuseDeletion,
	refuseTicketWrites,
	scopeHash,
	scopesOf,
	SYNC_DBS,
	userWriteRules,
	type SyncDb
} from '../services/ticket-access';
import type { AttachmentQuota } from '../services/attachment-quota';
import type { UserDoc } from '../services/accounts';
import type { ConfigAdmin } from '../services/config-admin';
import type { ReplicationPolicy } from './policy';

export function createUserPolicies({
	configAdmin,
	quota,
	syncWindowMs,
	recentTickets
}: {
	configAdmin: Pick<ConfigAdmin, 'crewsOf' | 'knownIds'>;
	quota: AttachmentQuota;
	/** How far back a device's working set reaches (SYNC_WINDOW_DAYS). */
	syncWindowMs: number;
	/** Of the tickets a department sees, how many of the most recently changed a device's first listing gets. */
	recentTickets: number;
}) {
	/** What the signed-in user may do with one of the databases devices replicate; null for others. */
	return async function policyOf(user: UserDoc, dbKey: string): Promise<ReplicationPolicy | null> {
		if (!SYNC_DBS.includes(dbKey as SyncDb)) return null;
		const db = dbKey as SyncDb;
		// From memory (services/config-index.ts): a replicator asks many times a minute.
		const crewIds = await configAdmin.crewsOf(user._id);
		const scopes = scopesOf({ ...user, crewIds });
		const principal = {
			own: [user._id, ...crewIds],
			department: scopes.includes(user.departmentId) ? user.departmentId : null
		};
		return {
			dbKey: db,
			name: db,
			readOnly: db === 'config',
			checkpointId: (clientId) =>
				'ck-' +
				createHash('sha256')
					.update(JSON.stringify([user._id, scopeHash(db, scopes), clientId]))
					.digest('hex'),
			selector: (docIds) =>
				changesSelector(db, scopes, {
					now: Date.now(),
					windowMs: syncWindowMs,
					...(docIds ? { docIds } : {})
				}),
			visible: (entry, view) =>
				inSyncSet(db, entry, scopes, { now: Date.now(), windowMs: syncWindowMs }) &&
				(db !== 'tickets' ||
					!view.first ||
					inFirstListing(entry, principal, {
						recent: recentTickets,
						newestFrom: view.newestFrom
					})),
			positionTag: scopeHash(db, scopes).slice(0, 8),
			canRead: (doc) => canRead(db, doc, scopes),
			tombstonesFollowWinner: db === 'tickets',
			servesAttachments: false,
			// Every write under the rules of services/ticket-access.ts, photos within the user's daily quota.
			async checkWrites(docs, held, lookup) {
				if (db !== 'tickets') return { reasons: docs.map(() => 'This database is read-only') };
				const named = docs.flatMap((d) =>
					d.type === 'att' && typeof d.ticketId === 'string' ? [d.ticketId] : []
				);
				const [more, known] = await Promise.all([
					lookup([...new Set(named)]),
					configAdmin.knownIds()
				]);
				const now = Date.now();
				const rules = userWriteRules(user, crewIds, known, now);
				const all = new Map([...held, ...more]);
				if (named.length === 0) {
					return { reasons: refuseTicketWrites(docs, all, rules, { refuseDeletion }) };
				}
				const ledger = await quota.open(user._id, now);
				try {
					const reasons = refuseTicketWrites(docs, all, rules, {
						refuseDeletion,
						quotaUsed: ledger.used
					});
					return {
						reasons,
						stored: (written) => {
							const photos = written.filter((d) => d.type === 'att');
							return ledger.close({
								count: photos.length,
								bytes: photos.reduce((sum, d) => sum + attachmentBytes(d), 0)
							});
						}
					};
				} catch (err) {
					await ledger.close({ count: 0, bytes: 0 });
					throw err;
				}
			}
		};
	};
}
export type UserPolicies = ReturnType<typeof createUserPolicies>;
