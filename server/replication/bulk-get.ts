/**
 * `_bulk_get`: the revisions a pulling replicator asks for, each checked against the policy — repeats
 * removed, at most `bulkGetRevs`, answered as a stream fetched from the store `bulkGetChunk` at a time, and
 * `attachments=true` never passed on: PouchDB's replicator fetches files one by one (`GET <id>/<file>`),
 * and inlining them let one request grow into gigabytes (issue #13). A revision the feed hub read when it
 * changed (`feed-hub.ts`) is answered from its memory: a new center ticket costs the store one read, not
 * one per agent's device.
 */
import type { Database, Doc } from '../store';
import { couchError, pick } from './answers';
import { REPLICATION_LIMITS } from './limits';
import type { FeedHub } from './feed-hub';
import type { ReplicationPolicy } from './policy';

const BULK_GET_PARAMS = ['revs', 'latest'];

type Wanted = { id: string; rev?: string };

/** The `docs` of a `_bulk_get`, checked, bounded and without repeats; or why it is refused. */
function wantedOf(docs: unknown): Wanted[] | string {
	if (!Array.isArray(docs)) return 'docs must be a list';
	const seen = new Set<string>();
	const out: Wanted[] = [];
	for (const d of docs as unknown[]) {
		const { id, rev } = (d ?? {}) as { id?: unknown; rev?: unknown };
		if (typeof id !== 'string' || (rev !== undefined && typeof rev !== 'string')) {
			return 'each entry is {id, rev}';
		}
		const key = `${id}\u0000${rev ?? ''}`;
		if (seen.has(key)) continue;
		seen.add(key);
		out.push(rev === undefined ? { id } : { id, rev });
	}
	if (out.length > REPLICATION_LIMITS.bulkGetRevs) {
		return `At most ${REPLICATION_LIMITS.bulkGetRevs} revisions per request`;
	}
	return out;
}

/**
 * One chunk of a `_bulk_get` from the store, each revision checked: the results' JSON text (without
 * the surrounding list), the store's own bytes when nothing is withheld.
 */
async function chunk(
	db: Database,
	policy: ReplicationPolicy,
	docs: Wanted[],
	params: URLSearchParams
): Promise<string> {
	const text = await db.bulkGet(docs, params);
	const body = JSON.parse(text) as {
		results: { id: string; docs: ({ ok: Doc } | { error: unknown })[] }[];
	};
	const deletedIds = body.results
		.filter((r) => r.docs.some((d) => 'ok' in d && d.ok._deleted))
		.map((r) => r.id);
	const current = await db.getMany(deletedIds);
	let withheld = false;
	for (const result of body.results) {
		result.docs = result.docs.map((d) => {
			if (!('ok' in d)) return d;
			// A tombstone (a merged-away conflict) is served to whoever may read the document.
			const allowed =
				d.ok._deleted && policy.tombstonesFollowWinner
					? policy.canRead(current.get(result.id) ?? { _id: result.id })
					: policy.canRead(d.ok);
			if (allowed) return d;
			withheld = true;
			return { error: { id: result.id, rev: d.ok._rev, error: 'not_found', reason: 'missing' } };
		});
	}
	if (withheld) return body.results.map((r) => JSON.stringify(r)).join(',');
	return text.slice(text.indexOf('[') + 1, text.lastIndexOf(']')).trim();
}

/**
 * `POST _bulk_get`, answered as a stream fetched from the store a chunk at a time (the next one while the
 * current one is sent), so one request never holds more than two chunks in memory.
 */
export async function bulkGet(
	db: Database,
	policy: ReplicationPolicy,
	request: Request,
	hub?: FeedHub
): Promise<Response> {
	const asked = (await request.json()) as { docs?: unknown };
	const wanted = wantedOf(asked?.docs);
	if (typeof wanted === 'string') return couchError(400, 'bad_request', wanted);
	const params = pick(new URL(request.url).searchParams, BULK_GET_PARAMS);
	// From the hub's memory: a winning revision it read, asked with its history as the replicator asks.
	const hits: string[] = [];
	let docs = wanted;
	if (hub && params.get('revs') === 'true') {
		docs = [];
		for (const w of wanted) {
			const hit = w.rev ? hub.cached(w.id, w.rev) : undefined;
			if (hit && policy.canRead(hit.doc)) {
				hits.push(`{"id":${JSON.stringify(w.id)},"docs":[{"ok":${hit.text}}]}`);
			} else docs.push(w);
		}
	}
	const size = REPLICATION_LIMITS.bulkGetChunk;
	const chunks: Wanted[][] = [];
	for (let i = 0; i < docs.length; i += size) chunks.push(docs.slice(i, i + size));
	const fetchChunk = (i: number) =>
		i < chunks.length ? chunk(db, policy, chunks[i]!, params) : null;
	// The first chunk before answering, so that a failing store is a proper error status.
	let next = fetchChunk(0);
	const first = [...hits, ...(next ? [await next] : [])].filter((t) => t !== '').join(',');
	next = fetchChunk(1);
	next?.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
	const encoder = new TextEncoder();
	let index = 1;
	let wrote = first !== '';
	const stream = new ReadableStream<Uint8Array>({
		start(controller) {
			controller.enqueue(encoder.encode(`{"results":[${first}`));
		},
		async pull(controller) {
			if (!next) {
				controller.enqueue(encoder.encode(']}'));
				controller.close();
				return;
			}
			try {
				const text = await next;
				index += 1;
				next = fetchChunk(index);
				next?.catch(() => {});
				if (text) {
					controller.enqueue(encoder.encode((wrote ? ',' : '') + text));
					wrote = true;
				}
			} catch (err) {
				controller.error(err);
			}
		}
	});
	return new Response(stream, { headers: { 'content-type': 'application/json' } });
}
