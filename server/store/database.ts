/**
 * One database of the store by its named operations: everything the server does with CouchDB's HTTP
 * protocol — paths, query strings, methods, status codes — is written here and nowhere else. Services call
 * `get`, `insert`, `allDocs`, `view`, `changes` … and never build a URL; the replication doors (`/sync`,
 * `/replicate`) call the protocol's own operations (`changesFeed`, `revsDiff`, `bulkGet`, `openRevs`,
 * `attachment`), which hand streams through without reading them whole. The operations are nano's (the
 * CouchDB client builds the URL, encodes the ids, parses the answer); only those doors that hand the store's
 * stream or text on untouched use the raw `StoreRequest`. Failures the store answers are `StoreError`s
 * carrying its status and body; a connection that fails rejects.
 */
import type { RequestOptions, ServerScope } from 'nano';

/** A document as stored: any JSON object with its id and revision. */
export type Doc = { _id: string; _rev?: string; _deleted?: boolean; [key: string]: unknown };
export type Stored<D> = D & { _id: string; _rev: string };
/** What `get` adds when asked (`conflicts`, `revs`). */
export interface DocMeta {
	_conflicts?: string[];
	_revisions?: { start: number; ids: string[] };
}

/** A refusal or failure the store answered (`statusCode`, and CouchDB's `{error, reason}` body). */
export class StoreError extends Error {
	constructor(
		readonly statusCode: number,
		readonly body: { error?: string; reason?: string; [key: string]: unknown }
	) {
		super(body.reason ?? body.error ?? `the store answered ${statusCode}`);
		this.name = 'StoreError';
	}
}

/** Raw request to the store: path from `/`, credentials added. Only `server/store/` holds one. */
export type StoreRequest = (path: string, init?: RequestInit) => Promise<Response>;

/** Query parameters of `_all_docs` and views, as CouchDB names them (keys are JSON-encoded here). */
export interface RangeParams {
	key?: unknown;
	keys?: unknown[];
	startkey?: unknown;
	endkey?: unknown;
	descending?: boolean;
	include_docs?: boolean;
	conflicts?: boolean;
	limit?: number;
	skip?: number;
}

export interface Row<D> {
	id: string;
	key: unknown;
	value: unknown;
	/** With `include_docs`: the document, or null for a deleted one. */
	doc?: Stored<D> | null;
	/** With `keys`: `not_found` for a key the database never held. */
	error?: string;
}

/** One result of `_bulk_docs`: the new revision, or why this document was not stored. */
export interface BulkResult {
	id: string;
	rev?: string;
	ok?: boolean;
	error?: string;
	reason?: string;
}

/** A change of `_changes` (with `include_docs`, its document). */
export interface Change<D> {
	id: string;
	seq: string | number;
	deleted?: boolean;
	changes?: { rev: string }[];
	doc?: D;
}

/** Query parameters of `_changes`, as CouchDB names them (strings, passed as they are). */
export type ChangesParams = Partial<
	Record<
		| 'since'
		| 'limit'
		| 'feed'
		| 'heartbeat'
		| 'timeout'
		| 'style'
		| 'seq_interval'
		| 'include_docs'
		| 'conflicts',
		string
	>
>;

/** A leaf of `open_revs`: the revision, or the revision the store does not have. */
export type OpenRev = { ok: Doc } | { missing: string };

