/// <reference types="pouchdb-core" />
/// <reference types="pouchdb-replication" />
/**
 * The capacity benchmark against Apache CouchDB (`COUCHDB_URL`) instead of the embedded store: each run
 * loads the fixture into databases of its own prefix, and the server runs on them.
 *
 * The fixture is the embedded store's LevelDB folders; a run's copy of them (with the sessions `prepareRun`
 * wrote) is replicated into CouchDB with PouchDB, which keeps every revision. Replication does not copy
 * `_local` documents, so the databases' `_local/identity` is copied beside: what the server derived from
 * them and keeps in the data folder (the subscriber search index, the ticket history index, the feed hubs'
 * snapshots) is then still theirs, and is pointed at CouchDB's sequences, so that the server does not build
 * it again — a million subscribers take minutes to index. CouchDB builds its views before the server starts,
 * as the fixture's embedded store has them built.
 *
 * Beside the server, CouchDB's own processes are measured: the `beam.smp` of each of its nodes that runs on
 * this machine, and their children (the JavaScript query servers that map views and validate writes).
 */
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import Sqlite from 'better-sqlite3';
import { DB_KEYS, type DbKey } from '../../../server/store';
import { basicAuth } from '../../helpers/couch';

const require = createRequire(import.meta.url);

/**
 * The prefix the fixture's databases have: the server's default `DB_PREFIX`, which the embedded store too
 * puts before each database's folder (`store/db/cc_tickets`).
 */
const EMBEDDED_PREFIX = 'cc_';
const BATCH_SIZE = 2000;
/** Batches read ahead of the one being written: the source's reads overlap CouchDB's writes. */
const BATCHES_LIMIT = 4;
const PROGRESS_MS = 30_000;
const IDLE_TIMEOUT_MS = 1_800_000;

export interface Couch {
	/** `COUCHDB_URL` as given, credentials included: for the server's environment only, never printed. */
	url: string;
	/** Host and port, for the log and the figures. */
	host: string;
	version: string;
	/** The cluster's nodes (`GET /_membership`): one for a single node. */
	nodes: string[];
	request(path: string, init?: RequestInit): Promise<Response>;
}

/** The CouchDB of `COUCHDB_URL`, asked its version and nodes; null when unset (the embedded store). */
export async function couchFromEnv(): Promise<Couch | null> {
	const url = process.env.COUCHDB_URL;
	if (!url) return null;
	const base = new URL(url);
	const authorization = base.username || base.password ? basicAuth(base) : null;
	base.username = base.password = '';
	const request = (path: string, init: RequestInit = {}) =>
		fetch(new URL(path, base), {
			...init,
			headers: {
				accept: 'application/json',
				'content-type': 'application/json',
				...(authorization ? { authorization } : {}),
				...(init.headers as Record<string, string> | undefined)
			}
		});
	const json = async <T>(path: string): Promise<T> => {
		const res = await request(path);
		if (!res.ok) {
			throw new Error(`COUCHDB_URL: GET ${path} answered ${res.status} ${await res.text()}`);
		}
		return (await res.json()) as T;
	};
	const { version } = await json<{ version: string }>('/');
	const { cluster_nodes } = await json<{ cluster_nodes: string[] }>('/_membership');
	return { url, host: base.host, version, nodes: cluster_nodes, request };
}

/** A database prefix of its own for each run (the server's `DB_PREFIX`: `[a-z][a-z0-9_]*`). */
export const runPrefix = () => `bench${Date.now().toString(36)}_`;

export interface CouchLoad {
	prefix: string;
	/** Documents copied per database. */
	docs: Record<string, number>;
	replicateSeconds: number;
	viewsSeconds: number;
	/** What the server will read anew after all (a derived file that could not be pointed at CouchDB). */
	notCarried: string[];
}

/**
 * Copies every database of the run's data folder `dataDir` into CouchDB under `prefix`, points the server's
 * derived files in `dataDir` at them, builds the views, and removes the embedded store's folder from
 * `dataDir` (the server on CouchDB never opens it). Resolves once CouchDB is idle.
 */
