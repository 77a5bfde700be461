/**
 * The one door to the store. With `COUCHDB_URL` it is Apache CouchDB; without, the embedded store under the
 * data folder. Either way the server speaks CouchDB's HTTP protocol through `nano` and through `storeFetch`
 * (for the streamed `/sync` proxy) — the same code for both engines.
 */
import Nano from 'nano';
import type { DocumentScope, ServerScope } from 'nano';
import { join } from 'node:path';
import { startEmbeddedStore } from './embedded';
import { readDesignDocs } from '../../sync/ddocs';
import { getSecret } from '../secrets';
import type { Config } from '../config';

export const DB_KEYS = ['config', 'tickets', 'users', 'audit', 'customers', 'calls'] as const;
export type DbKey = (typeof DB_KEYS)[number];

export interface Store {
	kind: 'embedded' | 'couchdb';
	nano: ServerScope;
	/** Database name of a key, e.g. `tickets` → `cc_tickets`. */
	dbName(key: DbKey): string;
	db<T extends object = object>(key: DbKey): DocumentScope<T>;
	/**
	 * How many writes the store has accepted so far, counted by the embedded store; null for Apache
	 * CouchDB, which does not tell. For diagnostics and the fuzz tests.
	 */
	writes(): number | null;
	/** Raw request to the store (path starts with `/`), credentials added; for streaming proxies. */
	fetch(path: string, init?: RequestInit): Promise<Response>;
	close(): Promise<void>;
}

function splitCredentials(raw: string): { base: string; authorization: string | null } {
	const url = new URL(raw);
	const authorization =
		url.username || url.password
			? 'Basic ' +
				Buffer.from(
					`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
				).toString('base64')
			: null;
	url.username = '';
	url.password = '';
	return { base: url.toString().replace(/\/$/, ''), authorization };
}

export async function openStore(config: Config): Promise<Store> {
	let rawUrl = config.couchUrl;
	let close = async () => {};
	let writes = (): number | null => null;
	if (!rawUrl) {
		const embedded = await startEmbeddedStore({
			dir: join(config.dataDir, 'store'),
			secret: getSecret(config.dataDir, 'store-admin')
		});
		rawUrl = embedded.url;
		close = embedded.close;
		writes = embedded.writes;
	}
	const { base, authorization } = splitCredentials(rawUrl);
	const nano = Nano({
		url: base,
		parseUrl: false,
		...(authorization ? { headers: { Authorization: authorization } } : {})
	} as Nano.Configuration);
	const dbName = (key: DbKey) => `${config.dbPrefix}${key}`;
	return {
		kind: config.couchUrl ? 'couchdb' : 'embedded',
		nano,
		dbName,
		db: <T extends object>(key: DbKey) => nano.use<T>(dbName(key)),
		writes,
		fetch: (path, init = {}) => {
			const headers = new Headers(init.headers);
			if (authorization) headers.set('authorization', authorization);
			return fetch(base + path, { ...init, headers });
		},
		close
	};
}

/** Creates missing databases, sets `_security` (store administrators only) and deploys changed ddocs. */
export async function provisionStore(store: Store, ddocRoot: string): Promise<void> {
	const existing = new Set(await store.nano.db.list());
	for (const key of DB_KEYS) {
		const name = store.dbName(key);
		if (!existing.has(name)) {
			try {
				await store.nano.db.create(name);
			} catch (err) {
				// Another process may have created it meanwhile (412 file_exists): that is fine.
				if ((err as { statusCode?: number }).statusCode !== 412) throw err;
			}
		}
		const res = await store.fetch(`/${name}/_security`, {
			method: 'PUT',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({
				admins: { names: [], roles: [] },
				members: { names: [], roles: ['_admin'] }
			})
		});
		if (!res.ok) throw new Error(`setting _security on ${name} failed: ${res.status}`);
		const db = store.db<Record<string, unknown>>(key);
		for (const ddoc of readDesignDocs(ddocRoot, key)) {
			const current = await db.get(ddoc._id).catch(() => null);
			if (current && current.version === ddoc.version) continue;
			await db.insert({ ...ddoc, ...(current ? { _rev: current._rev } : {}) } as never);
		}
	}
}
