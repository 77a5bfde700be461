/**
 * The server's conflict resolver (DESIGN.md): follows the tickets database's changes feed and, whenever
 * devices that edited the same ticket offline left conflicting revisions, writes the union of their events
 * as the winner and deletes the losing revisions — deterministic, lossless, no human needed. Its position in
 * the feed is kept in a `_local` checkpoint, so a restart resumes where it stopped.
 */
import { CENTER_DEPARTMENT_ID } from '#shared/docs/config';
import { mergeTickets, type TicketDoc } from '#shared/tickets/ticket';
import type { UnresolvedConflict } from '#shared/wire/devices';
import { followChanges } from '../store/follow';
import { StoreError, type Store } from '../store';

/** Its place in the tickets' changes feed (a `_local` document: never replicated). */
const CHECKPOINT = 'ticket-resolver';

/** A conflict set aside for administrators, in the audit database beside the audit trail. */
export type ConflictDoc = UnresolvedConflict & { _id: string; _rev?: string };

type Doc = TicketDoc & { _conflicts?: string[] };

export function startTicketResolver(store: Store, log: (msg: string) => void = () => {}) {
	const tickets = store.db<Doc>('tickets');
	const audit = store.db<ConflictDoc>('audit');

	/**
	 * The rare conflict the rule cannot merge (a revision that is not a valid ticket, or two revisions of a
	 * document that is not a ticket): kept as it is, with every version, for administrators (同步状态).
	 */
	async function setAside(doc: Doc, reason: string, signal: AbortSignal) {
		const versions: UnresolvedConflict['versions'] = [doc];
		for (const rev of doc._conflicts ?? []) {
			const other = await tickets.find(doc._id, { rev });
			if (other) versions.push(other);
		}
		const id = `conflict:${doc._id}`;
		const current = await audit.find(id);
		const record: ConflictDoc = {
			_id: id,
			type: 'conflict',
			docId: doc._id,
			at: new Date().toISOString(),
			reason,
			versions
		};
		await audit
			.insert(current ? { ...record, _rev: current._rev } : record, { signal })
			.catch((err: unknown) => {
				if (!(err instanceof StoreError)) throw err;
			});
		log(`ticket resolver: ${doc._id} cannot be merged (${reason}); shown to administrators`);
	}

	/**
	 * Merges every conflict of one ticket; returns true when something was written. The merged winner is
	 * written alone first; only once it is stored are the merged losing revisions deleted, so a write that
	 * races a device (409) never leaves a loser deleted whose events are not yet in the winner. A revision
	 * that cannot be read is left as it is (nothing to merge, and rewriting for it would loop).
	 */
	async function resolve(doc: Doc, signal: AbortSignal): Promise<boolean> {
		if (!doc._conflicts?.length) return false;
		if (doc.type !== 'ticket') {
			await setAside(doc, 'not a ticket', signal);
			return false;
		}
		let merged: TicketDoc = doc;
		const losers: string[] = [];
		for (const rev of doc._conflicts) {
			const other = (await tickets.find(doc._id, { rev })) as
				(TicketDoc & { _deleted?: boolean }) | null;
			if (!other || other._deleted) continue;
			try {
				merged = mergeTickets(merged, other, CENTER_DEPARTMENT_ID);
			} catch (err) {
				await setAside(doc, err instanceof Error ? err.message : String(err), signal);
				return false;
			}
			losers.push(rev);
		}
		if (losers.length === 0) return false;
		const { _conflicts: _, ...winner } = { ...merged, _rev: doc._rev } as Doc;
		try {
			await tickets.insert(winner, { signal });
		} catch (err) {
			if (!(err instanceof StoreError)) throw err;
			// Someone wrote the ticket since we read it: the changes feed brings it back with its conflicts.
			log(
				`ticket resolver: ${doc._id}: winner not written (${err.statusCode}), retried from the feed`
			);
			return false;
		}
		const results = await tickets.bulkDocs(
			losers.map((rev) => ({ _id: doc._id, _rev: rev, _deleted: true })),
			{ signal }
		);
		const failed = results.filter((r) => r.error);
		if (failed.length > 0) log(`ticket resolver: ${doc._id}: ${JSON.stringify(failed)}`);
		return true;
	}

	const follower = followChanges<Doc>(store, 'tickets', {
		name: 'ticket resolver',
		includeDocs: true,
		conflicts: true,
		log,
		since: async () =>
			(await tickets.local.get<{ seq: string }>(CHECKPOINT).catch(() => null))?.seq ?? '0',
		onBatch: async (changes, lastSeq, signal) => {
			for (const change of changes) if (change.doc) await resolve(change.doc, signal);
			const current = await tickets.local.get(CHECKPOINT);
			// A checkpoint that is not written only means this batch is read again after a restart.
			await tickets.local
				.put(CHECKPOINT, { seq: lastSeq, ...(current ? { _rev: current._rev } : {}) }, { signal })
				.catch((err: unknown) => {
					if (!(err instanceof StoreError)) throw err;
				});
		}
	});
	return { stop: () => follower.stop() };
}