export async function loadIntoCouch(
	couch: Couch,
	dataDir: string,
	prefix: string,
	log: (s: string) => void
): Promise<CouchLoad> {
	const PouchDB = require('pouchdb-node') as PouchDB.Static;
	const folder = join(dataDir, 'store', 'db');
	const Local = PouchDB.defaults({ prefix: folder + '/' });
	// PouchDB sends the account as Basic authentication given apart from the URL.
	const credentials = new URL(couch.url);
	const target = (key: DbKey) =>
		new PouchDB(`${credentials.origin}/${prefix}${key}`, {
			...(credentials.username || credentials.password
				? {
						auth: {
							username: decodeURIComponent(credentials.username),
							password: decodeURIComponent(credentials.password)
						}
					}
				: {})
		});

	const t0 = performance.now();
	const total: Record<string, number> = {};
	const written: Record<string, number> = {};
	const progress = setInterval(() => {
		log(
			`  CouchDB: loading … ` +
				DB_KEYS.filter((key) => total[key])
					.map((key) => `${key} ${count(written[key] ?? 0)}/${count(total[key]!)}`)
					.join(', ') +
				` (${Math.round((performance.now() - t0) / 1000)} s)`
		);
	}, PROGRESS_MS);
	const identities: Partial<Record<DbKey, string>> = {};
	const updateSeqs: Partial<Record<DbKey, string>> = {};
	try {
		// Side by side: each database is replicated one batch at a time, and CouchDB writes to several at once.
		await Promise.all(
			DB_KEYS.map(async (key) => {
				if (!existsSync(join(folder, `${EMBEDDED_PREFIX}${key}`))) {
					throw new Error(`${EMBEDDED_PREFIX}${key} is missing under ${folder}`);
				}
				const source = new Local(`${EMBEDDED_PREFIX}${key}`);
				const to = target(key);
				try {
					total[key] = (await source.info()).doc_count;
					const ddocs = (
						await source.allDocs({ startkey: '_design/', endkey: '_design/\uffff' })
					).rows.map((r) => r.id);
					const options = {
						batch_size: BATCH_SIZE,
						batches_limit: BATCHES_LIMIT,
						// A load that fails is not resumed: the next run starts over under another prefix.
						checkpoint: false
					} as const;
					// The design documents last: with their validate_doc_update in place first, CouchDB would run
					// every replicated document through it in its JavaScript query server.
					const data = await PouchDB.replicate(source, to, {
						...options,
						filter: (doc: { _id: string }) => !doc._id.startsWith('_design/')
					}).on('change', (info) => (written[key] = info.docs_written));
					const design =
						ddocs.length > 0
							? await PouchDB.replicate(source, to, { ...options, doc_ids: ddocs })
							: null;
					const failures = data.doc_write_failures + (design?.doc_write_failures ?? 0);
					if (failures > 0) {
						throw new Error(
							`${key}: ${failures} documents not written to CouchDB: ${JSON.stringify([...data.errors, ...(design?.errors ?? [])].slice(0, 3))}`
						);
					}
					written[key] = data.docs_written + (design?.docs_written ?? 0);

					const identity = await source
						.get<{ identity?: string }>('_local/identity')
						.then((d) => d.identity)
						.catch(() => undefined);
					if (identity) {
						identities[key] = identity;
						await to.put({ _id: '_local/identity', identity });
					}
					const seq = String((await to.info()).update_seq);
					updateSeqs[key] = seq;
					// The conflict resolver (`ticket-resolver.ts`) had nothing to merge in the fixture, nor here.
					if (key === 'tickets') await to.put({ _id: '_local/ticket-resolver', seq });
				} finally {
					await Promise.all([source.close(), to.close()]);
				}
			})
		);
	} finally {
		clearInterval(progress);
	}
	const replicateSeconds = (performance.now() - t0) / 1000;
	log(
		`  CouchDB: ${DB_KEYS.map((key) => `${key} ${count(written[key] ?? 0)}`).join(', ')} documents ` +
			`copied in ${replicateSeconds.toFixed(1)} s`
	);
	rmSync(join(dataDir, 'store'), { recursive: true, force: true });

	const notCarried = retargetDerived(couch, dataDir, prefix, identities, updateSeqs);

	const tv = performance.now();
	await buildViews(couch, prefix, log);
	const viewsSeconds = (performance.now() - tv) / 1000;
	log(`  CouchDB: views built in ${viewsSeconds.toFixed(1)} s`);
	await waitIdle(couch, prefix, log);
	return { prefix, docs: written, replicateSeconds, viewsSeconds, notCarried };
}

