/**
 * `_bulk_docs`: a pushing replicator's revisions, each checked by the policy (`checkWrites`) against what
 * the store already holds of it — every leaf's events — before anything is stored. Only replicated writes
 * (`new_edits: false`), at most `bulkDocs` documents; refused ones are answered as CouchDB's `forbidden`
 * results beside what the store stored.
 */
import { eventFingerprint } from '#shared/tickets/ticket';
import type { TicketEvent } from '#shared/tickets/events';
import { StoreError, type BulkResult, type Database, type Doc } from '../store';
import { couchError, json, storeAnswer } from './answers';
import { REPLICATION_LIMITS } from './limits';
import type { Existing, ReplicationPolicy } from './policy';

/** For each id with a live winner: the winner, the ids of all events in any leaf, the live leaves. */
async function existing(db: Database, ids: string[]): Promise<Map<string, Existing>> {
	const out = new Map<string, Existing>();
	const current = await db.getMany(ids);
	await Promise.all(
		[...current].map(async ([id, winner]) => {
			const leaves = (await db.openRevs(id)) as { ok?: Doc }[];
			const events = new Map<string, string>();
			const liveRevs: string[] = [];
			const live: Existing['leaves'] = [];
			for (const leaf of leaves) {
				const list = Array.isArray(leaf.ok?.events) ? (leaf.ok.events as TicketEvent[]) : [];
				if (leaf.ok && !leaf.ok._deleted && leaf.ok._rev) {
					liveRevs.push(leaf.ok._rev);
					live.push({ rev: leaf.ok._rev, events: list });
				}
				for (const e of list) if (e.id) events.set(e.id, eventFingerprint(e));
			}
			out.set(id, { winner, events, liveRevs, leaves: live });
		})
	);
	return out;
}

/** `POST _bulk_docs`. */
export async function bulkDocs(
	db: Database,
	policy: ReplicationPolicy,
	request: Request
): Promise<Response> {
	if (policy.readOnly) return couchError(403, 'forbidden', 'This database is read-only');
	const body = (await request.json()) as { docs?: Doc[]; new_edits?: boolean };
	if (!Array.isArray(body.docs) || body.new_edits !== false) {
		return couchError(400, 'bad_request', 'Only replicated writes (new_edits: false) are accepted');
	}
	const docs = body.docs;
	if (docs.some((d) => typeof d !== 'object' || d === null || typeof d._id !== 'string')) {
		return couchError(400, 'bad_request', 'Every document has an _id');
	}
	// Each document costs look-ups in the store: a request carries a bounded number of them.
	if (docs.length > REPLICATION_LIMITS.bulkDocs) {
		return couchError(400, 'bad_request', `At most ${REPLICATION_LIMITS.bulkDocs} documents`);
	}
	const held = await existing(db, [...new Set(docs.map((d) => d._id))]);
	const check = await policy.checkWrites(docs, held, (ids) =>
		existing(
			db,
			ids.filter((id) => !held.has(id))
		)
	);
	const refused: { id: string; rev?: string; error: string; reason: string }[] = [];
	const accepted: Doc[] = [];
	docs.forEach((doc, i) => {
		const reason = check.reasons[i] === undefined ? 'not checked' : check.reasons[i];
		if (reason) {
			refused.push({
				id: doc._id,
				...(doc._rev ? { rev: doc._rev } : {}),
				error: 'forbidden',
				reason
			});
		} else accepted.push(doc);
	});
	let written: Doc[] = [];
	try {
		let stored: BulkResult[] = [];
		if (accepted.length > 0) {
			try {
				stored = await db.bulkDocs(accepted, { newEdits: false });
			} catch (err) {
				if (err instanceof StoreError) return storeAnswer(err);
				throw err;
			}
		}
		// With new_edits: false the store lists only the revisions it did not store.
		const failed = new Set(stored.filter((r) => r.error).map((r) => `${r.id} ${r.rev}`));
		written = accepted.filter((d) => !failed.has(`${d._id} ${d._rev}`));
		return json([...stored, ...refused], 201);
	} finally {
		await check.stored?.(written);
	}
}