export interface Database<D extends object = Doc> {
	/** The document; `rev`, `revs`, `conflicts` … as CouchDB's `GET /db/doc` takes them. @throws StoreError 404 */
	get(id: string, params?: Record<string, string | boolean>): Promise<Stored<D> & DocMeta>;
	/** The document, or null when the database does not hold it (any other failure throws). */
	find(id: string, params?: { rev?: string }): Promise<Stored<D> | null>;
	/** The winning revision with `_conflicts` (the other live leaves), or null. */
	getWithConflicts(id: string): Promise<(Stored<D> & { _conflicts?: string[] }) | null>;
	/** Every leaf revision (`open_revs=all`), deleted ones included; [] when the document is unknown. */
	openRevs(id: string): Promise<OpenRev[]>;
	/**
	 * The answer of `GET /db/doc` with replication parameters (`rev`, `revs`, `open_revs`, `latest`,
	 * `conflicts`, `revs_info`): a document or, with `open_revs`, its leaves; null when missing.
	 */
	read(id: string, params: URLSearchParams): Promise<Doc | OpenRev[] | null>;
	/** Writes a document (a new revision of `_rev`). @throws StoreError 409 when `_rev` is not current */
	insert(
		doc: D | Stored<D>,
		options?: { signal?: AbortSignal }
	): Promise<{ id: string; rev: string }>;
	/** Deletes the revision `rev`. @throws StoreError 404/409 */
	destroy(id: string, rev: string): Promise<void>;
	/**
	 * Writes many documents at once; `newEdits: false` stores replicated revisions as they are (the
	 * answer then lists only those it did not store). @throws StoreError when the request is refused whole
	 */
	bulkDocs(
		docs: readonly object[],
		options?: { newEdits?: boolean; signal?: AbortSignal }
	): Promise<BulkResult[]>;
	/** `_all_docs`: a key range or `keys`, optionally with the documents. */
	allDocs(params?: RangeParams): Promise<{ rows: Row<D>[] }>;
	/** The live documents of these ids (deleted and unknown ones left out). */
	getMany(ids: readonly string[]): Promise<Map<string, Stored<D>>>;
	/** A view of the database's design document `_design/app` (`sync/ddocs/<db>/app/views`). */
	view(name: string, params?: RangeParams): Promise<{ rows: Row<D>[] }>;
	/** One answer of `_changes` (normal or long-poll), read whole. */
	changes(
		params: ChangesParams,
		options?: { signal?: AbortSignal }
	): Promise<{ results: Change<D>[]; last_seq: string | number }>;
	/**
	 * `_changes` filtered by a Mango selector, answered as the store's stream (a long-poll waits inside it):
	 * status and body are the store's, for a replication door to hand on.
	 */
	changesFeed(
		params: ChangesParams,
		options: { selector: Record<string, unknown>; signal?: AbortSignal }
	): Promise<Response>;
	/** `_revs_diff`: of the revisions asked per id, those the database does not hold. */
	revsDiff(asked: Record<string, unknown>): Promise<Record<string, { missing: string[] }>>;
	/**
	 * `_bulk_get` (params: `revs`, `latest`): the store's answer as its JSON text, so an answer nobody
	 * needs to change is handed on as it is. @throws StoreError
	 */
	bulkGet(docs: readonly { id: string; rev?: string }[], params: URLSearchParams): Promise<string>;
	/**
	 * A file of a document, streamed (`method` HEAD for its headers only); null when the document or the
	 * file is missing.
	 */
	attachment(
		id: string,
		name: string,
		options?: { rev?: string; method?: 'GET' | 'HEAD' }
	): Promise<Response | null>;
	/** `_local` documents: never replicated, never listed (checkpoints, ledgers). `id` without `_local/`. */
	local: {
		get<T extends object>(id: string): Promise<Stored<T> | null>;
		/** @throws StoreError (409 when `_rev` is not current) */
		put(
			id: string,
			doc: object,
			options?: { signal?: AbortSignal }
		): Promise<{ ok?: boolean; id?: string; rev: string }>;
		/** Deletes it if it exists. */
		remove(id: string): Promise<void>;
	};
	/** The database's update sequence (what a changes feed reaches when caught up). */
	updateSeq(): Promise<string | number>;
	/** Creates the database unless it exists. */
	ensureExists(): Promise<void>;
	/** Sets who may use it (`_security`). */
	setSecurity(security: object): Promise<void>;
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };
const RANGE_JSON = new Set(['key', 'keys', 'startkey', 'endkey']);

/** What nano adds to the store's `{error, reason}` body when it turns a refusal into an Error. */
const NANO_FIELDS = new Set([
	'name',
	'scope',
	'statusCode',
	'request',
	'headers',
	'errid',
	'description'
]);

/**
 * nano's refusal (an Error carrying the store's status and body fields) as a StoreError; anything else — a
 * connection that failed or was aborted, which nano rejects without a status — as it came.
 */
