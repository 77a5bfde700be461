/**
 * `_local/<id>`: the replicator's checkpoints, stored under the policy's id (per user or branch and scope
 * hash), never under the caller's own — small, of PouchDB's fields only, and at most `checkpointsPerOwner`
 * per caller, the oldest going first (costing that replication a restart from zero, never data).
 *
 * Checkpoints live in memory and are written to the store behind (every `flushMs` and at stop): a device
 * writes one after every batch it replicates, and at a few hundred devices those writes and the reads
 * before them were most of what the store did (issue #15: 8,331 `_local` requests in two minutes at 50
 * devices). A crash loses at most the last `flushMs` of checkpoints: those replications start again from
 * the checkpoint before, which costs a re-read of what they had already, never data.
 */
import { createHash } from 'node:crypto';
import { StoreError, type Database } from '../store';
import { couchError, json } from './answers';
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

const FLUSH_MS = 30_000;

/** One `_local` document as this server holds it: its body, its revision here and in the store. */
interface Held<T> {
	db: Database;
	storeId: string;
	body: T;
	/** The revision number answered to clients (`0-<rev>`, as CouchDB numbers `_local` revisions). */
	rev: number;
	/** The store's revision of the copy written there, if any. */
	storeRev: string | undefined;
	dirty: boolean;
}

type Body = Record<string, unknown>;

export type Checkpoints = ReturnType<typeof createCheckpoints>;

export function createCheckpoints({
	flushMs = FLUSH_MS,
	log = () => {}
}: { flushMs?: number; log?: (msg: string) => void } = {}) {
	const held = new Map<string, Held<Body>>();
	/** Per caller, their checkpoints' store ids, oldest first (its own `_local` document in the store). */
	const owners = new Map<string, Held<{ ids: string[] }>>();
	/** Checkpoints pushed out of an owner's list, to delete from the store at the next flush. */
	const evicted = new Map<string, Database>();
	const dbNumbers = new WeakMap<Database, number>();
	let databases = 0;
	/** The map key of a document of a database (the store hands out one object per database). */
	function key(db: Database, storeId: string) {
		let n = dbNumbers.get(db);
		if (n === undefined) dbNumbers.set(db, (n = databases++));
		return `${n}\u0000${storeId}`;
	}

	/** The document from memory, or read once from the store (null when neither has it). */
	async function load<T extends object>(
		map: Map<string, Held<T>>,
		db: Database,
		storeId: string
	): Promise<Held<T> | null> {
		const k = key(db, storeId);
		const inMemory = map.get(k);
		if (inMemory) return inMemory;
		if (evicted.has(k)) return null;
		const stored = await db.local.get<T & { _id: string; _rev: string }>(storeId);
		if (!stored) return null;
		// Another request may have loaded or written it meanwhile: that one is newer.
		const again = map.get(k);
		if (again) return again;
		const { _id: _, _rev, servedRev, ...body } = stored as typeof stored & { servedRev?: unknown };
		const entry: Held<T> = {
			db,
			storeId,
			body: body as unknown as T,
			rev: typeof servedRev === 'number' ? servedRev : Number(/^0-(\d+)$/.exec(_rev)?.[1] ?? 1),
			storeRev: _rev,
			dirty: false
		};
		map.set(k, entry);
		return entry;
	}

	/** Keeps at most `checkpointsPerOwner` checkpoints per caller: a new one beyond that removes the oldest. */
	async function keep(db: Database, owner: string, storeId: string): Promise<void> {
		const indexId = `ck-owner-${createHash('sha256').update(owner).digest('hex')}`;
		const index = (await load(owners, db, indexId)) ?? {
			db,
			storeId: indexId,
			body: { ids: [] },
			rev: 0,
			storeRev: undefined,
			dirty: true
		};
		owners.set(key(db, indexId), index);
		if (index.body.ids.includes(storeId)) return;
		const ids = [...index.body.ids, storeId];
		const out = ids.splice(0, Math.max(0, ids.length - REPLICATION_LIMITS.checkpointsPerOwner));
		index.body = { ids };
		index.rev++;
		index.dirty = true;
		for (const id of out) {
			held.delete(key(db, id));
			evicted.set(key(db, id), db);
		}
	}

	/** Writes what changed since the last flush to the store; a failure is retried at the next one. */
	async function flush(): Promise<void> {
		for (const [k, db] of [...evicted]) {
			try {
				await db.local.remove(k.slice(k.indexOf('\u0000') + 1));
				evicted.delete(k);
			} catch (err) {
				log(`checkpoints: removing ${k}: ${(err as Error).message}`);
			}
		}
		for (const entry of [...held.values(), ...owners.values()] as Held<object>[]) {
			if (!entry.dirty) continue;
			entry.dirty = false;
			const write = (rev: string | undefined) =>
				entry.db.local.put(entry.storeId, {
					...entry.body,
					// The revision clients were answered, so it goes on counting from there after a restart.
					servedRev: entry.rev,
					_id: `_local/${entry.storeId}`,
					...(rev ? { _rev: rev } : {})
				});
			try {
				entry.storeRev = (await write(entry.storeRev)).rev;
			} catch (err) {
				// The store's copy moved on (another server of the center wrote it): ours is the newest here.
				if (err instanceof StoreError && err.statusCode === 409) {
					const current = await entry.db.local.get(entry.storeId).catch(() => null);
					entry.storeRev = (await write(current?._rev).catch(() => null))?.rev ?? entry.storeRev;
					continue;
				}
				entry.dirty = true;
				log(`checkpoints: writing ${entry.storeId}: ${(err as Error).message}`);
			}
		}
	}

	let flushing: Promise<void> = Promise.resolve();
	const timer = setInterval(() => {
		flushing = flushing.then(flush);
	}, flushMs);
	timer.unref();

	return {
		/** `GET _local/<clientId>`. */
		async get(db: Database, policy: ReplicationPolicy, clientId: string) {
			const entry = await load(held, db, policy.checkpointId(clientId));
			if (!entry) return couchError(404, 'not_found', 'missing');
			return json({ ...entry.body, _id: `_local/${clientId}`, _rev: `0-${entry.rev}` });
		},

		/** `PUT _local/<clientId>` with the request's text; `owner` is whom the per-caller bound counts. */
		async put(
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
			if (owner !== undefined) await keep(db, owner, storeId);
			const { _id: _, _rev, ...body } = doc as Body;
			const entry = await load(held, db, storeId);
			if (entry && _rev !== `0-${entry.rev}`) {
				return couchError(409, 'conflict', 'Document update conflict.');
			}
			const next: Held<Body> = entry ?? {
				db,
				storeId,
				body,
				rev: 0,
				storeRev: undefined,
				dirty: true
			};
			next.body = body;
			next.rev++;
			next.dirty = true;
			held.set(key(db, storeId), next);
			evicted.delete(key(db, storeId));
			return json({ ok: true, id: `_local/${clientId}`, rev: `0-${next.rev}` }, 201);
		},

		/** Writes every checkpoint still only in memory (at shutdown, and for tests). */
		flush: () => (flushing = flushing.then(flush)),

		async stop() {
			clearInterval(timer);
			await (flushing = flushing.then(flush));
		}
	};
}
