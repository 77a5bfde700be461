/**
 * The part of the CouchDB replication protocol PouchDB's replicator uses, served over the store for one
 * caller under a policy: which database, which documents it may read, which writes it may make, where its
 * checkpoints live. Shared by `/sync/<db>` (a signed-in user's device) and `/replicate/<db>` (a branch
 * office's server, F29); each door only decides the policy. Everything else (`_all_docs`, `_find`,
 * `_all_dbs`, design documents, attachments by path) is refused.
 */
import type { Context } from 'hono';
import { createHash } from 'node:crypto';
import type { AppEnv } from '../context';
import {
	StoreError,
	type BulkResult,
	type Database,
	type DbKey,
	type Doc,
	type Store
} from '../store';
import { eventFingerprint } from '#shared/tickets/ticket';
import type { TicketEvent } from '#shared/tickets/events';

export type { Doc };

/** What the store already holds of a document that a caller writes. */
export interface Existing {
	/** The current winning revision (never a deletion). */
	winner: Doc;
	/** Every event in any leaf revision: its id and its content's fingerprint (`eventFingerprint`). */
	events: Map<string, string>;
	/** The revisions of the leaves that are not deleted. */
	liveRevs: string[];
	/** The leaves that are not deleted, with their events (what a revision replacing one must keep). */
	leaves: { rev: string; events: unknown[] }[];
}

/** What one caller may do with one database. */
export interface ReplicationPolicy {
	/** The store database behind the door. */
	dbKey: DbKey;
	/** The name the caller knows the database by (`db_name` of its info). */
	name: string;
	readOnly: boolean;
	/** Store id (after `_local/`) of the caller's checkpoint document `_local/<clientId>`. */
	checkpointId(clientId: string): string;
	/** The server's own `_changes` selector; `docIds` when the replicator asked for those only. */
	selector(docIds?: string[]): Record<string, unknown>;
	canRead(doc: Doc): boolean;
	/** Whether a deleted revision is served to whoever may read the document's current winner. */
	tombstonesFollowWinner: boolean;
	/**
	 * Whether `GET <id>/<file>` serves a readable document's attachment (the replicator fetches each one
	 * so); otherwise attachment paths are refused.
	 */
	servesAttachments: boolean;
	/**
	 * Checks one `_bulk_docs` request: for each document in order, null when the caller may store it or the
	 * reason it may not. `held`: what the store holds of the request's ids; `lookup` reads more (e.g. the
	 * ticket an attachment names). `stored` is called once with what was stored (also after a failure).
	 */
	checkWrites(
		docs: readonly Doc[],
		held: ReadonlyMap<string, Existing>,
		lookup: (ids: string[]) => Promise<Map<string, Existing>>
	): Promise<{ reasons: (string | null)[]; stored?(docs: readonly Doc[]): Promise<void> }>;
}

const CHANGES_PARAMS = [
	'since',
	'limit',
	'feed',
	'heartbeat',
	'timeout',
	'style',
	'seq_interval',
	'include_docs',
	'conflicts'
];
const DOC_PARAMS = ['rev', 'revs', 'open_revs', 'latest', 'conflicts', 'revs_info'];
/**
 * `attachments` is not passed on: PouchDB's replicator fetches files one by one (`GET <id>/<file>`), and
 * inlining them let one request grow into gigabytes (issue #13).
 */
const BULK_GET_PARAMS = ['revs', 'latest'];

