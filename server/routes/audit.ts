/** F33: the audit trail, newest first, filtered by who, what, which record and when. */
import { Hono } from 'hono';
import * as v from 'valibot';
import { requirePermission } from '../middleware/auth';
import { parseOrThrow } from '../validate';
import type { AppDeps, AppEnv } from '../context';

const AuditQuery = v.object({
	actor: v.optional(v.pipe(v.string(), v.maxLength(80)), ''),
	action: v.optional(v.pipe(v.string(), v.maxLength(80)), ''),
	target: v.optional(v.pipe(v.string(), v.maxLength(80)), ''),
	from: v.optional(v.union([v.literal(''), v.pipe(v.string(), v.isoDate('date_invalid'))]), ''),
	to: v.optional(v.union([v.literal(''), v.pipe(v.string(), v.isoDate('date_invalid'))]), ''),
	limit: v.optional(
		v.pipe(v.string(), v.transform(Number), v.integer(), v.minValue(1), v.maxValue(500)),
		'100'
	)
});

export const auditRoutes = ({ audit }: AppDeps) =>
	new Hono<AppEnv>().use(requirePermission('admin.audit')).get('/', async (c) => {
		const entries = await audit.list(parseOrThrow(AuditQuery, c.req.query()));
		return c.json({ entries }, 200);
	});
