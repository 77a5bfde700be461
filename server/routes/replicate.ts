/**
 * `/replicate/<db>` (F29): server-to-server replication for branch offices, the same protocol subset as
 * `/sync` (`replication-protocol.ts`) under a branch's policy (`branches/access.ts`). Every request
 * carries `Authorization: Bearer <branch>:<key>` (BRANCHES) or is answered 401. `config` and `users` are
 * read-only; `tickets` both ways, limited to the branch's scopes, its writes under a user's `/sync` rules
 * with the users it serves as authors (as the center's accounts and crews say). Checkpoints are stored per
 * branch and per scope hash, so a change of the branch's departments or crews restarts its replication
 * cleanly.
 */
import { Hono, type Context } from 'hono';
import { createHash } from 'node:crypto';
import { AppError } from '../errors';
import { scopeHash } from '../services/access';
import {
	BRANCH_DBS,
	branchAuthors,
	branchCanRead,
	branchSelector,
	refuseBranchWrites,
	type Account,
	type BranchDb
} from '../branches/access';
import type { CrewDoc } from '#shared/docs/config';
import { couchError, replicationHandler, type ReplicationPolicy } from './replication-protocol';
import type { BranchConfig } from '../config';
import type { AppDeps, AppEnv } from '../context';

export const replicateRoutes = (deps: AppDeps) => {
	const { store, instanceId, configAdmin } = deps;
	const registry = deps.branches.center;
	const branchOf = new WeakMap<Request, BranchConfig>();

	/** The center's accounts of these ids (authors of the events a branch writes). */
	async function accounts(ids: string[]): Promise<Map<string, Account>> {
		const out = new Map<string, Account>();
		if (ids.length === 0) return out;
		return store.db<Account>('users').getMany(ids);
	}

	async function policyOf(c: Context<AppEnv>, dbKey: string): Promise<ReplicationPolicy | null> {
		if (!BRANCH_DBS.includes(dbKey as BranchDb)) return null;
		const branch = branchOf.get(c.req.raw)!;
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
	}

	const handle = replicationHandler({ store, instanceId, mount: '/replicate', policyOf });

	return new Hono<AppEnv>()
		.use(async (c, next) => {
			const branch = registry.authenticate(c.req.header('authorization'));
			if (!branch) {
				return c.json({ error: 'unauthorized', reason: 'A branch name and key are required' }, 401);
			}
			registry.markSeen(branch.name);
			branchOf.set(c.req.raw, branch);
			await next();
		})
		.all('/*', async (c) => {
			try {
				return await handle(c);
			} catch (err) {
				if (err instanceof AppError) throw err;
				if (err instanceof SyntaxError) return couchError(400, 'bad_request', 'invalid JSON');
				throw err;
			}
		});
};
