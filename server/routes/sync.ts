/**
 * `/sync/<db>`: the only way a browser replicates. It speaks exactly the part of the CouchDB replication
 * protocol PouchDB uses, for the signed-in user, and checks every document against `access.ts` before it
 * leaves or enters the store. Everything else (`_all_docs`, `_find`, `_all_dbs`, design documents,
 * attachments by path, other databases) is refused. Checkpoints are stored per user and per scope hash.
 */
import { Hono, type Context } from 'hono';
import { createHash } from 'node:crypto';
import { AppError } from '../errors';
import { requireUser } from '../middleware/auth';
import {
	canRead,
	changesSelector,
	refuseTicketWrite,
	scopeHash,
	scopesOf,
	SYNC_DBS,
	type SyncDb
} from '../services/access';
import type { AppDeps, AppEnv } from '../context';

type Doc = { _id: string; _rev?: string; _deleted?: boolean; [key: string]: unknown };

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
const BULK_GET_PARAMS = ['revs', 'latest', 'attachments'];
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

const couchError = (status: number, error: string, reason: string) =>
	new Response(JSON.stringify({ error, reason }), {
		status,
		headers: { 'content-type': 'application/json' }
	});

/**
 * The store's streamed answer, ended quietly when the browser goes away mid-stream (a long-poll that the
 * replicator cancels): the store request is aborted with it, which is not an error.
 */
function relay(body: ReadableStream<Uint8Array> | null): ReadableStream<Uint8Array> | null {
	if (!body) return null;
	const reader = body.getReader();
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			try {
				const { done, value } = await reader.read();
				if (done) controller.close();
				else controller.enqueue(value);
			} catch {
				controller.close();
			}
		},
		cancel() {
			reader.cancel().catch(() => {});
		}
	});
}

function pick(url: URL, names: string[]): URLSearchParams {
	const out = new URLSearchParams();
	for (const name of names) {
		const value = url.searchParams.get(name);
		if (value !== null) out.set(name, value);
	}
	return out;
}

const CREW_CACHE_MS = 2_000;

