/**
 * F29 `GET /api/branches`: at the center, the configured branch offices with when each last replicated
 * and how many tickets it holds; at a branch, the state of its link to the center.
 */
import { Hono } from 'hono';
import { BranchHealth } from '#shared/wire/branches';
import { requirePermission } from '../middleware/auth';
import { doc, send } from '../openapi';
import type { AppDeps, AppEnv } from '../context';

export const branchRoutes = ({ branches }: AppDeps) =>
	new Hono<AppEnv>().get(
		'/',
		doc(
			"Shows the branch offices' replication, or this branch's link to its center (F29)",
			BranchHealth
		),
		requirePermission('admin.settings'),
		async (c) =>
			send(c, BranchHealth, {
				branches: await branches.center.summaries(),
				link: branches.link?.status() ?? null
			})
	);
