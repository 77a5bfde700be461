/**
 * F29 `GET /api/branches`: at the center, the configured branch offices with when each last replicated
 * and how many tickets it holds; at a branch, the state of its link to the center.
 */
import { Hono } from 'hono';
import { requirePermission } from '../middleware/auth';
import type { AppDeps, AppEnv } from '../context';

export const branchRoutes = ({ branches }: AppDeps) =>
	new Hono<AppEnv>().use(requirePermission('admin.settings')).get('/', async (c) =>
		c.json(
			{
				branches: await branches.center.summaries(),
				link: branches.link?.status() ?? null
			},
			200
		)
	);