/**
 * Points the server's files derived from a database at its copy in CouchDB: the same database (its identity
 * was carried), read up to CouchDB's current sequence. Returns the files it could not point (the server
 * builds those anew).
 */
function retargetDerived(
	couch: Couch,
	dataDir: string,
	prefix: string,
	identities: Partial<Record<DbKey, string>>,
	updateSeqs: Partial<Record<DbKey, string>>
): string[] {
	const missed: string[] = [];
	// The search and history indexes keep the identity and their checkpoint in their `meta` table
	// (`server/services/derived-index.ts`).
	for (const [file, key] of [
		['customer-index.sqlite', 'customers'],
		['ticket-history.sqlite', 'tickets']
	] as const) {
		const path = join(dataDir, file);
		if (!existsSync(path)) continue;
		const db = new Sqlite(path);
		try {
			const indexed = (
				db.prepare(`select value from meta where key = 'database'`).get() as
					{ value: string } | undefined
			)?.value;
			if (indexed !== undefined && indexed === identities[key] && updateSeqs[key]) {
				db.prepare(`insert or replace into meta values ('seq', ?)`).run(updateSeqs[key]);
			} else {
				missed.push(file);
			}
		} finally {
			db.close();
		}
	}
	// A feed hub's snapshot names the store it was taken of (`server/replication/feed-hub.ts`, and its store
	// as `server/runtime.ts` names it) and where in that store's feed it is.
	for (const key of ['tickets', 'config'] as const) {
		const path = join(dataDir, `sync-hub-${key}.v8`);
		if (!existsSync(path)) continue;
		const snapshot = deserialize(new Uint8Array(readFileSync(path))) as {
			version?: number;
			source?: string;
			storeSince?: string;
		};
		const identity = identities[key];
		if (
			snapshot.version === 1 &&
			identity &&
			updateSeqs[key] &&
			snapshot.source?.endsWith(`/${key}/${identity}`)
		) {
			snapshot.source = `${couch.host}/${prefix}/${key}/${identity}`;
			snapshot.storeSince = updateSeqs[key];
			writeFileSync(path, serialize(snapshot) as Uint8Array, { mode: 0o600 });
		} else {
			missed.push(`sync-hub-${key}.v8`);
		}
	}
	return missed;
}

interface ActiveTask {
	type: string;
	database?: string;
}

