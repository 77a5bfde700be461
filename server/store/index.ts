/**
 * The one door to the store. With `COUCHDB_URL` it is Apache CouchDB; without, the embedded store under the
 * data folder. Either way the server speaks CouchDB's HTTP protocol — the same code for both engines, through
 * one `nano` client (and raw requests only where the store's stream is handed on) — and only through this
 * folder: each database's named operations (`database.ts`), its changes followed in
 * batches (`follow.ts`), and a PouchDB handle for replicating with it (`replica.ts`). Nothing outside
 * `server/store/` builds a CouchDB path.
 */
import Nano from 'nano';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startEmbeddedStore } from './embedded';
import {
	createDatabase,
	noticingWrites,
	StoreError,
	type Database,
	type Doc,
	type StoreRequest,
	type Written
} from './database';
import { createReplica, type Replica } from './replica';
import { readDesignDocs } from '../../sync/ddocs';
import { getSecret } from '../secrets';
import type { Settings } from '../settings';

export {
	StoreError,
	type BulkResult,
	type ChangesParams,
	type Database,
	type Doc,
	type OpenRev,
	type Stored,
	type Written
} from './database';

export const DB_KEYS = ['config', 'tickets', 'users', 'audit', 'customers', 'calls'] as const;
export type DbKey = (typeof DB_KEYS)[number];

