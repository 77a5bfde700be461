/**
 * `/replicate/<db>` (F29): server-to-server replication for branch offices, the same protocol subset as
 * `/sync` (`replication-protocol.ts`) under a branch's policy (`branches/access.ts`). Every request
 * carries `Authorization: Bearer <branch>:<key>` (BRANCHES) or is answered 401. `config` and `users` are
 * read-only; `tickets` both ways, limited to the branch's scopes. Checkpoints are stored per branch and
 * per scope hash, so a change of the branch's departments or crews restarts its replication cleanly.
 */
import { Hono, type Context } from 'hono';
import { createHash } from 'node:crypto';
import { AppError } from '../errors';
import { scopeHash } from '../services/access';
import {
	BRANCH_DBS,
	branchCanRead,
	branchSelector,
	refuseBranchWrite,
	type BranchDb
} from '../branches/access';
import { couchError, replicationHandler, type ReplicationPolicy } from './replication-protocol';
import type { BranchConfig } from '../config';
import type { AppDeps, AppEnv } from '../context';

export const replicateRoutes = (deps: AppDeps) => {
	const { store, instanceId } = deps;
	const registry = deps.branches.center;
	const branchOf = new WeakMap<Request, BranchConfig>();

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
			refuseWrite: (doc, existing, batch) => refuseBranchWrite(doc, scopes, existing, batch)
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