/** The run's databases' background tasks in CouchDB (view indexing, compaction). */
async function tasks(couch: Couch, prefix: string): Promise<ActiveTask[]> {
	const res = await couch.request('/_active_tasks');
	if (!res.ok) throw new Error(`CouchDB: GET /_active_tasks answered ${res.status}`);
	// A clustered database's tasks name its shards: `shards/00000000-7fffffff/<name>.<suffix>`.
	return ((await res.json()) as ActiveTask[]).filter((t) =>
		(t.database ?? '').replace(/^shards\/[^/]+\//, '').startsWith(prefix)
	);
}

/**
 * Has CouchDB build every view of the run's databases (all of a design document's views are one index, built
 * together) before the server's first look-up would wait for it; resolves when none has a document left to
 * map.
 */
async function buildViews(couch: Couch, prefix: string, log: (s: string) => void) {
	const ddocs: { path: string; view: string }[] = [];
	for (const key of DB_KEYS) {
		const res = await couch.request(
			`/${prefix}${key}/_all_docs?startkey=${encodeURIComponent('"_design/"')}&endkey=${encodeURIComponent('"_design/\uffff"')}&include_docs=true`
		);
		if (!res.ok) throw new Error(`CouchDB: ${prefix}${key}/_all_docs answered ${res.status}`);
		const { rows } = (await res.json()) as {
			rows: { id: string; doc: { views?: Record<string, unknown> } }[];
		};
		for (const { id, doc } of rows) {
			const view = Object.keys(doc.views ?? {})[0];
			if (view) ddocs.push({ path: `/${prefix}${key}/${id}`, view });
		}
	}
	// `update=lazy` answers at once and starts the index's update: the progress can be shown meanwhile.
	for (const { path, view } of ddocs) {
		await (await couch.request(`${path}/_view/${view}?limit=0&update=lazy`)).arrayBuffer();
	}
	const pending = async (path: string) => {
		const res = await couch.request(`${path}/_info`);
		if (!res.ok) throw new Error(`CouchDB: ${path}/_info answered ${res.status}`);
		const { view_index } = (await res.json()) as {
			view_index: { updates_pending?: { total?: number }; updater_running?: boolean };
		};
		return (view_index.updates_pending?.total ?? 0) + (view_index.updater_running ? 1 : 0);
	};
	const deadline = Date.now() + IDLE_TIMEOUT_MS;
	let shown = Date.now();
	for (;;) {
		const left = await Promise.all(ddocs.map(({ path }) => pending(path)));
		if (left.every((n) => n === 0)) return;
		if (Date.now() > deadline) throw new Error('CouchDB: views not built in 30 min');
		if (Date.now() - shown >= PROGRESS_MS) {
			shown = Date.now();
			log(
				`  CouchDB: building views … ${ddocs
					.map(({ path }, i) => [path.slice(1), left[i]!] as const)
					.filter(([, n]) => n > 0)
					.map(([name, n]) => `${name} ${count(n)} documents to map`)
					.join(', ')}`
			);
		}
		await new Promise((r) => setTimeout(r, 1000));
	}
}

/**
 * Waits until CouchDB has no task for the run's databases for 3 s in a row: the compaction its automatic
 * compactor may start after a load, not measured as the benchmark's load.
 */
async function waitIdle(couch: Couch, prefix: string, log: (s: string) => void) {
	const t0 = performance.now();
	let quiet = 0;
	let said = false;
	while (quiet < 3) {
		const busy = await tasks(couch, prefix);
		quiet = busy.length === 0 ? quiet + 1 : 0;
		if (busy.length > 0 && !said) {
			said = true;
			log(`  CouchDB: waiting for ${[...new Set(busy.map((t) => t.type))].join(', ')} to end`);
		}
		if (performance.now() - t0 > IDLE_TIMEOUT_MS) throw new Error('CouchDB: not idle after 30 min');
		if (quiet < 3) await new Promise((r) => setTimeout(r, 1000));
	}
}

/** Deletes the run's databases (every database under `prefix`, the server's own included). */
export async function dropDatabases(couch: Couch, prefix: string): Promise<number> {
	const res = await couch.request(
		`/_all_dbs?startkey=${encodeURIComponent(JSON.stringify(prefix))}&endkey=${encodeURIComponent(JSON.stringify(`${prefix}\ufff0`))}`
	);
	if (!res.ok) throw new Error(`CouchDB: GET /_all_dbs answered ${res.status}`);
	const names = (await res.json()) as string[];
	for (const name of names) {
		const del = await couch.request(`/${encodeURIComponent(name)}`, { method: 'DELETE' });
		if (!del.ok && del.status !== 404) {
			throw new Error(`CouchDB: DELETE /${name} answered ${del.status}`);
		}
	}
	return names.length;
}

/**
 * The processes of CouchDB's nodes `nodes` on this machine, asked again at each call (query servers come
 * and go): each node's `beam.smp` (told by its `-name`) and everything it started. None when CouchDB runs
 * elsewhere.
 */
export function couchProcesses(nodes: string[]): () => number[] {
	const beams = listProcesses()
		.filter((p) => /(^|\/)beam\.smp$/.test(p.argv[0] ?? ''))
		.filter((p) => {
			const i = p.argv.findIndex((a) => a === '-name' || a === '-sname');
			return i >= 0 && nodes.includes(p.argv[i + 1] ?? '');
		})
		.map((p) => p.pid);
	if (beams.length === 0) return () => [];
	return () => {
		const children = new Map<number, number[]>();
		for (const { pid, ppid } of listProcesses()) {
			children.set(ppid, [...(children.get(ppid) ?? []), pid]);
		}
		const out: number[] = [];
		const visit = (pid: number) => {
			out.push(pid);
			for (const child of children.get(pid) ?? []) visit(child);
		};
		for (const pid of beams) visit(pid);
		return out;
	};
}

function listProcesses(): { pid: number; ppid: number; argv: string[] }[] {
	const out: { pid: number; ppid: number; argv: string[] }[] = [];
	for (const name of readdirSync('/proc')) {
		if (!/^\d+$/.test(name)) continue;
		try {
			const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
			// The fields after the command name (which may hold spaces): state, then the parent's pid.
			const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
			const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
			out.push({ pid: Number(name), ppid, argv });
		} catch {
			// gone since the folder was listed
		}
	}
	return out;
}

const count = (n: number) => n.toLocaleString('en');
