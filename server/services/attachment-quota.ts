/**
 * The ledger of the per-user daily photo quota (issue #13): how many photos and bytes each user stored
 * through `/sync` on the center's day (UTC+8), one `_local` document per user in the server-only audit
 * database (never replicated, never listed). The rule itself is `refuseTicketWrites`'s (`ticket-access.ts`); this
 * only keeps the count. A user's writes are serialised here, so two parallel pushes cannot both spend the
 * last of the quota. Counted by the day the server receives the photos, not the day the device says they
 * were taken: a writer chooses that time, and could spread a flood over past days.
 */
import type { QuotaUse } from './ticket-access';
import type { Store } from '../store';

interface LedgerDoc extends QuotaUse {
	_rev?: string;
	day: string;
}

/** The center's calendar day of a moment (China Standard Time, as the reports count days). */
const dayOf = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10);

export function createAttachmentQuota(store: Store) {
	const queues = new Map<string, Promise<void>>();
	const audit = store.db('audit');
	const ledgerId = (userId: string) => `attachment-quota:${userId}`;

	/** Waits for the user's earlier writes to finish; the returned function lets the next one go. */
	async function turn(userId: string): Promise<() => void> {
		const before = queues.get(userId) ?? Promise.resolve();
		let release!: () => void;
		const mine = new Promise<void>((resolve) => (release = resolve));
		const tail = before.then(() => mine);
		queues.set(userId, tail);
		await before;
		return () => {
			release();
			if (queues.get(userId) === tail) queues.delete(userId);
		};
	}

	const read = (userId: string) => audit.local.get<LedgerDoc>(ledgerId(userId));

	return {
		/**
		 * Opens the user's ledger for one write: what they stored today, and `close` to add what this write
		 * stored. Until `close`, the user's other writes wait.
		 */
		async open(
			userId: string,
			now: number
		): Promise<{ used: QuotaUse; close(added: QuotaUse): Promise<void> }> {
			const release = await turn(userId);
			try {
				const day = dayOf(now);
				const doc = await read(userId);
				const used =
					doc?.day === day ? { count: doc.count, bytes: doc.bytes } : { count: 0, bytes: 0 };
				return {
					used,
					async close(added) {
						try {
							if (added.count === 0) return;
							const next: LedgerDoc = {
								day,
								count: used.count + added.count,
								bytes: used.bytes + added.bytes,
								...(doc?._rev ? { _rev: doc._rev } : {})
							};
							await audit.local.put(ledgerId(userId), next);
						} finally {
							release();
						}
					}
				};
			} catch (err) {
				release();
				throw err;
			}
		}
	};
}
export type AttachmentQuota = ReturnType<typeof createAttachmentQuota>;
