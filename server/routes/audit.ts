/** F33: the audit trail, newest first, filtered by who, what, which record and when. */
import { Hono } from 'hono';
import { AuditEntries, AuditQuery } from '#shared/wire/audit';
import { requirePermission } from '../middleware/auth';
import { doc, send } from '../openapi';
import { validQuery } from '../validate';
import type { AppDeps, AppEnv } from '../context';

export const auditRoutes = ({ audit }: AppDeps) =>
	new Hono<AppEnv>()
		.use(requirePermission('admin.audit'))
		.get(
			'/',
			doc('The audit trail, newest first, filtered', AuditEntries),
			validQuery(AuditQuery),
			async (c) => send(c, AuditEntries, { entries: await audit.list(c.req.valid('query')) })
		);
