/**
 * The browser's PouchDB, put together from the parts the app uses (#15): pouchdb-core, the HTTP adapter
 * (the server's `/sync`), replication and the `indexeddb` adapter — not pouchdb-browser, which adds the
 * older `idb` adapter and map/reduce, neither used since the replicas moved to `indexeddb`. The replica
 * modules import this one dynamically, so it loads while the page is already on screen.
 *
 * A replica of the older `idb` adapter is moved into its `indexeddb` successor once (`moveIdbReplica`);
 * only then is the `idb` adapter loaded (pouchdb-browser, which holds it).
 */
import PouchDB from 'pouchdb-core';
import HttpAdapter from 'pouchdb-adapter-http';
import IndexedDbAdapter from 'pouchdb-adapter-indexeddb';
import replication from 'pouchdb-replication';

PouchDB.plugin(HttpAdapter).plugin(IndexedDbAdapter).plugin(replication);

export { PouchDB };

/** The local databases PouchDB holds in this browser, by the names the app gave them. */
export async function localReplicas(): Promise<Set<string>> {
	const all = (await indexedDB.databases?.().catch(() => [])) ?? [];
	// Both adapters call the IndexedDB database `_pouch_<name>`.
	return new Set(all.flatMap((d) => (d.name?.startsWith('_pouch_') ? [d.name.slice(7)] : [])));
}

/**
 * Moves the `idb` replica `name` into `target` — every revision, unsynced edits and conflicts included —
 * and deletes it. For the replicas of earlier versions; a no-op when there is none.
 */
export async function moveIdbReplica<T extends object>(
	name: string,
	target: PouchDB.Database<T>
): Promise<void> {
	if (!(await localReplicas()).has(name)) return;
	const { default: WithIdb } = await import('pouchdb-browser');
	const old = new WithIdb<T>(name, { adapter: 'idb' });
	await old.replicate.to(target);
	await old.destroy();
}
