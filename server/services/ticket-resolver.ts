/**
 * The server's conflict resolver (DESIGN.md): follows the tickets database's changes feed and, whenever
 * devices that edited the same ticket offline left conflicting revisions, writes the union of their events
 * as the winner and deletes the losing revisions — deterministic, lossless, no human needed. Its position in
 * the feed is kept in a `_local` checkpoint, so a restart resumes where it stopped.
 */
import { CENTER_DEPARTMENT_ID } from '#shared/docs/config';
import { mergeTickets, type TicketDoc } from '#shared/tickets/ticket';
import { followChanges } from '../store/follow';
import type { Store } from '../store';

const CHECKPOINT = '_local/ticket-resolver';

type Doc = TicketDoc & { _conflicts?: string[] };

export function startTicketResolver(store: Store, log: (msg: string) => void = () => {}) {
	const db = store.dbName('tickets');
	const json = { 'content-type': 'application/json', accept: 'application/json' };

	async function get<T>(path: string): Promise<T | null> {
		const res = await store.fetch(`/${db}/${path}`, { headers: json });
		return res.ok ? ((await res.json()) as T) : null;
	}

	/** Merges every conflict of one ticket; returns true when something was written. */
	async function resolve(doc: Doc, signal: AbortSignal): Promise<boolean> {
		if (!doc._conflicts?.length || doc.type !== 'ticket') return false;
		let merged: TicketDoc = doc;
		const losers: string[] = [];
		for (const rev of doc._conflicts) {
			const other = await get<TicketDoc>(`${encodeURIComponent(doc._id)}?rev=${rev}`);
			if (!other) continue;
			merged = mergeTickets(merged, other, CENTER_DEPARTMENT_ID);
			losers.push(rev);
		}
		const { _conflicts: _, ...winner } = { ...merged, _rev: doc._rev } as Doc;
		const res = await store.fetch(`/${db}/_bulk_docs`, {
			method: 'POST',
			headers: json,
			body: JSON.stringify({
				docs: [winner, ...losers.map((rev) => ({ _id: doc._id, _rev: rev, _deleted: true }))]
			}),
			signal
		});
		const results = (await res.json()) as { id: string; error?: string }[];
		const failed = results.filter((r) => r.error);
		if (failed.length > 0) log(`ticket resolver: ${doc._id}: ${JSON.stringify(failed)}`);
		return true;
	}

	const follower = followChanges<Doc>(store, 'tickets', {
		name: 'ticket resolver',
		includeDocs: true,
		conflicts: true,
		log,
		since: async () => (await get<{ seq: string }>(CHECKPOINT).catch(() => null))?.seq ?? '0',
		onBatch: async (changes, lastSeq, signal) => {
			for (const change of changes) if (change.doc) await resolve(change.doc, signal);
			const current = await get<{ _rev: string }>(CHECKPOINT);
			await store.fetch(`/${db}/${CHECKPOINT}`, {
				method: 'PUT',
				headers: json,
				body: JSON.stringify({ seq: lastSeq, ...(current ? { _rev: current._rev } : {}) }),
				signal
			});
		}
	});
	return { stop: () => follower.stop() };
}
