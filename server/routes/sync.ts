/**
 * `/sync/<db>`: the only way a browser replicates. It speaks exactly the part of the CouchDB replication
 * protocol PouchDB uses (`replication-protocol.ts`), for the signed-in user, and checks every document
 * against `access.ts` before it leaves or enters the store. Everything else (`_all_docs`, `_find`,
 * `_all_dbs`, design documents, attachments by path, other databases) is refused. Checkpoints are stored
 * per user and per scope hash.
 */
import { Hono, type Context } from 'hono';
import { createHash } from 'node:crypto';
import { AppError } from '../errors';
import { requireUser } from '../middleware/auth';
import {
	attachmentBytes,
	canRead,
	changesSelector,
	refuseDeviceDeletion as refuseDeletion,
	refuseTicketWrites,
	scopeHash,
	scopesOf,
	SYNC_DBS,
	userWriteRules,
	type SyncDb
} from '../services/access';
import { createAttachmentQuota } from '../services/attachment-quota';
import { couchError, replicationHandler, type ReplicationPolicy } from './replication-protocol';
import type { AppDeps, AppEnv } from '../context';

const CREW_CACHE_MS = 2_000;

export const syncRoutes = (deps: AppDeps) => {
	const { store, config, instanceId, configAdmin } = deps;
	const crewCache = new Map<string, { crewIds: string[]; until: number }>();
	const quota = createAttachmentQuota(store);

	/** The user's crews (part of their scopes), cached briefly: a replicator asks many times a minute. */
	async function crewsOf(userId: string): Promise<string[]> {
		const hit = crewCache.get(userId);
		if (hit && hit.until > Date.now()) return hit.crewIds;
		const crewIds = await configAdmin.crewsOf(userId);
		crewCache.set(userId, { crewIds, until: Date.now() + CREW_CACHE_MS });
		return crewIds;
	}

	/** What the signed-in user may do with one of the databases devices replicate. */
	async function policyOf(c: Context<AppEnv>, dbKey: string): Promise<ReplicationPolicy | null> {
		if (!SYNC_DBS.includes(dbKey as SyncDb)) return null;
		const user = c.get('user')!;
		const db = dbKey as SyncDb;
		const crewIds = await crewsOf(user._id);
		const scopes = scopesOf({ ...user, crewIds });
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
					windowMs: config.syncWindowMs,
					...(docIds ? { docIds } : {})
				}),
			canRead: (doc) => canRead(db, doc, scopes),
			tombstonesFollowWinner: db === 'tickets',
			servesAttachments: false,
			// Every write under the rules of services/access.ts, photos within the user's daily quota.
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
	}

	const handle = replicationHandler({
		store,
		instanceId,
		mount: '/sync',
		policyOf,
		ownerOf: (c) => c.get('user')!._id,
		// A live feed ends with its sign-in (sign-out, password reset, disabled account, expiry).
		watch: (c, onEnd) => deps.sessions.watch(c.get('sessionToken')!, c.get('user')!._id, onEnd)
	});

	return new Hono<AppEnv>().use(requireUser()).all('/*', async (c) => {
		try {
			return await handle(c);
		} catch (err) {
			if (err instanceof AppError) throw err;
			if (err instanceof SyntaxError) return couchError(400, 'bad_request', 'invalid JSON');
			throw err;
		}
	});
};