export const syncRoutes = (deps: AppDeps) => {
	const { store, config, instanceId, configAdmin } = deps;
	const crewCache = new Map<string, { crewIds: string[]; until: number }>();

	/** The user's crews (part of their scopes), cached briefly: a replicator asks many times a minute. */
	async function crewsOf(userId: string): Promise<string[]> {
		const hit = crewCache.get(userId);
		if (hit && hit.until > Date.now()) return hit.crewIds;
		const crewIds = await configAdmin.crewsOf(userId);
		crewCache.set(userId, { crewIds, until: Date.now() + CREW_CACHE_MS });
		return crewIds;
	}

	/** Winning revisions (and their leaf event ids) of the given ids, as the store holds them now. */
	async function winners(dbName: string, ids: string[]): Promise<Map<string, Doc>> {
		const out = new Map<string, Doc>();
		if (ids.length === 0) return out;
		const res = await store.fetch(`/${dbName}/_all_docs?include_docs=true`, {
			method: 'POST',
			headers: JSON_HEADERS,
			body: JSON.stringify({ keys: ids })
		});
		const body = (await res.json()) as { rows: { key: string; doc?: Doc | null }[] };
		for (const row of body.rows) if (row.doc) out.set(row.key, row.doc);
		return out;
	}

	async function handle(c: Context<AppEnv>): Promise<Response> {
		const user = c.get('user')!;
		const url = new URL(c.req.url);
		const parts = url.pathname
			.slice('/sync'.length)
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
		if (!SYNC_DBS.includes(dbKey as SyncDb)) {
			return couchError(403, 'forbidden', 'Not a replicated database');
		}
		const db = dbKey as SyncDb;
		const dbName = store.dbName(db);
		const scopes = scopesOf({ ...user, crewIds: await crewsOf(user._id) });
		const readOnly = db === 'config';
		const head = rest[0] ?? '';

		// Database info, without counts that would reveal what others hold.
		if (rest.length === 0) {
			if (method !== 'GET' && method !== 'HEAD') {
				return couchError(403, 'forbidden', 'Databases are managed by the server');
			}
			const info = (await (await store.fetch(`/${dbName}`)).json()) as { update_seq?: unknown };
			return c.json({ db_name: db, update_seq: info.update_seq ?? 0, instance_start_time: '0' });
		}

		// Checkpoints: per user and per scope hash, so a change of scopes restarts replication cleanly.
		if (head === '_local' && rest.length === 2) {
			const clientId = rest[1]!;
			const key = createHash('sha256')
				.update(JSON.stringify([user._id, scopeHash(db, scopes), clientId]))
				.digest('hex');
			const storePath = `/${dbName}/_local/ck-${key}`;
			if (method === 'GET') {
				const res = await store.fetch(storePath, { headers: JSON_HEADERS });
				if (res.status === 404) return couchError(404, 'not_found', 'missing');
				const doc = (await res.json()) as Doc;
				return c.json({ ...doc, _id: `_local/${clientId}` });
			}
			if (method === 'PUT') {
				const doc = (await c.req.json()) as Doc;
				const res = await store.fetch(storePath, {
					method: 'PUT',
					headers: JSON_HEADERS,
					body: JSON.stringify({ ...doc, _id: `_local/ck-${key}` })
				});
				const body = (await res.json()) as Record<string, unknown>;
				return new Response(JSON.stringify(res.ok ? { ...body, id: `_local/${clientId}` } : body), {
					status: res.status,
					headers: { 'content-type': 'application/json' }
				});
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
				docIds = raw as string[];
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
			const selector = changesSelector(db, scopes, {
				now: Date.now(),
				windowMs: config.syncWindowMs,
				...(docIds ? { docIds } : {})
			});
			const res = await store.fetch(`/${dbName}/_changes?${query}`, {
				method: 'POST',
				headers: JSON_HEADERS,
				body: JSON.stringify({ selector }),
				signal: c.req.raw.signal
			});
			return new Response(relay(res.body), {
				status: res.status,
				headers: { 'content-type': 'application/json' }
			});
		}

		if (head === '_revs_diff' && rest.length === 1 && method === 'POST') {
			if (readOnly) return couchError(403, 'forbidden', 'This database is read-only');
			const asked = (await c.req.json()) as Record<string, string[]>;
			const res = await store.fetch(`/${dbName}/_revs_diff`, {
				method: 'POST',
				headers: JSON_HEADERS,
				body: JSON.stringify(asked)
			});
			const diff = (await res.json()) as Record<string, { missing: string[] }>;
			// Say nothing about documents the user cannot see: report every asked revision as missing.
			const current = await winners(dbName, Object.keys(asked));
			for (const [id, doc] of current) {
				if (!doc._deleted && !canRead(db, doc, scopes)) diff[id] = { missing: asked[id] ?? [] };
			}
			return c.json(diff);
		}

		if (head === '_bulk_get' && rest.length === 1 && method === 'POST') {
			const res = await store.fetch(`/${dbName}/_bulk_get?${pick(url, BULK_GET_PARAMS)}`, {
				method: 'POST',
				headers: JSON_HEADERS,
				body: JSON.stringify(await c.req.json())
			});
			if (!res.ok) {
				return new Response(relay(res.body), {
					status: res.status,
					headers: { 'content-type': 'application/json' }
				});
			}
			const body = (await res.json()) as {
				results: { id: string; docs: ({ ok: Doc } | { error: unknown })[] }[];
			};
			const deletedIds = body.results
				.filter((r) => r.docs.some((d) => 'ok' in d && d.ok._deleted))
				.map((r) => r.id);
			const current = await winners(dbName, deletedIds);
			for (const result of body.results) {
				result.docs = result.docs.map((d) => {
					if (!('ok' in d)) return d;
					// A ticket's tombstone (a merged-away conflict) is served to whoever may read the ticket.
					const allowed =
						d.ok._deleted && db === 'tickets'
							? canRead(db, current.get(result.id) ?? { _id: result.id }, scopes)
							: canRead(db, d.ok, scopes);
					return allowed
						? d
						: { error: { id: result.id, rev: d.ok._rev, error: 'not_found', reason: 'missing' } };
				});
			}
			return c.json(body);
		}

		if (head === '_bulk_docs' && rest.length === 1 && method === 'POST') {
			if (readOnly) return couchError(403, 'forbidden', 'This database is read-only');
			const body = (await c.req.json()) as { docs?: Doc[]; new_edits?: boolean };
			if (!Array.isArray(body.docs) || body.new_edits !== false) {
				return couchError(
					400,
					'bad_request',
					'Only replicated writes (new_edits: false) are accepted'
				);
			}
			const ids = [...new Set(body.docs.map((d) => d._id))];
			const leaves = await leafEvents(dbName, ids);
			const refused: { id: string; rev?: string; error: string; reason: string }[] = [];
			const accepted: Doc[] = [];
			for (const doc of body.docs) {
				const existing = leaves.get(doc._id);
				const reason = refuseTicketWrite(
					doc,
					user,
					scopes,
					existing
						? { readable: canRead(db, existing.winner, scopes), known: existing.events }
						: null
				);
				if (reason) {
					refused.push({
						id: doc._id,
						...(doc._rev ? { rev: doc._rev } : {}),
						error: 'forbidden',
						reason
					});
				} else accepted.push(doc);
			}
			let stored: unknown[] = [];
			if (accepted.length > 0) {
				const res = await store.fetch(`/${dbName}/_bulk_docs`, {
					method: 'POST',
					headers: JSON_HEADERS,
					body: JSON.stringify({ docs: accepted, new_edits: false })
				});
				if (!res.ok) {
					return new Response(relay(res.body), {
						status: res.status,
						headers: { 'content-type': 'application/json' }
					});
				}
				stored = (await res.json()) as unknown[];
			}
			return c.json([...stored, ...refused], 201);
		}

		// A single document by id (PouchDB's fallback when _bulk_get is missing): never design docs.
		if (rest.length === 1 && !head.startsWith('_') && method === 'GET') {
			const res = await store.fetch(
				`/${dbName}/${encodeURIComponent(head)}?${pick(url, DOC_PARAMS)}`,
				{
					headers: JSON_HEADERS
				}
			);
			if (!res.ok) return couchError(404, 'not_found', 'missing');
			const body = (await res.json()) as Doc | ({ ok: Doc } | { missing: string })[];
			if (Array.isArray(body)) {
				const current = await winners(dbName, [head]);
				const visible = canRead(db, current.get(head) ?? { _id: head }, scopes);
				return c.json(
					body.map((entry) =>
						'ok' in entry && !(visible && (entry.ok._deleted || canRead(db, entry.ok, scopes)))
							? { missing: entry.ok._rev }
							: entry
					)
				);
			}
			return canRead(db, body, scopes) ? c.json(body) : couchError(404, 'not_found', 'missing');
		}

		return couchError(403, 'forbidden', 'Not available through /sync');
	}

	/** For each id: its current winner and the ids of all events in any leaf revision. */
	async function leafEvents(dbName: string, ids: string[]) {
		const out = new Map<string, { winner: Doc; events: Set<string> }>();
		const current = await winners(dbName, ids);
		await Promise.all(
			[...current].map(async ([id, winner]) => {
				const res = await store.fetch(`/${dbName}/${encodeURIComponent(id)}?open_revs=all`, {
					headers: JSON_HEADERS
				});
				const leaves = res.ok ? ((await res.json()) as { ok?: Doc }[]) : [];
				const events = new Set<string>();
				for (const leaf of leaves) {
					for (const e of (leaf.ok?.events as { id?: string }[] | undefined) ?? []) {
						if (e.id) events.add(e.id);
					}
				}
				out.set(id, { winner, events });
			})
		);
		return out;
	}

	return new Hono<AppEnv>().use(requireUser()).all('/*', async (c) => {
		try {
			return await handle(c);
		} catch (err) {
			if (err instanceof AppError) throw err;
			if (err instanceof SyntaxError) return couchError(400, 'bad_request', 'invalid JSON');
			throw err;
		}
	});
};
