/**
 * Devices (DESIGN.md: device codes, sync health). Each browser asks once, at its first signed-in start, for
 * a short code unique across the installation, and numbers its tickets offline with it. Devices also report
 * how their replica is doing; a report belongs to the device and the user signed in on it (a workstation's
 * code is shared by everyone who signs in there), so nobody overwrites another user's report. Reports and
 * the code counter are server-only documents in `cc_users`; the conflicts the resolver set aside are read
 * from `cc_audit`.
 */
import type { DeviceHealth, DeviceReport, UnresolvedConflict } from '#shared/wire/devices';
import { storeStatus } from '../errors';
import type { Store } from '../store';
import type { ConflictDoc } from './ticket-resolver';

/** A device's report as kept: `device:<code>:<user id>`. */
export type DeviceHealthDoc = DeviceHealth & { _id: string; _rev?: string; type: 'device' };

interface Counter {
	_id: string;
	_rev?: string;
	type: 'counter';
	value: number;
}

/** Where the report of one device and user is kept. */
const healthId = (code: string, userId: string) => `device:${code}:${userId}`;
const COUNTER_ID = 'counter:devices';

export function createDevices({
	store,
	branchName
}: {
	store: Store;
	/** At a branch office (F29), its name: its codes are kept apart from the center's. */
	branchName: string | null;
}) {
	const users = store.db<DeviceHealthDoc>('users');
	const counters = store.db<Counter>('users');
	const audit = store.db<ConflictDoc>('audit');

	return {
		/** Every device's latest report per user — what it holds and what waits on it. */
		async health(): Promise<DeviceHealth[]> {
			const res = await users.allDocs({
				startkey: 'device:',
				endkey: 'device:\ufff0',
				include_docs: true
			});
			// Reports kept under the device alone (before they were kept per user) are left out.
			const devices = res.rows.flatMap((r) =>
				r.doc && r.doc._id === healthId(r.doc.code, r.doc.userId) ? [r.doc] : []
			);
			return devices.map(({ _id: _, _rev: __, type: ___, ...d }) => d);
		},

		/** Conflicts the union-of-events rule could not merge, with every version. */
		async conflicts(): Promise<UnresolvedConflict[]> {
			const res = await audit.allDocs({
				startkey: 'conflict:',
				endkey: 'conflict:\ufff0',
				include_docs: true
			});
			return res.rows.flatMap((r) => (r.doc ? [r.doc] : [])).map(({ _id: _, _rev: __, ...d }) => d);
		},

		/** Keeps the report of one device and user (the latest wins; a concurrent one is as fresh). */
		async report(code: string, userId: string, report: DeviceReport): Promise<void> {
			const doc: DeviceHealthDoc = {
				_id: healthId(code, userId),
				type: 'device',
				code,
				userId,
				seenAt: new Date().toISOString(),
				...report
			};
			for (let attempt = 0; attempt < 5; attempt++) {
				const current = await users.get(doc._id).catch(() => null);
				try {
					await users.insert(current ? { ...doc, _rev: current._rev } : doc);
					return;
				} catch (err) {
					if (storeStatus(err) !== 409) throw err;
				}
			}
			// Another report of the same device and user won the race; it is as fresh.
		},

		/**
		 * A new device code (base 36, at least 3 characters; a branch's prefixed with its name), or null when
		 * too many devices register at the same moment.
		 */
		async newCode(): Promise<string | null> {
			// Optimistic increment: a concurrent allocation makes the store answer 409, and we read again.
			for (let attempt = 0; attempt < 20; attempt++) {
				const current = await counters.get(COUNTER_ID).catch(() => null);
				const next: Counter = current
					? { ...current, value: current.value + 1 }
					: { _id: COUNTER_ID, type: 'counter', value: 1 };
				try {
					await counters.insert(next);
					const serial = next.value.toString(36).toUpperCase().padStart(3, '0');
					const branch = branchName?.toUpperCase().replace(/[^0-9A-Z]/g, '');
					return branch ? `${branch}-${serial}` : serial;
				} catch (err) {
					if (storeStatus(err) !== 409) throw err;
				}
			}
			return null;
		}
	};
}
export type Devices = ReturnType<typeof createDevices>;