function refusal(err: unknown): unknown {
	const status = (err as { statusCode?: unknown } | null)?.statusCode;
	if (typeof status !== 'number') return err;
	const body = Object.fromEntries(
		Object.entries(err as object).filter(([field]) => !NANO_FIELDS.has(field))
	);
	return new StoreError(status, body);
}

/** A nano call whose refusals are StoreErrors. */
async function answer<T>(call: Promise<T>): Promise<T> {
	try {
		return await call;
	} catch (err) {
		throw refusal(err);
	}
}

async function failure(res: Response): Promise<StoreError> {
	const body = (await res.json().catch(() => ({}))) as StoreError['body'] | null;
	return new StoreError(res.status, body && typeof body === 'object' ? body : {});
}

/** A raw query string (for the streamed doors); nano builds its own from `qs`. */
function query(params: object = {}): string {
	const q = new URLSearchParams();
	for (const [name, value] of Object.entries(params)) {
		if (value === undefined) continue;
		q.set(name, RANGE_JSON.has(name) ? JSON.stringify(value) : String(value));
	}
	const s = q.toString();
	return s ? `?${s}` : '';
}

/** Parameters for nano's `qs` (which JSON-encodes the keys itself): undefined ones left out. */
const qs = (params: object = {}): Record<string, unknown> =>
	Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));

/** A `_local` or design document id keeps its slash; any other id is one path segment. */
const docPath = (id: string) =>
	/^(_local|_design)\//.test(id)
		? `${id.slice(0, id.indexOf('/'))}/${encodeURIComponent(id.slice(id.indexOf('/') + 1))}`
		: encodeURIComponent(id);

/**
 * An id as nano's `doc` takes it: nano encodes an id itself, except one that starts with `_design` or holds
 * `_local` anywhere — those it sends as they are, so they go encoded already.
 */
const nanoDoc = (id: string) => (/^_design|_local/.test(id) ? docPath(id) : id);

/** `pending`, or the signal's reason as soon as it aborts. */
function abortable<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		const onAbort = () => reject(signal.reason);
		if (signal.aborted) onAbort();
		signal.addEventListener('abort', onAbort, { once: true });
		pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
	});
}

/** nano's `request` options plus the AbortSignal it hands to fetch (its typings leave it out). */
type NanoRequest = RequestOptions & { signal?: AbortSignal };

/**
 * One database's operations: through nano (`client`) wherever nano has the operation, through the raw
 * `request` only where an answer must be handed on as the store's stream or text.
 */
/** A revision the server itself wrote: its document and generation (the number before the dash). */
export interface Written {
	id: string;
	generation: number;
}

const generation = (rev: string) => Number.parseInt(rev, 10) || 0;

/**
 * `db` telling `notice` what each of its writes stored, once the store has answered: the feed hub waits for
 * them on a cluster, whose changes feed may answer from a shard copy the write has not reached yet.
 * Design and local documents are not told (no feed lists them).
 */
export function noticingWrites<D extends object>(
	db: Database<D>,
	notice: (written: Written[]) => void
): Database<D> {
	const tell = (written: { id: string; rev?: string | undefined }[]) => {
		const listed = written.flatMap(({ id, rev }) =>
			rev && !id.startsWith('_design/') && !id.startsWith('_local/')
				? [{ id, generation: generation(rev) }]
				: []
		);
		if (listed.length > 0) notice(listed);
	};
	return {
		...db,
		async insert(doc, options) {
			const result = await db.insert(doc, options);
			tell([result]);
			return result;
		},
		async destroy(id, rev) {
			await db.destroy(id, rev);
			tell([{ id, rev: `${generation(rev) + 1}-` }]);
		},
		async bulkDocs(docs, options = {}) {
			const results = await db.bulkDocs(docs, options);
			if (options.newEdits === false) {
				// Answered with the refusals only: the rest were stored as they came.
				const refused = new Set(results.map((r) => r.id));
				tell(
					(docs as Doc[])
						.filter((d) => typeof d._id === 'string' && !refused.has(d._id))
						.map((d) => ({ id: d._id, rev: d._rev }))
				);
			} else tell(results.filter((r) => !r.error));
			return results;
		}
	};
}

export function createDatabase<D extends object>(
	client: ServerScope,
	request: StoreRequest,
	name: string,
	counts: Map<string, number> = new Map()
): Database<D> {
	return counted(operations<D>(client, request, name), counts);
}

