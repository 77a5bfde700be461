/**
 * Call records (F25/F31/F32) in `cc_calls`: each finished call as the ACD recorded it (who, from, to,
 * queue, ring and talk times, outcome) and whether it has a recording. Ids sort by arrival, so a period is
 * a key range: today's calls are restored into the wallboard after a restart, and a period's calls make the
 * statistics — also while telephony is off.
 */
import { callStats, menuStats } from '#shared/calls/stats';
import type { CallStats, MenuOutcome } from '#shared/wire/telephony';
import type { Store } from '../store';
import type { CallRecord } from './acd';

/** A finished call as stored (id sorts by arrival, so a date range is a key range). */
export type CallDoc = CallRecord & { _id: string; _rev?: string; type: 'call'; recording: boolean };
export const callDocId = (r: Pick<CallRecord, 'arrivedAt' | 'callId'>) =>
	`call:${new Date(r.arrivedAt).toISOString()}:${r.callId}`;

/** #18 a call's time in the voice menu, as it ended (`menu:` ids, beside the ACD's `call:` ones). */
export interface MenuCallRecord {
	callId: string;
	caller: string;
	hotline: string;
	arrivedAt: number;
	endedAt: number;
	outcome: MenuOutcome;
	/** The nodes entered, in order: id and title (as the menu's version of that call named them). */
	path: { id: string; title: string }[];
	keys: string[];
	/** Titles of the fault notices the caller heard. */
	notices: string[];
	/** Who ended the call: the caller, the agent, the menu … */
	endedBy: string;
}
export type MenuCallDoc = MenuCallRecord & { _id: string; _rev?: string; type: 'menuCall' };
const menuDocId = (r: Pick<MenuCallRecord, 'arrivedAt' | 'callId'>) =>
	`menu:${new Date(r.arrivedAt).toISOString()}:${r.callId}`;

const ATTEMPTS = 4;

export function createCallRecords({ store }: { store: Store }) {
	const calls = store.db<CallDoc>('calls');

	/** The stored calls that arrived from `start` (inclusive) to `end` (ids up to that moment). */
	async function between(start: string, end: string): Promise<CallDoc[]> {
		const rows = await calls.allDocs({
			startkey: `call:${start}`,
			endkey: `call:${end}`,
			include_docs: true
		});
		return rows.rows.flatMap((r) => (r.doc ? [r.doc] : []));
	}

	/** #18 the voice menu's calls that arrived from `start` to `end`. */
	async function menuBetween(start: string, end: string): Promise<MenuCallDoc[]> {
		const rows = await store.db<MenuCallDoc>('calls').allDocs({
			startkey: `menu:${start}`,
			endkey: `menu:${end}`,
			include_docs: true
		});
		return rows.rows.flatMap((r) => (r.doc?.type === 'menuCall' ? [r.doc] : []));
	}

	return {
		/** Stores a finished call (again, keeping its recording mark); retried a few times on a conflict. */
		async save(record: CallRecord): Promise<void> {
			const _id = callDocId(record);
			for (let attempt = 1; ; attempt++) {
				try {
					const current = await calls.get(_id).catch(() => null);
					await calls.insert({
						...record,
						_id,
						type: 'call',
						recording: current?.recording ?? false,
						...(current ? { _rev: current._rev } : {})
					});
					return;
				} catch (err) {
					if (attempt >= ATTEMPTS) throw err;
				}
			}
		},

		/** #18 stores how a call in the voice menu ended (once: a menu call ends once). */
		async saveMenu(record: MenuCallRecord): Promise<void> {
			await store
				.db<MenuCallDoc>('calls')
				.insert({ ...record, _id: menuDocId(record), type: 'menuCall' });
		},

		/** Marks a stored call as having a recording to play (F32); false when it is not stored (yet). */
		async markRecorded(record: Pick<CallRecord, 'arrivedAt' | 'callId'>): Promise<boolean> {
			const doc = await calls.get(callDocId(record)).catch(() => null);
			if (!doc) return false;
			await calls.insert({ ...doc, recording: true }).catch(() => null);
			return true;
		},

		/** The calls that arrived since local midnight (the wallboard's day). */
		today(): Promise<CallDoc[]> {
			const start = new Date();
			start.setHours(0, 0, 0, 0);
			return between(start.toISOString(), '\ufff0');
		},

		/** F25: the figures of the calls that arrived from day `from` to day `to` (center days, UTC+8). */
		async stats(from: string, to: string, serviceLevelSeconds: number): Promise<CallStats> {
			const start = new Date(`${from}T00:00:00+08:00`);
			const end = new Date(Date.parse(`${to}T00:00:00+08:00`) + 86_400_000);
			const [calls, menu] = await Promise.all([
				between(start.toISOString(), end.toISOString()),
				menuBetween(start.toISOString(), end.toISOString())
			]);
			return {
				...callStats(calls, serviceLevelSeconds),
				...(menu.length > 0
					? {
							menu: menuStats(
								menu.map((m) => ({ outcome: m.outcome, path: m.path.map((n) => n.title) }))
							)
						}
					: {})
			};
		}
	};
}
export type CallRecords = ReturnType<typeof createCallRecords>;
