/**
 * The server's conflict resolver (DESIGN.md): follows the tickets database's changes feed and, whenever
 * devices that edited the same ticket offline left conflicting revisions, writes the union of their events
 * as the winner and deletes the losing revisions — deterministic, lossless, no human needed. Its position in
 * the feed is kept in a `_local` checkpoint, so a restart resumes where it stopped.
 */
import { CENTER_DEPARTMENT_ID } from '#shared/docs/config';
import { mergeTickets, type TicketDoc } from '#shared/tickets/ticket';
import type { Store } from '../store';

const LONGPOLL_MS = 25_000;
const RETRY_MS = 2_000;
const CHECKPOINT = '_local/ticket-resolver';

type Doc = TicketDoc & { _conflicts?: string[] };

export function startTicketResolver(store: Store, log: (msg: string) => void = () => {}) {
	const db = store.dbName('tickets');
	let stopped = false;
	let abort = new AbortController();
	const json = { 'content-type': 'application/json', accept: 'application/json' };

	async function get<T>(path: string): Promise<T | null> {
		const res = await store.fetch(`/${db}/${path}`, { headers: json, signal: abort.signal });
		return res.ok ? ((await res.json()) as T) : null;
	}

	/** Merges every conflict of one ticket; returns true when something was written. */
	async function resolve(doc: Doc): Promise<boolean> {
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
			signal: abort.signal
		});
		const results = (await res.json()) as { id: string; error?: string }[];
		const failed = results.filter((r) => r.error);
		if (failed.length > 0) log(`ticket resolver: ${doc._id}: ${JSON.stringify(failed)}`);
		return true;
	}

	async function loop() {
		let since = (await get<{ seq: string }>(CHECKPOINT).catch(() => null))?.seq ?? '0';
		while (!stopped) {
			try {
				const res = await store.fetch(
					`/${db}/_changes?feed=longpoll&timeout=${LONGPOLL_MS}&conflicts=true&include_docs=true&since=${encodeURIComponent(since)}`,
					{ headers: json, signal: abort.signal }
				);
				const body = (await res.json()) as { results: { doc?: Doc }[]; last_seq: string };
				for (const change of body.results) if (change.doc) await resolve(change.doc);
				since = body.last_seq;
				const current = await get<{ _rev: string }>(CHECKPOINT);
				await store.fetch(`/${db}/${CHECKPOINT}`, {
					method: 'PUT',
					headers: json,
					body: JSON.stringify({ seq: since, ...(current ? { _rev: current._rev } : {}) }),
					signal: abort.signal
				});
			} catch (err) {
				if (stopped) return;
				log(`ticket resolver: ${(err as Error).message}; retrying`);
				await new Promise((r) => setTimeout(r, RETRY_MS));
				abort = new AbortController();
			}
		}
	}

	const running = loop();
	return {
		async stop() {
			stopped = true;
			abort.abort();
			await running.catch(() => {});
		}
	};
}
