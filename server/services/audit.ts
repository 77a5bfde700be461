/** The audit trail (F33): who did what to which account or setting, with before/after, in `cc_audit`. */
import { randomUUID } from 'node:crypto';
import type { AuditEntry, AuditQuery } from '#shared/wire/audit';
import type { Store } from '../store';

/** What a service records; the time is added here. */
export type AuditRecord = Omit<AuditEntry, 'at'>;

interface AuditDoc extends AuditEntry {
	/** `audit:<ISO time>:<uuid>`, so a key range is a time range. */
	_id: string;
	type: 'audit';
}

/** Entries read per request at most, before the filters that are not key ranges. */
const SCAN_LIMIT = 5000;

export function createAudit(store: Store) {
	const db = store.db<AuditDoc>('audit');
	return {
		async record(entry: AuditRecord): Promise<void> {
			const at = new Date().toISOString();
			await db.insert({ _id: `audit:${at}:${randomUUID()}`, type: 'audit', at, ...entry });
		},

		/** F33: the entries that match, newest first. */
		async list(q: AuditQuery): Promise<AuditEntry[]> {
			const res = await db.allDocs({
				descending: true,
				startkey: q.to ? `audit:${q.to}T\ufff0` : 'audit:\ufff0',
				endkey: q.from ? `audit:${q.from}` : 'audit:',
				include_docs: true,
				limit: SCAN_LIMIT
			});
			return res.rows
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
		}
	};
}
export type Audit = ReturnType<typeof createAudit>;