/** Bounds of one request (issue #13): what PouchDB sends stays well inside them (batches of 500). */
export const REPLICATION_LIMITS = {
	/** Revisions one `_bulk_get` may ask for (after removing repeats). */
	bulkGetRevs: 1_000,
	/** Revisions fetched from the store at a time while a `_bulk_get` answer streams out. */
	bulkGetChunk: 100,
	/** Documents one `_bulk_docs` may carry (devices push 11, branches a few hundred at most). */
	bulkDocs: 1_000,
	/** Documents one `_revs_diff` may ask about, and revisions in all. */
	revsDiffDocs: 1_000,
	revsDiffRevs: 5_000,
	/** `doc_ids` of a filtered `_changes`. */
	docIds: 1_000,
	/** `limit` of `_changes`. */
	changesLimit: 1_000,
	/** `heartbeat` of a feed is clamped into this range (ms): 1 ms heartbeats were accepted. */
	heartbeatMinMs: 5_000,
	heartbeatMaxMs: 60_000,
	/** `timeout` of a feed at most (ms). */
	feedTimeoutMaxMs: 60_000,
	/** Live feeds one caller (user) may hold open at once; more get 429. */
	feedsPerOwner: 12,
	/** A checkpoint (`_local`) document's size, and how many one caller keeps (the oldest go first). */
	checkpointBytes: 16 * 1024,
	checkpointsPerOwner: 32
} as const;

/** What a PouchDB checkpoint document holds (pouchdb-checkpointer); anything else is refused. */
const CHECKPOINT_FIELDS = new Set([
	'_id',
	'_rev',
	'last_seq',
	'session_id',
	'history',
	'replicator',
	'version'
]);

export const couchError = (status: number, error: string, reason: string) =>
	new Response(JSON.stringify({ error, reason }), {
		status,
		headers: { 'content-type': 'application/json' }
	});

/** The store's own refusal, handed on as it answered it. */
const storeAnswer = (err: StoreError) =>
	new Response(JSON.stringify(err.body), {
		status: err.statusCode,
		headers: { 'content-type': 'application/json' }
	});

/**
 * The store's streamed answer, ended quietly when the caller goes away mid-stream (a long-poll that the
 * replicator cancels): the store request is aborted with it, which is not an error. `onClose` is told once
 * when the stream is over, however it ends.
 */
function relay(
	body: ReadableStream<Uint8Array> | null,
	onClose: () => void = () => {}
): ReadableStream<Uint8Array> | null {
	if (!body) {
		onClose();
		return null;
	}
	const reader = body.getReader();
	let closed = false;
	const close = () => {
		if (closed) return;
		closed = true;
		onClose();
	};
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			try {
				const { done, value } = await reader.read();
				if (done) {
					close();
					controller.close();
				} else controller.enqueue(value);
			} catch {
				close();
				controller.close();
			}
		},
		cancel() {
			close();
			reader.cancel().catch(() => {});
		}
	});
}

/** A whole-number query parameter clamped into [min, max]; absent stays absent unless `fallback`. */
function clamp(query: URLSearchParams, name: string, min: number, max: number, fallback?: number) {
	const raw = query.get(name);
	const n = raw === null ? NaN : Number(raw);
	if (Number.isFinite(n)) query.set(name, String(Math.min(max, Math.max(min, Math.floor(n)))));
	else if (fallback !== undefined) query.set(name, String(fallback));
	else query.delete(name);
}

function pick(url: URL, names: string[]): URLSearchParams {
	const out = new URLSearchParams();
	for (const name of names) {
		const value = url.searchParams.get(name);
		if (value !== null) out.set(name, value);
	}
	return out;
}

/**
 * A handler for every request under `mount` (e.g. `/sync`). `policyOf` answers the policy for a database
 * key in the path, or null when the caller may not replicate it (403).
 */
