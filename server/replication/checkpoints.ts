/**
 * `_local/<id>`: the replicator's checkpoints, stored under the policy's id (per user or branch and scope
 * hash), never under the caller's own — small, of PouchDB's fields only, and at most `checkpointsPerOwner`
 * per caller, the oldest going first (costing that replication a restart from zero, never data).
 */
import { createHash } from 'node:crypto';
import { StoreError, type Database } from '../store';
import { couchError, json, storeAnswer } from './answers';
import { REPLICATION_LIMITS } from './limits';
import type { ReplicationPolicy } from './policy';

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

/** `GET _local/<clientId>`. */
export async function getCheckpoint(db: Database, policy: ReplicationPolicy, clientId: string) {
	const doc = await db.local.get(policy.checkpointId(clientId));
	if (!doc) return couchError(404, 'not_found', 'missing');
	return json({ ...doc, _id: `_local/${clientId}` });
}

/** `PUT _local/<clientId>` with the request's text; `owner` is whom the per-caller bound counts. */
export async function putCheckpoint(
	db: Database,
	policy: ReplicationPolicy,
	clientId: string,
	text: string,
	owner?: string
) {
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
	const storeId = policy.checkpointId(clientId);
	if (owner !== undefined) await keepCheckpoint(db, owner, storeId);
	try {
		const body = await db.local.put(storeId, { ...doc, _id: `_local/${storeId}` });
		return json({ ...body, id: `_local/${clientId}` }, 201);
	} catch (err) {
		if (err instanceof StoreError) return storeAnswer(err);
		throw err;
	}
}

/**
 * Keeps at most `checkpointsPerOwner` checkpoints per caller: a new one beyond that removes the oldest.
 * The list lives in its own `_local` document per caller, written only when a checkpoint is new.
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
		const evicted = ids.splice(0, Math.max(0, ids.length - REPLICATION_LIMITS.checkpointsPerOwner));
		try {
			await db.local.put(indexId, { ids, ...(index._rev ? { _rev: index._rev } : {}) });
		} catch (err) {
			// Another checkpoint of this caller at the same moment: read the list again.
			if (err instanceof StoreError && err.statusCode === 409) continue;
			if (!(err instanceof StoreError)) throw err;
		}
		for (const id of evicted) await db.local.remove(id);
		return;
	}
}