/**
 * `ops` with each call counted in `counts` by the operation's name (`local.get` for the nested ones): what
 * the server asks of the store, for `/api/metrics` and the capacity benchmark.
 */
function counted<T extends object>(ops: T, counts: Map<string, number>, prefix = ''): T {
	const out: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(ops)) {
		const name = prefix + key;
		out[key] =
			typeof value === 'function'
				? (...args: unknown[]) => {
						counts.set(name, (counts.get(name) ?? 0) + 1);
						return (value as (...a: unknown[]) => unknown)(...args);
					}
				: value && typeof value === 'object'
					? counted(value, counts, `${name}.`)
					: value;
	}
	return out as T;
}

function operations<D extends object>(
	client: ServerScope,
	request: StoreRequest,
	name: string
): Database<D> {
	const db = client.use<D>(name);
	const base = `/${name}`;
	const at = (id: string) => `${base}/${docPath(id)}`;
	// nano's named calls take no AbortSignal; its `request` (the same request, built by nano) passes one on.
	// An abort rejects with the signal's AbortError at once, as fetch does: nano would reject a connection
	// error instead, or resolve '' when the abort lands while it reads the answer; and Node 20's fetch may
	// lose an abort that comes after a garbage collection (nodejs/undici#3644), leaving a long-poll pending.
	async function send<T>(opts: NanoRequest): Promise<T> {
		const { signal } = opts;
		const pending = answer(client.request({ db: name, ...opts } as RequestOptions));
		const answered = await (signal ? abortable(pending, signal) : pending).catch((err: unknown) => {
			signal?.throwIfAborted();
			throw err;
		});
		signal?.throwIfAborted();
		return answered as T;
	}

	/** The document, or null for a refusal (`missing` 404 only, or any refusal). */
	async function fetchDoc<T>(id: string, params: object, nullOn: (e: StoreError) => boolean) {
		try {
			return (await answer(db.get(nanoDoc(id), qs(params)))) as T;
		} catch (err) {
			if (err instanceof StoreError && nullOn(err)) return null;
			throw err;
		}
	}
	const missing = (e: StoreError) => e.statusCode === 404;
	const any = () => true;
	const find = (id: string, params: { rev?: string } = {}) =>
		fetchDoc<Stored<D>>(id, params, missing);

	return {
		get: async (id, params) =>
			(await answer(db.get(nanoDoc(id), qs(params)))) as unknown as Stored<D> & DocMeta,
		find,
		getWithConflicts: (id) =>
			fetchDoc<Stored<D> & { _conflicts?: string[] }>(id, { conflicts: true }, any),
		openRevs: async (id) => (await fetchDoc<OpenRev[]>(id, { open_revs: 'all' }, any)) ?? [],
		read: (id, params) => fetchDoc<Doc | OpenRev[]>(id, Object.fromEntries(params), any),
		async insert(doc, { signal } = {}) {
			const id = (doc as { _id?: unknown })._id;
			const { id: written, rev } = await send<{ id: string; rev: string }>(
				typeof id === 'string'
					? { doc: nanoDoc(id), method: 'PUT', body: doc, signal }
					: { method: 'POST', body: doc, signal }
			);
			return { id: written, rev };
		},
		async destroy(id, rev) {
			await answer(db.destroy(nanoDoc(id), rev));
		},
		bulkDocs: (docs, { newEdits, signal } = {}) =>
			send<BulkResult[]>({
				path: '_bulk_docs',
				method: 'POST',
				body: { docs, ...(newEdits === false ? { new_edits: false } : {}) },
				signal
			}),
		async allDocs({ keys, ...params } = {}) {
			if (!keys) return (await answer(db.list(qs(params)))) as unknown as { rows: Row<D>[] };
			// nano refuses an empty `keys`; the store would answer no rows.
			if (keys.length === 0) return { rows: [] };
			return (await answer(db.fetchRevs({ keys: keys as string[] }, qs(params)))) as unknown as {
				rows: Row<D>[];
			};
		},
		async getMany(ids) {
			const out = new Map<string, Stored<D>>();
			if (ids.length === 0) return out;
			const { rows } = (await answer(db.fetch({ keys: [...ids] }))) as unknown as {
				rows: Row<D>[];
			};
			for (const row of rows) if (row.doc) out.set(row.id, row.doc);
			return out;
		},
		view: async (view, params) =>
			(await answer(db.view('app', view, qs(params)))) as unknown as { rows: Row<D>[] },
		async changes(params, { signal } = {}) {
			const body = await send<{ results: Change<D>[]; last_seq: string | number } | string>({
				path: '_changes',
				qs: qs(params),
				signal
			});
			// nano resolves what it could read when a connection ends early (the store under load):
			// refused here with what came, rather than failing later on a missing `results`.
			if (typeof body !== 'object' || body === null || !Array.isArray(body.results)) {
				throw new StoreError(502, {
					error: 'bad_answer',
					reason: `_changes answered without results: ${JSON.stringify(body).slice(0, 200)}`
				});
			}
			return body;
		},
		// Raw: the feed (a long-poll may wait inside it) is handed to the client as the store streams it.
		changesFeed: (params, { selector, signal }) =>
			request(`${base}/_changes${query({ ...params, filter: '_selector' })}`, {
				method: 'POST',
				headers: JSON_HEADERS,
				body: JSON.stringify({ selector }),
				signal
			}),
		revsDiff: (asked) =>
			send<Record<string, { missing: string[] }>>({
				path: '_revs_diff',
				method: 'POST',
				body: asked
			}),
		async bulkGet(docs, params) {
			// Raw: the answer is handed on as the store's text, never parsed and serialised again.
			const res = await request(`${base}/_bulk_get?${params}`, {
				method: 'POST',
				headers: JSON_HEADERS,
				body: JSON.stringify({ docs })
			});
			if (!res.ok) throw await failure(res);
			return res.text();
		},
		async attachment(id, file, { rev, method = 'GET' } = {}) {
			// Raw: the file is streamed through (nano's getAsStream drops the store's headers).
			const res = await request(`${at(id)}/${encodeURIComponent(file)}${query({ rev })}`, {
				method
			});
			if (res.ok) return res;
			await res.body?.cancel();
			return null;
		},
		local: {
			get: async <T extends object>(id: string) => (await find(`_local/${id}`)) as Stored<T> | null,
			put: (id, doc, { signal } = {}) =>
				send<{ ok?: boolean; id?: string; rev: string }>({
					doc: nanoDoc(`_local/${id}`),
					method: 'PUT',
					body: doc,
					signal
				}),
			async remove(id) {
				const current = await find(`_local/${id}`);
				if (!current) return;
				// Gone or rewritten meanwhile: nothing left to remove here.
				await answer(db.destroy(nanoDoc(`_local/${id}`), current._rev)).catch((err) => {
					if (!(err instanceof StoreError)) throw err;
				});
			}
		},
		async updateSeq() {
			// The newest change's sequence, not the database info: the embedded store's info walks the
			// database's folder for its size (the capacity profile found it on every ticket written).
			const { last_seq } = await send<{ last_seq: string | number }>({
				path: '_changes',
				qs: { descending: 'true', limit: '1' }
			});
			return last_seq ?? 0;
		},
		async ensureExists() {
			// Asked first: an account that administers only its own databases may not create one (and
			// CouchDB refuses it before it looks whether the database exists).
			const exists = await answer(client.db.get(name)).then(
				() => true,
				(err: unknown) => {
					if (err instanceof StoreError && err.statusCode === 404) return false;
					throw err;
				}
			);
			if (exists) return;
			await answer(client.db.create(name)).catch((err) => {
				// Another process may have created it meanwhile (412 file_exists): that is fine.
				if (err instanceof StoreError && err.statusCode === 412) return;
				if (err instanceof StoreError && (err.statusCode === 401 || err.statusCode === 403)) {
					throw new StoreError(err.statusCode, {
						error: 'forbidden',
						reason:
							`database ${name} does not exist and the store account may not create it: create it ` +
							`as CouchDB's server administrator, with this account as its admin (README, "CouchDB")`
					});
				}
				throw err;
			});
		},
		async setSecurity(security) {
			await send({ path: '_security', method: 'PUT', body: security });
		}
	};
}
