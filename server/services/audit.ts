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

export function createAudit(store: Store) {
	const db = store.db('audit');
	return {
		async record(entry: AuditEntry): Promise<void> {
			const at = new Date().toISOString();
			await db.insert({ _id: `audit:${at}:${randomUUID()}`, type: 'audit', at, ...entry });
		}
	};
}
export type Audit = ReturnType<typeof createAudit>;
