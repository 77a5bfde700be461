/** The audit trail (F33): who did what to which account or setting, with before/after, in `cc_audit`. */
import { randomUUID } from 'node:crypto';
import type { Store } from '../store';

export interface AuditEntry {
	actor: string;
	action: string;
	target: string;
	before?: unknown;
	after?: unknown;
}

interface AuditDoc extends AuditEntry {
	/** `audit:<ISO time>:<uuid>`, so a key range is a time range. */
	_id: string;
	type: 'audit';
	at: string;
}

/** Which entries to read: by actor, by the action's beginning, by target, from/to days (inclusive). */
export interface AuditFilter {
	actor: string;
	action: string;
	target: string;
	from: string;
	to: string;
	limit: number;
}

/** Entries read per request at most, before the filters that are not key ranges. */
const SCAN_LIMIT = 5000;

export function createAudit(store: Store) {
	const db = store.db<AuditDoc>('audit');
	return {
		async record(entry: AuditEntry): Promise<void> {
			const at = new Date().toISOString();
			await db.insert({ _id: `audit:${at}:${randomUUID()}`, type: 'audit', at, ...entry });
		},

		/** F33: the entries that match, newest first. */
		async list(q: AuditFilter): Promise<(AuditEntry & { at: string })[]> {
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
