/**
 * One database of the store by its named operations: everything the server does with CouchDB's HTTP
 * protocol — paths, query strings, methods, status codes — is written here and nowhere else. Services call
 * `get`, `insert`, `allDocs`, `view`, `changes` … and never build a URL; the replication doors (`/sync`,
 * `/replicate`) call the protocol's own operations (`changesFeed`, `revsDiff`, `bulkGet`, `openRevs`,
 * `attachment`), which hand streams through without reading them whole. Failures the store answers are
 * `StoreError`s carrying its status; a connection that fails rejects as `fetch` does.
 */

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

async function failure(res: Response): Promise<StoreError> {
	const body = (await res.json().catch(() => ({}))) as StoreError['body'] | null;
	return new StoreError(res.status, body && typeof body === 'object' ? body : {});
}

async function json<T>(res: Response): Promise<T> {
	if (!res.ok) throw await failure(res);
	return (await res.json()) as T;
}

function query(params: object = {}): string {
	const q = new URLSearchParams();
	for (const [name, value] of Object.entries(params)) {
		if (value === undefined) continue;
		q.set(name, RANGE_JSON.has(name) ? JSON.stringify(value) : String(value));
	}
	const s = q.toString();
	return s ? `?${s}` : '';
}

/** A `_local` or design document id keeps its slash; any other id is one path segment. */
const docPath = (id: string) =>
	/^(_local|_design)\//.test(id)
		? `${id.slice(0, id.indexOf('/'))}/${encodeURIComponent(id.slice(id.indexOf('/') + 1))}`
		: encodeURIComponent(id);

export function createDatabase<D extends object>(request: StoreRequest, name: string): Database<D> {
	const base = `/${name}`;
	const at = (id: string) => `${base}/${docPath(id)}`;
	const get = (path: string, init: RequestInit = {}) =>
		request(path, { ...init, headers: { ...JSON_HEADERS, ...init.headers } });
	const post = (path: string, body: unknown, signal?: AbortSignal) =>
		request(path, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body), signal });
	const put = (path: string, body: unknown, signal?: AbortSignal) =>
		request(path, { method: 'PUT', headers: JSON_HEADERS, body: JSON.stringify(body), signal });

	/** `_all_docs` or a view: `keys` go in the body (any number of them), the rest in the query. */
	async function range(path: string, params: RangeParams = {}) {
		const { keys, ...rest } = params;
		const res = keys ? await post(path + query(rest), { keys }) : await get(path + query(rest));
		return json<{ rows: Row<D>[] }>(res);
	}

	async function find(id: string, params: { rev?: string } = {}) {
		const res = await get(at(id) + query(params));
		if (res.status === 404) {
			await res.body?.cancel();
			return null;
		}
		return json<Stored<D>>(res);
	}

	return {
		get: async (id, params) => json<Stored<D> & DocMeta>(await get(at(id) + query(params))),
		find,
		getWithConflicts: async (id) => {
			const res = await get(`${at(id)}?conflicts=true`);
			return res.ok ? json<Stored<D> & { _conflicts?: string[] }>(res) : null;
		},
		async openRevs(id) {
			const res = await get(`${at(id)}?open_revs=all`);
			return res.ok ? json<OpenRev[]>(res) : [];
		},
		async read(id, params) {
			const q = String(params);
			const res = await get(at(id) + (q ? `?${q}` : ''));
			return res.ok ? json<Doc | OpenRev[]>(res) : null;
		},
		async insert(doc, { signal } = {}) {
			const id = (doc as { _id?: unknown })._id;
			const res =
				typeof id === 'string' ? await put(at(id), doc, signal) : await post(base, doc, signal);
			const { rev, id: written } = await json<{ id: string; rev: string }>(res);
			return { id: written, rev };
		},
		async destroy(id, rev) {
			await json(await request(`${at(id)}?rev=${encodeURIComponent(rev)}`, { method: 'DELETE' }));
		},
		bulkDocs: async (docs, { newEdits, signal } = {}) =>
			json<BulkResult[]>(
				await post(
					`${base}/_bulk_docs`,
					{ docs, ...(newEdits === false ? { new_edits: false } : {}) },
					signal
				)
			),
		allDocs: (params) => range(`${base}/_all_docs`, params),
		async getMany(ids) {
			const out = new Map<string, Stored<D>>();
			if (ids.length === 0) return out;
			const { rows } = await range(`${base}/_all_docs`, { keys: [...ids], include_docs: true });
			for (const row of rows) if (row.doc) out.set(row.id, row.doc);
			return out;
		},
		view: (view, params) => range(`${base}/_design/app/_view/${view}`, params),
		changes: async (params, { signal } = {}) =>
			json(await get(`${base}/_changes${query(params)}`, { signal })),
		changesFeed: (params, { selector, signal }) =>
			post(`${base}/_changes${query({ ...params, filter: '_selector' })}`, { selector }, signal),
		revsDiff: async (asked) => json(await post(`${base}/_revs_diff`, asked)),
		async bulkGet(docs, params) {
			const res = await post(`${base}/_bulk_get?${params}`, { docs });
			if (!res.ok) throw await failure(res);
			return res.text();
		},
		async attachment(id, file, { rev, method = 'GET' } = {}) {
			const res = await request(`${at(id)}/${encodeURIComponent(file)}${query({ rev })}`, {
				method
			});
			if (res.ok) return res;
			await res.body?.cancel();
			return null;
		},
		local: {
			get: async <T extends object>(id: string) => (await find(`_local/${id}`)) as Stored<T> | null,
			put: async (id, doc, { signal } = {}) =>
				json<{ ok?: boolean; id?: string; rev: string }>(
					await put(at(`_local/${id}`), doc, signal)
				),
			async remove(id) {
				const current = await find(`_local/${id}`);
				if (!current) return;
				const res = await request(`${at(`_local/${id}`)}?rev=${encodeURIComponent(current._rev)}`, {
					method: 'DELETE'
				});
				await res.body?.cancel();
			}
		},
		async updateSeq() {
			const info = await json<{ update_seq?: string | number }>(await get(base));
			return info.update_seq ?? 0;
		},
		async ensureExists() {
			const res = await request(base, { method: 'PUT' });
			// Another process may have created it meanwhile (412 file_exists): that is fine.
			if (!res.ok && res.status !== 412) throw await failure(res);
			await res.body?.cancel();
		},
		async setSecurity(security) {
			await json(await put(`${base}/_security`, security));
		}
	};
}
