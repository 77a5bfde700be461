/**
 * The local replica of the configuration database (departments, roles …): pulled live from `/sync/config`,
 * read-only, readable offline. The only module besides tickets-db that imports PouchDB.
 */
import { backOff } from './backoff';
import PouchDB from 'pouchdb-browser';
import type { ConfigDoc } from '#shared/docs/config';
import { syncStatus } from '$lib/state/sync-status.svelte';
import { syncRemote } from './remote';

const LOCAL_NAME = 'cc-config';
const BATCH_SIZE = 500; // ~1.7× faster first sync than the default 100 (notes/web-stack.md)

let local: PouchDB.Database<ConfigDoc> | null = null;
let replication: PouchDB.Replication.Replication<ConfigDoc> | null = null;
const listeners = new Set<() => void>();

function db(): PouchDB.Database<ConfigDoc> {
	local ??= new PouchDB<ConfigDoc>(LOCAL_NAME);
	return local;
}

/** Starts live pull replication (idempotent). */
export function startConfigSync(): void {
	if (replication) return;
	const remote = syncRemote<ConfigDoc>('config');
	syncStatus.phase = 'pulling';
	replication = db()
		.replicate.from(remote, {
			live: true,
			retry: true,
			batch_size: BATCH_SIZE,
			back_off_function: backOff
		})
		.on('change', () => {
			syncStatus.markSynced();
			for (const l of listeners) l();
		})
		.on('paused', (err) => {
			if (err) syncStatus.phase = 'error';
			else syncStatus.markSynced();
		})
		.on('active', () => (syncStatus.phase = 'pulling'))
		.on('denied', () => (syncStatus.phase = 'error'))
		.on('error', () => (syncStatus.phase = 'error'));
}

export function stopConfigSync(): void {
	replication?.cancel();
	replication = null;
}

/** Every configuration document in the local replica. */
export async function readAllConfig(): Promise<ConfigDoc[]> {
	const res = await db().allDocs({ include_docs: true });
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
	await db().destroy();
	local = null;
	// What shows the configuration reads the (now empty) replica again: nothing of this user stays on screen.
	for (const l of listeners) l();
}
