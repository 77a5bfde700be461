/**
 * The local replica of the configuration database (departments, roles …): pulled live from `/sync/config`,
 * read-only, readable offline. The only module besides tickets-db that uses PouchDB (`./pouch`, loaded
 * with the first replica opened).
 *
 * It lives in PouchDB's `indexeddb` adapter as `cc-config-v2`; the `cc-config` replica of the older `idb`
 * adapter is moved over once, so an offline start right after the update still has the configuration.
 */
import { quietInfo } from './quiet-remote';
import { backOff } from './backoff';
import type { ConfigDoc } from '#shared/docs/config';
import { syncStatus } from '$lib/state/sync-status.svelte';

const LOCAL_NAME = 'cc-config-v2';
const IDB_NAME = 'cc-config';
const BATCH_SIZE = 500; // ~1.7× faster first sync than the default 100 (notes/web-stack.md)

let local: Promise<PouchDB.Database<ConfigDoc>> | null = null;
let replication: PouchDB.Replication.Replication<ConfigDoc> | null = null;
/** Replication is wanted (started and not stopped since), possibly still loading. */
let wanted = false;
const listeners = new Set<() => void>();

function db(): Promise<PouchDB.Database<ConfigDoc>> {
	local ??= open();
	return local;
}

async function open(): Promise<PouchDB.Database<ConfigDoc>> {
	const { PouchDB, moveIdbReplica } = await import('./pouch');
	const current = new PouchDB<ConfigDoc>(LOCAL_NAME, { adapter: 'indexeddb' });
	await moveIdbReplica(IDB_NAME, current).catch(() => {});
	return current;
}

/** Starts live pull replication (idempotent). */
export function startConfigSync(): void {
	if (wanted) return;
	wanted = true;
	syncStatus.set('config', 'pulling');
	void Promise.all([db(), import('./remote')]).then(([local, { syncRemote }]) => {
		if (!wanted || replication) return;
		startReplication(local, quietInfo(syncRemote<ConfigDoc>('config')));
	});
}

function startReplication(
	local: PouchDB.Database<ConfigDoc>,
	remote: PouchDB.Database<ConfigDoc>
): void {
	replication = local.replicate
		.from(remote, {
			live: true,
			retry: true,
			batch_size: BATCH_SIZE,
			back_off_function: backOff,
			// The position is kept on the device; the server stores nothing per device (#15).
			checkpoint: 'target'
		})
		.on('change', () => {
			// A batch arrived; caught up only when the replication pauses.
			syncStatus.lastSyncedAt = Date.now();
			for (const l of listeners) l();
		})
		.on('paused', (err) => {
			if (err) syncStatus.set('config', 'error');
			else syncStatus.set('config', 'paused');
		})
		.on('active', () => syncStatus.set('config', 'pulling'))
		.on('denied', () => syncStatus.set('config', 'error'))
		.on('error', () => syncStatus.set('config', 'error'));
}

export function stopConfigSync(): void {
	wanted = false;
	syncStatus.set('config', 'idle');
	replication?.cancel();
	replication = null;
}

/** Every configuration document in the local replica. */
export async function readAllConfig(): Promise<ConfigDoc[]> {
	const res = await (await db()).allDocs({ include_docs: true });
	return res.rows.flatMap((r) =>
		r.doc && typeof r.doc.type === 'string' ? [r.doc as unknown as ConfigDoc] : []
	);
}

/** Called whenever replicated configuration changes; returns an unsubscribe function. */
export function onConfigChange(listener: () => void): () => void {
	listeners.add(listener);
	return () => listeners.delete(listener);
}

/** Forgets the replica (sign-out: the next user of this browser must not see it). */
export async function destroyConfigReplica(): Promise<void> {
	stopConfigSync();
	await (await db()).destroy();
	local = null;
	// What shows the configuration reads the (now empty) replica again: nothing of this user stays on screen.
	for (const l of listeners) l();
}