export function replicationHandler({
	store,
	instanceId,
	mount,
	policyOf,
	ownerOf,
	watch
}: {
	store: Store;
	instanceId: string;
	mount: string;
	policyOf: (c: Context<AppEnv>, db: string) => Promise<ReplicationPolicy | null>;
	/** Who is asking, for per-caller bounds (live feeds, checkpoints); none for trusted callers. */
	ownerOf?: (c: Context<AppEnv>) => string;
	/** Ends a live feed when the caller's sign-in ends (returns the unwatch function). */
	watch?: (c: Context<AppEnv>, onEnd: () => void) => () => void;
}) {
	const feeds = new Map<string, number>();

	/**
	 * Keeps at most `checkpointsPerOwner` checkpoints per caller: a new one beyond that removes the oldest
	 * (costing that replication a restart from zero, never data). The list lives in its own `_local`
	 * document per caller, written only when a checkpoint is new.
	 */
	async function keepCheckpoint(db: Database, owner: string, storeId: string): Promise<void> {
		const indexId = `ck-owner-${createHash('sha256').update(owner).digest('hex')}`;
		for (let attempt = 0; attempt < 3; attempt++) {
			const index = (await db.local.get<{ ids: string[] }>(indexId).catch(() => null)) ?? {
				_rev: undefined,
				ids: [] as string[]
			};
			if (index.ids.includes(storeId)) return;
			const ids = [...index.ids, storeId];
			const evicted = ids.splice(
				0,
				Math.max(0, ids.length - REPLICATION_LIMITS.checkpointsPerOwner)
			);
			try {
				await db.local.put(indexId, { ids, ...(index._rev ? { _rev: index._rev } : {}) });
			} catch (err) {
				// Another checkpoint of this caller at the same moment.
				if (err instanceof StoreError && err.statusCode === 409) continue;
				if (!(err instanceof StoreError)) throw err;
			}
			for (const id of evicted) await db.local.remove(id);
			return;
		}
	}

	/** The `docs` of a `_bulk_get`, checked, bounded and without repeats; or why it is refused. */
	function bulkGetRequest(docs: unknown): { id: string; rev?: string }[] | string {
		if (!Array.isArray(docs)) return 'docs must be a list';
		const seen = new Set<string>();
		const out: { id: string; rev?: string }[] = [];
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
	async function bulkGetChunk(
		db: Database,
		policy: ReplicationPolicy,
		docs: { id: string; rev?: string }[],
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
	 * A `_bulk_get` answered as a stream, fetched from the store a chunk at a time (the next one while
	 * the current one is sent), so one request never holds more than two chunks in memory.
	 */
	async function streamBulkGet(
		db: Database,
		policy: ReplicationPolicy,
		docs: { id: string; rev?: string }[],
		params: URLSearchParams
	): Promise<Response> {
		const size = REPLICATION_LIMITS.bulkGetChunk;
		const chunks: { id: string; rev?: string }[][] = [];
		for (let i = 0; i < docs.length; i += size) chunks.push(docs.slice(i, i + size));
		const fetchChunk = (i: number) =>
			i < chunks.length ? bulkGetChunk(db, policy, chunks[i]!, params) : null;
		// The first chunk before answering, so that a failing store is a proper error status.
		let next = fetchChunk(0);
		const first = next ? await next : '';
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

	async function handle(c: Context<AppEnv>): Promise<Response> {
		const url = new URL(c.req.url);
		const parts = url.pathname
			.slice(mount.length)
			.split('/')
			.filter((p) => p !== '')
			.map((p) => decodeURIComponent(p));
		const method = c.req.method;

		if (parts.length === 0) {
			if (method !== 'GET' && method !== 'HEAD') {
				return couchError(405, 'method_not_allowed', 'Only GET');
			}
			return c.json({
				couchdb: 'Welcome',
				uuid: instanceId,
				version: '3.3.3',
				vendor: { name: 'guangdian-callcenter' }
			});
		}
		const [dbKey, ...rest] = parts;
		const policy = await policyOf(c, dbKey!);
		if (!policy) return couchError(403, 'forbidden', 'Not a replicated database');
		const db = store.db(policy.dbKey);
		const head = rest[0] ?? '';

		// Database info, without counts that would reveal what others hold.
		if (rest.length === 0) {
			if (method !== 'GET' && method !== 'HEAD') {
				return couchError(403, 'forbidden', 'Databases are managed by the server');
			}
			return c.json({
				db_name: policy.name,
				update_seq: await db.updateSeq(),
				instance_start_time: '0'
			});
		}

		// Checkpoints: stored under the policy's id, never under the caller's own.
		if (head === '_local' && rest.length === 2) {
			const clientId = rest[1]!;
			const storeId = policy.checkpointId(clientId);
			if (method === 'GET') {
				const doc = await db.local.get(storeId);
				if (!doc) return couchError(404, 'not_found', 'missing');
				return c.json({ ...doc, _id: `_local/${clientId}` });
			}
			if (method === 'PUT') {
				const text = await c.req.text();
				if (Buffer.byteLength(text) > REPLICATION_LIMITS.checkpointBytes) {
					return couchError(413, 'too_large', 'A checkpoint is small');
				}
				const doc = JSON.parse(text) as unknown;
				if (
					!doc ||
					typeof doc !== 'object' ||
					Array.isArray(doc) ||
					Object.keys(doc).some((k) => !CHECKPOINT_FIELDS.has(k))
				) {
					return couchError(400, 'bad_request', 'Only replication checkpoints are stored here');
				}
				if (ownerOf) await keepCheckpoint(db, ownerOf(c), storeId);
				try {
					const body = await db.local.put(storeId, { ...doc, _id: `_local/${storeId}` });
					return c.json({ ...body, id: `_local/${clientId}` }, 201);
				} catch (err) {
					if (err instanceof StoreError) return storeAnswer(err);
					throw err;
				}
			}
			return couchError(405, 'method_not_allowed', 'Only GET and PUT');
		}

		if (head === '_changes' && rest.length === 1) {
			if (method !== 'GET' && method !== 'POST') {
				return couchError(405, 'method_not_allowed', 'Only GET and POST');
			}
			const filter = url.searchParams.get('filter');
			let docIds: string[] | undefined;
			if (filter === '_doc_ids') {
				const body =
					method === 'POST'
						? ((await c.req.json().catch(() => ({}))) as { doc_ids?: unknown })
						: {};
				const raw = body.doc_ids ?? JSON.parse(url.searchParams.get('doc_ids') ?? '[]');
				if (!Array.isArray(raw) || raw.some((id) => typeof id !== 'string')) {
					return couchError(400, 'bad_request', 'doc_ids must be a list of ids');
				}
				docIds = [...new Set(raw as string[])];
				if (docIds.length > REPLICATION_LIMITS.docIds) {
					return couchError(400, 'bad_request', `At most ${REPLICATION_LIMITS.docIds} doc_ids`);
				}
			} else if (
				filter !== null ||
				url.searchParams.has('view') ||
				url.searchParams.has('selector')
			) {
				return couchError(400, 'bad_request', 'Replication filters are chosen by the server');
			}
			const feed = url.searchParams.get('feed');
			if (feed && feed !== 'normal' && feed !== 'longpoll') {
				return couchError(400, 'bad_request', 'Only normal and longpoll feeds are served');
			}
			const query = pick(url, CHANGES_PARAMS);
			query.set('filter', '_selector');
			const L = REPLICATION_LIMITS;
			clamp(query, 'limit', 1, L.changesLimit);
			clamp(query, 'heartbeat', L.heartbeatMinMs, L.heartbeatMaxMs);
			clamp(
				query,
				'timeout',
				1,
				L.feedTimeoutMaxMs,
				feed === 'longpoll' ? L.feedTimeoutMaxMs : undefined
			);
			// A live feed is bounded per caller and ends with the caller's sign-in.
			const owner = feed === 'longpoll' && ownerOf ? ownerOf(c) : null;
			if (owner !== null) {
				const open = feeds.get(owner) ?? 0;
				if (open >= L.feedsPerOwner) {
					return couchError(429, 'too_many_requests', 'Too many live feeds open at once');
				}
				feeds.set(owner, open + 1);
			}
			const abort = new AbortController();
			const onAbort = () => abort.abort();
			c.req.raw.signal.addEventListener('abort', onAbort);
			const unwatch = watch ? watch(c, onAbort) : () => {};
			const done = () => {
				c.req.raw.signal.removeEventListener('abort', onAbort);
				unwatch();
				if (owner === null) return;
				const left = (feeds.get(owner) ?? 1) - 1;
				if (left > 0) feeds.set(owner, left);
				else feeds.delete(owner);
			};
			let res: Response;
			try {
				res = await db.changesFeed(Object.fromEntries(query), {
					selector: policy.selector(docIds),
					signal: abort.signal
				});
			} catch (err) {
				done();
				if (abort.signal.aborted) return couchError(401, 'unauthorized', 'The feed ended');
				throw err;
			}
			return new Response(relay(res.body, done), {
				status: res.status,
				headers: { 'content-type': 'application/json' }
			});
		}

		if (head === '_revs_diff' && rest.length === 1 && method === 'POST') {
			if (policy.readOnly) return couchError(403, 'forbidden', 'This database is read-only');
			const asked = (await c.req.json()) as Record<string, unknown>;
			if (!asked || typeof asked !== 'object' || Array.isArray(asked)) {
				return couchError(400, 'bad_request', 'Expected {id: [revs]}');
			}
			const ids = Object.keys(asked);
			let revs = 0;
			for (const id of ids) {
				const list = asked[id];
				if (!Array.isArray(list) || list.some((r) => typeof r !== 'string')) {
					return couchError(400, 'bad_request', 'Expected {id: [revs]}');
				}
				revs += list.length;
			}
			if (ids.length > REPLICATION_LIMITS.revsDiffDocs || revs > REPLICATION_LIMITS.revsDiffRevs) {
				return couchError(400, 'bad_request', 'Too many revisions in one request');
			}
			const diff = await db.revsDiff(asked);
			// Say nothing about documents the caller cannot see: report every asked revision as missing.
			const current = await db.getMany(ids);
			for (const [id, doc] of current) {
				if (!doc._deleted && !policy.canRead(doc)) diff[id] = { missing: asked[id] as string[] };
			}
			return c.json(diff);
		}

		if (head === '_bulk_get' && rest.length === 1 && method === 'POST') {
			const asked = (await c.req.json()) as { docs?: unknown };
			const wanted = bulkGetRequest(asked?.docs);
			if (typeof wanted === 'string') return couchError(400, 'bad_request', wanted);
			return streamBulkGet(db, policy, wanted, pick(url, BULK_GET_PARAMS));
		}

		if (head === '_bulk_docs' && rest.length === 1 && method === 'POST') {
			if (policy.readOnly) return couchError(403, 'forbidden', 'This database is read-only');
			const body = (await c.req.json()) as { docs?: Doc[]; new_edits?: boolean };
			if (!Array.isArray(body.docs) || body.new_edits !== false) {
				return couchError(
					400,
					'bad_request',
					'Only replicated writes (new_edits: false) are accepted'
				);
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
				return c.json([...stored, ...refused], 201);
			} finally {
				await check.stored?.(written);
			}
		}

		// A single document by id (PouchDB's fallback when _bulk_get is missing): never design docs.
		if (rest.length === 1 && !head.startsWith('_') && method === 'GET') {
			const body = await db.read(head, pick(url, DOC_PARAMS));
			if (!body) return couchError(404, 'not_found', 'missing');
			if (Array.isArray(body)) {
				const current = await db.getMany([head]);
				const visible = policy.canRead(current.get(head) ?? { _id: head });
				return c.json(
					body.map((entry) =>
						'ok' in entry && !(visible && (entry.ok._deleted || policy.canRead(entry.ok)))
							? { missing: entry.ok._rev }
							: entry
					)
				);
			}
			return policy.canRead(body) ? c.json(body) : couchError(404, 'not_found', 'missing');
		}

		if (
			policy.servesAttachments &&
			rest.length === 2 &&
			!head.startsWith('_') &&
			(method === 'GET' || method === 'HEAD')
		) {
			const rev = url.searchParams.get('rev');
			const read = await db.read(head, new URLSearchParams(rev ? { rev } : {}));
			const doc = read && !Array.isArray(read) ? read : null;
			const file = rest[1]!;
			if (!doc || !policy.canRead(doc) || !(doc._attachments as Record<string, unknown>)?.[file]) {
				return couchError(404, 'not_found', 'missing');
			}
			const res = await db.attachment(head, file, {
				...(rev ? { rev } : {}),
				method: method === 'HEAD' ? 'HEAD' : 'GET'
			});
			if (!res) return couchError(404, 'not_found', 'missing');
			return new Response(relay(res.body), {
				status: 200,
				headers: {
					'content-type': res.headers.get('content-type') ?? 'application/octet-stream'
				}
			});
		}

		return couchError(403, 'forbidden', `Not available through ${mount}`);
	}

	return handle;
}
