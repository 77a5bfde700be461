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

interface AuditDoc {
	_id: string;
	at: string;
	actor: string;
	action: string;
	target: string;
	before?: unknown;
	after?: unknown;
}

export const auditRoutes = ({ store }: AppDeps) =>
	new Hono<AppEnv>().use(requirePermission('admin.audit')).get('/', async (c) => {
		const q = parseOrThrow(AuditQuery, c.req.query());
		// Ids are `audit:<ISO time>:<uuid>`, so a key range is a time range, newest first.
		const res = await store.db<AuditDoc>('audit').allDocs({
			descending: true,
			startkey: q.to ? `audit:${q.to}T\ufff0` : 'audit:\ufff0',
			endkey: q.from ? `audit:${q.from}` : 'audit:',
			include_docs: true,
			limit: 5000
		});
		const entries = res.rows
			.flatMap((r) => (r.doc ? [r.doc] : []))
			.filter((d) => !q.actor || d.actor === q.actor)
			.filter((d) => !q.action || d.action.startsWith(q.action))
			.filter((d) => !q.target || d.target === q.target)
			.slice(0, q.limit)
			.map(({ at, actor, action, target, before, after }) => ({
				at,
				actor,
				action,
				target,
				before,
				after
			}));
		return c.json({ entries }, 200);
	});