export interface Store {
	kind: 'embedded' | 'couchdb';
	/** One database by its key (`tickets` is `cc_tickets` with the default prefix). */
	db<T extends object = Doc>(key: DbKey): Database<T>;
	/** A PouchDB handle on one database, for replicating with it (a branch's link to its center). */
	replica(key: DbKey): Replica;
	/**
	 * How many writes the store has accepted so far, counted by the embedded store; null for Apache
	 * CouchDB, which does not tell. For diagnostics and the fuzz tests.
	 */
	writes(): number | null;
	/**
	 * Calls `listener` with what each write of this server to database `key` stored (not replications
	 * through a replica); returns the unsubscribe.
	 */
	onWrite(key: DbKey, listener: (written: Written[]) => void): () => void;
	/** How many times the server called each operation of each database since it started. */
	operations(): Record<string, Record<string, number>>;
	/**
	 * Where the store listens and the headers that authenticate there: for tools that measure the store
	 * itself against the server (`test/bench`). The server never uses it.
	 */
	address(): { url: string; headers: Record<string, string> };
	/** Who the server is at the store (CouchDB's `_session`): its account, and whether a server admin. */
	account(): Promise<{ name: string | null; serverAdmin: boolean }>;
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

export async function openStore(settings: Settings): Promise<Store> {
	let rawUrl = settings.couchUrl;
	let close = async () => {};
	let writes = (): number | null => null;
	if (!rawUrl) {
		const embedded = await startEmbeddedStore({
			dir: join(settings.dataDir, 'store'),
			secret: getSecret(settings.dataDir, 'store-admin')
		});
		rawUrl = embedded.url;
		close = embedded.close;
		writes = embedded.writes;
	}
	const { base, authorization } = splitCredentials(rawUrl);
	const request: StoreRequest = (path, init = {}) => {
		const headers = new Headers(init.headers);
		if (authorization) headers.set('authorization', authorization);
		return fetch(base + path, { ...init, headers });
	};
	// One CouchDB client for the store: same base URL and credentials as the raw requests.
	const client = Nano({
		url: base,
		parseUrl: false,
		...(authorization ? { headers: { Authorization: authorization } } : {})
	} as Nano.Configuration);
	const dbName = (key: DbKey) => `${settings.dbPrefix}${key}`;
	const databases = new Map<DbKey, Database<object>>();
	const counted = new Map<DbKey, Map<string, number>>();
	const listeners = new Map<DbKey, Set<(written: Written[]) => void>>();
	return {
		kind: settings.couchUrl ? 'couchdb' : 'embedded',
		db: <T extends object>(key: DbKey) => {
			let db = databases.get(key);
			if (!db) {
				const counts = new Map<string, number>();
				counted.set(key, counts);
				db = noticingWrites(createDatabase(client, request, dbName(key), counts), (written) => {
					for (const listener of listeners.get(key) ?? []) listener(written);
				});
				databases.set(key, db);
			}
			return db as Database<T>;
		},
		replica: (key) => createReplica(request, dbName(key)),
		writes,
		onWrite(key, listener) {
			let set = listeners.get(key);
			if (!set) listeners.set(key, (set = new Set()));
			set.add(listener);
			return () => set.delete(listener);
		},
		operations: () =>
			Object.fromEntries([...counted].map(([key, counts]) => [key, Object.fromEntries(counts)])),
		address: () => ({
			url: base,
			headers: authorization ? { authorization } : ({} as Record<string, string>)
		}),
		async account() {
			const res = await request('/_session');
			const body = (await res.json().catch(() => null)) as {
				userCtx?: { name?: string | null; roles?: string[] };
			} | null;
			if (!res.ok || !body?.userCtx) {
				throw new StoreError(res.status, {
					error: 'session',
					reason: 'the store did not say who we are'
				});
			}
			return {
				name: body.userCtx.name ?? null,
				serverAdmin: body.userCtx.roles?.includes('_admin') ?? false
			};
		},
		close
	};
}

/**
 * Creates missing databases, sets `_security` and deploys changed ddocs. Only the store's administrators
 * may read them: CouchDB's server administrators, and the app's own account when it is not one (least
 * privilege: an account that administers only these databases, which then must exist).
 */
export async function provisionStore(store: Store, ddocRoot: string): Promise<void> {
	const { name, serverAdmin } = await store.account();
	const own = serverAdmin || !name ? [] : [name];
	for (const key of DB_KEYS) {
		const db = store.db<Record<string, unknown>>(key);
		await db.ensureExists();
		await db.setSecurity({
			admins: { names: own, roles: [] },
			members: { names: own, roles: ['_admin'] }
		});
		for (const ddoc of readDesignDocs(ddocRoot, key)) {
			const current = await db.find(ddoc._id).catch(() => null);
			if (current && current.version === ddoc.version) continue;
			await db.insert({ ...ddoc, ...(current ? { _rev: current._rev } : {}) });
		}
	}
}

/**
 * A random name kept in the database's `_local/identity`. A database made anew — restored from a backup or by
 * replication, neither of which copies `_local` documents — has another one: what a server derives from a
 * database and keeps (the feed hub's snapshot, the subscriber search index) is used only while the names
 * match. (Apache CouchDB's sequence numbers cannot tell: on a cluster they are not comparable.)
 *
 * Apache CouchDB keeps no revisions for `_local` documents: a write without `_rev` replaces what is there (no
 * 409). So the callers of one server asking at once (the feed hub, the history index, at start) share one
 * question, and the name returned is the one read back after writing. Two servers naming a new database at
 * the same instant may still differ; the loser rebuilds what it derived once, at its next start.
 */
export function databaseIdentity(db: Database<object>): Promise<string> {
	let asked = identities.get(db);
	if (!asked) {
		asked = nameDatabase(db).finally(() => identities.delete(db));
		identities.set(db, asked);
	}
	return asked;
}
const identities = new WeakMap<Database<object>, Promise<string>>();

async function nameDatabase(db: Database<object>): Promise<string> {
	for (;;) {
		const found = await db.local.get<{ identity?: string }>('identity');
		if (typeof found?.identity === 'string') return found.identity;
		try {
			await db.local.put('identity', { identity: randomBytes(9).toString('base64url') });
		} catch (err) {
			// The embedded store refuses a second writer (409): read the first one's name.
			if (!(err instanceof StoreError && err.statusCode === 409)) throw err;
		}
	}
}
