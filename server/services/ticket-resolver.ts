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

/** A conflict set aside for administrators, in the audit database beside the audit trail. */
export interface UnresolvedConflict {
	_id: string;
	_rev?: string;
	type: 'conflict';
	docId: string;
	at: string;
	reason: string;
	/** The winning revision first, then each conflicting one, as stored. */
	versions: object[];
}

type Doc = TicketDoc & { _conflicts?: string[] };

export function startTicketResolver(store: Store, log: (msg: string) => void = () => {}) {
	const db = store.dbName('tickets');
	const json = { 'content-type': 'application/json', accept: 'application/json' };

	async function get<T>(path: string): Promise<T | null> {
		const res = await store.fetch(`/${db}/${path}`, { headers: json });
		return res.ok ? ((await res.json()) as T) : null;
	}

	/**
	 * The rare conflict the rule cannot merge (a revision that is not a valid ticket, or two revisions of a
	 * document that is not a ticket): kept as it is, with every version, for administrators (同步状态).
	 */
	async function setAside(doc: Doc, reason: string, signal: AbortSignal) {
		const versions = [doc as object];
		for (const rev of doc._conflicts ?? []) {
			const other = await get<object>(`${encodeURIComponent(doc._id)}?rev=${rev}`);
			if (other) versions.push(other);
		}
		const id = `conflict:${doc._id}`;
		const audit = `/${store.dbName('audit')}/${encodeURIComponent(id)}`;
		const current = await store
			.fetch(audit, { headers: json })
			.then((r) => (r.ok ? (r.json() as Promise<{ _rev: string }>) : null));
		const record: UnresolvedConflict = {
			_id: id,
			type: 'conflict',
			docId: doc._id,
			at: new Date().toISOString(),
			reason,
			versions
		};
		await store.fetch(audit, {
			method: 'PUT',
			headers: json,
			body: JSON.stringify(current ? { ...record, _rev: current._rev } : record),
			signal
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
			const other = await get<TicketDoc & { _deleted?: boolean }>(
				`${encodeURIComponent(doc._id)}?rev=${rev}`
			);
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
		const written = await store.fetch(`/${db}/${encodeURIComponent(doc._id)}`, {
			method: 'PUT',
			headers: json,
			body: JSON.stringify(winner),
			signal
		});
		if (!written.ok) {
			// Someone wrote the ticket since we read it: the changes feed brings it back with its conflicts.
			log(
				`ticket resolver: ${doc._id}: winner not written (${written.status}), retried from the feed`
			);
			return false;
		}
		const res = await store.fetch(`/${db}/_bulk_docs`, {
			method: 'POST',
			headers: json,
			body: JSON.stringify({
				docs: losers.map((rev) => ({ _id: doc._id, _rev: rev, _deleted: true }))
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
