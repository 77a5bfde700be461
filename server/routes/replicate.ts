/**
 * `/replicate/<db>` (F29): server-to-server replication for branch offices, the same protocol subset as
 * `/sync` (`server/replication/`) under a branch's policy (`replication/branch-policy.ts`). Every request
 * carries `Authorization: Bearer <branch>:<key>` (BRANCHES) or is answered 401.
 */
import { Hono } from 'hono';
import type { BranchSettings } from '../settings';
import type { AppDeps, AppEnv } from '../context';

export const replicateRoutes = ({ replication, branches }: AppDeps) => {
	const registry = branches.center;
	const branchOf = new WeakMap<Request, BranchSettings>();
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
		.all('/*', (c) => {
			const branch = branchOf.get(c.req.raw)!;
			return replication.serve(c.req.raw, '/replicate', {
				policyOf: (db) => replication.branchPolicy(branch, db)
			});
		});
};
