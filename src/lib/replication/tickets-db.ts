/**
 * The local replica of the tickets this user may see: live two-way replication with `/sync/tickets`.
 * Writes go to the local database first (they work offline) and reach the server when the network allows.
 * Conflicting revisions (two devices edited offline) are merged here by the union of their events.
 *
 * The replica lives in PouchDB's `indexeddb` adapter because it can purge: finished work orders and closed
 * tickets leave the device after the retention window (`#shared/tickets/retention`) without a deletion that
 * would replicate to the server. Replicas of the older `idb` adapter are moved over once, unsynced work included.
 *
 * Each user has a replica of their own on a shared browser (its name carries the user): a sign-in that ended
 * without signing out (elsewhere, expired, a password reset) keeps that user's unsynced work on the device,
 * and the next user of the browser never sees it (issue #13). The one replica of earlier versions belongs to
 * the last user of the browser and becomes theirs.
 */
import { backOff } from './backoff';
import { CENTER_DEPARTMENT_ID } from '#shared/docs/config';
import { mergeTickets, type TicketDoc } from '#shared/tickets/ticket';
import { expiredIds, type Holder } from '#shared/tickets/retention';
import { TICKET_REPLICATION } from '#shared/tickets/sync-limits';
import type { AttachmentDoc } from '#shared/tickets/attachment';
import { syncStatus } from '$lib/state/sync-status.svelte';
import { createPushFilter } from './push-filter';
import { quietInfo } from './quiet-remote';
import type { syncRemote as SyncRemote } from './remote';

/** The replica of one user: `cc-tickets-v2-<hash of the user id>`. */
const LOCAL_PREFIX = 'cc-tickets-v2';
/** The one replica of earlier versions (`indexeddb`), and the one before it (`idb`). */
const SHARED_NAME = 'cc-tickets-v2';
const LEGACY_NAME = 'cc-tickets';
/** Who the replicas of earlier versions belong to (the browser's last user, noted once). */
const SHARED_OWNER_KEY = 'cc-tickets-shared-owner';
const RETENTION_EVERY_MS = 6 * 3_600_000;

const PENDING_PREFIX = 'cc-tickets-pushed-seq';

interface EventEmitterLike {
	on(event: string, listener: (info: unknown) => void): unknown;
}

type PurgeableDb = PouchDB.Database<TicketDoc> & {
	purge(id: string, rev: string): Promise<unknown>;
};

let local: Promise<PurgeableDb> | null = null;
/** The user whose replica `local` is. */
let owner: string | null = null;
/** What that user's replica keeps (their department's open tickets with their own). */
let holder: Holder | undefined;
let replication: PouchDB.Replication.Sync<TicketDoc> | null = null;
let localChanges: PouchDB.Core.Changes<TicketDoc> | null = null;
let retentionTimer: ReturnType<typeof setInterval> | null = null;
/** What the push offers: this device's own writes, not what it pulled (one per user; see push-filter.ts). */
let pushFilter = createPushFilter();
let stopped = true;
const listeners = new Set<() => void>();

/** A short, stable name part for a user id (FNV-1a, 64 bits): not a secret, just not the name itself. */
function userKey(userId: string): string {
	let h = 0xcbf29ce484222325n;
	for (const byte of new TextEncoder().encode(userId)) {
		h ^= BigInt(byte);
		h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
	}
	return h.toString(16).padStart(16, '0');
}

/** Where this user's last pushed sequence is kept. */
const pendingKey = () => `${PENDING_PREFIX}-${userKey(owner ?? '')}`;

function db(): Promise<PurgeableDb> {
	if (!owner) return Promise.reject(new Error('no user: the replica is opened at sign-in'));
	local ??= open(owner);
	return local;
}

async function open(user: string): Promise<PurgeableDb> {
	// PouchDB loads with the first replica opened, after the page is on screen (#15).
	const { PouchDB, localReplicas, moveIdbReplica } = await import('./pouch');
	const current = new PouchDB<TicketDoc>(`${LOCAL_PREFIX}-${userKey(user)}`, {
		adapter: 'indexeddb'
	}) as PurgeableDb;
	const names = await localReplicas();
	if (
		(names.has(SHARED_NAME) || names.has(LEGACY_NAME)) &&
		localStorage.getItem(SHARED_OWNER_KEY) === user
	) {
		// Everything the old replicas held, unsynced edits and conflicts too, before they go.
		await moveIdbReplica(LEGACY_NAME, current);
		if (names.has(SHARED_NAME)) {
			const old = new PouchDB<TicketDoc>(SHARED_NAME, { adapter: 'indexeddb' });
			await old.replicate.to(current);
			await old.destroy();
		}
		localStorage.removeItem(PENDING_PREFIX);
		localStorage.removeItem(SHARED_OWNER_KEY);
	}
	return current;
}

/**
 * Notes who the replica of an earlier version belongs to: the user this browser last signed in, before a
 * new sign-in replaces that. Called by the session code with the last session it knew.
 */
export function noteSharedReplicaOwner(lastUser: string | null): void {
	if (lastUser && !localStorage.getItem(SHARED_OWNER_KEY)) {
		localStorage.setItem(SHARED_OWNER_KEY, lastUser);
	}
}

/**
 * The replica changed — document `id`, or (without one) in ways only a full read sees, such as a purge: what
 * was read of it is stale, and the listeners hear of it — at most once per `NOTIFY_GAP_MS` (#15). A first
 * sync writes thousands of documents one change event each; a listener that re-read the replica for each of
 * them made the desk's work grow with the square of the replica.
 */
function changed(id?: string) {
	generation += 1;
	if (id === undefined) stale = null;
	else stale?.add(id);
	if (notifyTimer !== null) return;
	// A replica that takes long to read (a first sync of thousands) is read at most a third of the time.
	const gap = Math.max(NOTIFY_GAP_MS, 2 * lastReadMs);
	const wait = Math.max(0, lastNotified + gap - Date.now());
	notifyTimer = setTimeout(() => {
		notifyTimer = null;
		lastNotified = Date.now();
		for (const l of listeners) l();
	}, wait);
}

const NOTIFY_GAP_MS = 250;
let notifyTimer: ReturnType<typeof setTimeout> | null = null;
let lastNotified = 0;
/** How long the last read of the replica took. */
let lastReadMs = 0;
/** Counts the replica's changes; a read of the replica is current while the count is the one it began at. */
let generation = 0;
/**
 * What was read of the replica, by id (merged), and as the list every caller shares. Refreshed by reading
 * only the documents changed since (`stale`), or everything when that is not known (null).
 */
let snapshot: { generation: number; byId: Map<string, TicketDoc>; tickets: TicketDoc[] } | null =
	null;
let stale: Set<string> | null = null;
let reading: Promise<void> | null = null;

/** Starts live two-way replication of this user's replica (idempotent for the same user). */
export function startTicketSync({
	userId,
	departmentId
}: {
	userId: string;
	/** Null on a field crew's tablet. */
	departmentId: string | null;
}): void {
	holder = { userId, departmentId };
	if (owner !== userId) {
		stopTicketSync();
		local = null;
		owner = userId;
		forgetSnapshot();
		pushFilter = createPushFilter();
	}
	if (!stopped) return;
	stopped = false;
	syncStatus.received = 0;
	syncStatus.set('tickets', 'pulling');
	const user = owner;
	void db().then(async (local) => {
		await forgetExpired().catch(() => {});
		const { syncRemote } = await import('./remote');
		// Stopped, or started again (for someone else) while this was loading: that start replicates.
		if (!stopped && owner === user && replication === null) {
			await startReplication(local, syncRemote, user);
		}
	});
	retentionTimer = setInterval(() => void forgetExpired().catch(() => {}), RETENTION_EVERY_MS);
}

async function startReplication(local: PurgeableDb, syncRemote: typeof SyncRemote, user: string) {
	const filter = pushFilter;
	const remote = filter.watch(quietInfo(syncRemote<TicketDoc>('tickets')));
	// What changed here since the last push, settled with the server at once rather than offered back.
	const settled = await filter.prepare(local, remote, pushedSeq());
	if (settled !== null && owner === user) pushedUpTo(settled);
	if (stopped || owner !== user || replication !== null) return;
	replication = local
		.sync(remote, {
			live: true,
			retry: true,
			back_off_function: backOff,
			...TICKET_REPLICATION,
			push: { ...TICKET_REPLICATION.push, filter: filter.filter }
		})
		.on('change', (info) => {
			// A batch arrived; the sync is caught up only when it pauses (a first sync is many batches).
			const { direction, change } = info as {
				direction: string;
				change: { docs_written: number; docs: { _id: string }[] };
			};
			if (direction === 'pull') {
				syncStatus.received = change.docs_written;
				for (const doc of change.docs) changed(doc._id);
			}
			syncStatus.lastSyncedAt = Date.now();
		})
		.on('paused', (err) => {
			if (err) syncStatus.set('tickets', 'error');
			else syncStatus.set('tickets', 'paused');
		})
		.on('active', () => syncStatus.set('tickets', 'pulling'))
		.on('denied', (info) => {
			syncStatus.set('tickets', 'error');
			// The server refused a local change: it stays on this device; say so rather than "synced".
			const id = (info as { doc?: { id?: string } }).doc?.id;
			if (id && !syncStatus.refused.includes(id)) syncStatus.refused = [...syncStatus.refused, id];
		})
		.on('error', () => syncStatus.set('tickets', 'error'));
	// The push side writes a checkpoint once the server has every local change up to that sequence.
	(replication as unknown as { push: EventEmitterLike }).push.on('checkpoint', (info) => {
		const seq = (info as { checkpoint?: string | number }).checkpoint;
		if (seq !== undefined) pushedUpTo(seq);
	});
	localChanges = local.changes({ since: 'now', live: true }).on('change', (change) => {
		void countPending();
		changed(change.id);
	});
	void countPending();
}

/** Local writes up to this sequence have been pushed to the server (a lower one than noted changes nothing). */
function pushedUpTo(seq: string | number) {
	const noted = pushedSeq();
	if (typeof seq === 'number' && typeof noted === 'number' && seq <= noted) return;
	localStorage.setItem(pendingKey(), String(seq));
	void countPending();
}

/** Where the push last caught up: the local sequence its checkpoint holds. */
function pushedSeq(): string | number {
	// The adapters number their sequence; stored as text, it must be a number again.
	const stored = localStorage.getItem(pendingKey()) ?? '0';
	return /^\d+$/.test(stored) ? Number(stored) : stored;
}

/** Local changes read at most per count. */
const COUNT_LIMIT = 10_000;

/** The documents changed here since the push last caught up, at their current revisions. */
async function changedSincePush() {
	return (await (await db()).changes({ since: pushedSeq(), limit: COUNT_LIMIT })).results;
}

/** Ids of the documents with local changes the server may not have yet (what retention must keep). */
async function unsyncedIds(): Promise<Set<string>> {
	return new Set((await changedSincePush()).map((r) => r.id));
}

let counting: Promise<void> | null = null;
let countAgain = false;

/**
 * Counts the local changes that wait for the server (shown on the tablet; F28): pulled documents are not.
 * One count at a time, and once more if asked meanwhile (a pulled batch is hundreds of local changes).
 */
function countPending(): Promise<void> {
	if (counting) {
		countAgain = true;
		return counting;
	}
	counting = (async () => {
		do {
			countAgain = false;
			await countOnce();
		} while (countAgain);
	})()
		.catch(() => {})
		.finally(() => (counting = null));
	return counting;
}

async function countOnce() {
	const key = pendingKey();
	const { results, last_seq } = await (
		await db()
	).changes({ since: pushedSeq(), limit: COUNT_LIMIT });
	const waiting = results.filter((r) => pushFilter.filter({ _id: r.id, _rev: r.changes[0]?.rev }));
	syncStatus.pending = waiting.length;
	// All of it came from the server (the push filter holds it back, so the push's checkpoint stays): later
	// counts start after it, or each pulled change would make every count longer.
	if (
		waiting.length === 0 &&
		results.length > 0 &&
		results.length < COUNT_LIMIT &&
		key === pendingKey()
	) {
		localStorage.setItem(key, String(last_seq));
	}
}

/** Purges what the device no longer needs (finished, synced, past the retention window); returns how many. */
export async function forgetExpired(now = Date.now()): Promise<number> {
	const local = await db();
	const all = await local.allDocs({ include_docs: true, conflicts: true });
	const docs = all.rows.flatMap((r) =>
		r.doc ? [r.doc as TicketDoc & { _conflicts?: string[] }] : []
	);
	const ids = new Set(expiredIds(docs, await unsyncedIds(), now, undefined, holder));
	for (const doc of docs) {
		if (!ids.has(doc._id)) continue;
		for (const rev of [doc._rev!, ...(doc._conflicts ?? [])]) await local.purge(doc._id, rev);
	}
	if (ids.size > 0) changed();
	return ids.size;
}

export function stopTicketSync(): void {
	stopped = true;
	syncStatus.set('tickets', 'idle');
	replication?.cancel();
	replication = null;
	localChanges?.cancel();
	localChanges = null;
	if (retentionTimer) clearInterval(retentionTimer);
	retentionTimer = null;
}

/**
 * A ticket as the user should see it: when devices edited it concurrently offline, the union of every
 * conflicting revision's events. The device never deletes revisions itself (only the server does, which
 * resolves conflicts for good); new events are written on top of this merged view.
 */
async function merged(doc: TicketDoc & { _conflicts?: string[] }): Promise<TicketDoc> {
	let out: TicketDoc = doc;
	for (const rev of doc._conflicts ?? []) {
		const other = await (await db()).get(doc._id, { rev }).catch(() => null);
		if (!other) continue;
		// A conflict the rule cannot merge (an event changed) waits for an administrator; show the winner.
		try {
			out = mergeTickets(out, other, CENTER_DEPARTMENT_ID);
		} catch {
			continue;
		}
	}
	const { _conflicts: _, ...clean } = out as TicketDoc & { _conflicts?: string[] };
	return clean;
}

export async function putTicket(doc: TicketDoc): Promise<TicketDoc> {
	pushFilter.written(doc._id);
	const res = await (await db()).put(doc);
	changed(doc._id);
	return { ...doc, _rev: res.rev };
}

export async function getTicket(id: string): Promise<TicketDoc | null> {
	const doc = await (await db()).get(id, { conflicts: true }).catch(() => null);
	return doc ? merged(doc) : null;
}

/**
 * Every ticket of the replica, merged (shared: callers filter and sort copies, never change the documents).
 * One read serves every caller until the replica changes, and one read at a time runs: a caller waits for
 * the first read that began after it asked (#15). After the first, a read fetches only the documents that
 * changed since the last one.
 */
export async function allTickets(): Promise<TicketDoc[]> {
	const wanted = generation;
	while (!snapshot || snapshot.generation < wanted) {
		reading ??= readAll().finally(() => (reading = null));
		await reading;
	}
	return snapshot.tickets;
}

async function readAll(): Promise<void> {
	const started = generation;
	const user = owner;
	const changedIds = snapshot ? stale : null;
	stale = new Set();
	const t0 = performance.now();
	try {
		const local = await db();
		const byId = changedIds ? snapshot!.byId : new Map<string, TicketDoc>();
		let added = !changedIds;
		if (changedIds && changedIds.size > 0) {
			const res = await local.allDocs({
				keys: [...changedIds],
				include_docs: true,
				conflicts: true
			});
			for (const row of res.rows) {
				// Gone (purged, deleted) or not a ticket (a photo): not in the list.
				const doc = 'doc' in row ? row.doc : undefined;
				if (!doc || doc.type !== 'ticket' || !row.key.startsWith('ticket:')) {
					byId.delete(row.key);
					continue;
				}
				if (!byId.has(row.key)) added = true;
				byId.set(row.key, await merged(doc));
			}
		} else if (!changedIds) {
			const res = await local.allDocs({
				include_docs: true,
				conflicts: true,
				startkey: 'ticket:',
				endkey: 'ticket:\ufff0'
			});
			for (const row of res.rows) {
				if (row.doc && row.doc.type === 'ticket') byId.set(row.id, await merged(row.doc));
			}
		}
		// In id order, as a full read gives them; a new list each time (callers keep the one they had).
		const tickets = added
			? [...byId.values()].sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0))
			: (changedIds?.size ?? 0) > 0
				? snapshot!.tickets.map((t) => byId.get(t._id)).filter((t) => t !== undefined)
				: snapshot!.tickets;
		lastReadMs = performance.now() - t0;
		// Another user's replica opened meanwhile: what was read is not theirs (the next read is).
		if (owner === user) snapshot = { generation: started, byId, tickets };
	} catch (err) {
		// What changed is not known to be read: the next read reads everything.
		stale = null;
		throw err;
	}
}

/** How many documents this device holds. */
export async function heldCount(): Promise<number> {
	return (await (await db()).info()).doc_count;
}

export async function putAttachment(doc: AttachmentDoc): Promise<void> {
	pushFilter.written(doc._id);
	await ((await db()) as unknown as PouchDB.Database<AttachmentDoc>).put(doc);
	changed(doc._id);
}

/** An attachment's image from this device, or null when it is not here (then the server has it). */
export async function getAttachmentBlob(id: string): Promise<Blob | null> {
	return (await (await db()).getAttachment(id, 'photo').catch(() => null)) as Blob | null;
}

export function onTicketsChange(listener: () => void): () => void {
	listeners.add(listener);
	return () => listeners.delete(listener);
}

export async function destroyTicketReplica(): Promise<void> {
	stopTicketSync();
	if (!owner) return;
	await (await db()).destroy();
	localStorage.removeItem(pendingKey());
	local = null;
	owner = null;
	forgetSnapshot();
}

function forgetSnapshot() {
	generation += 1;
	snapshot = null;
	stale = null;
}
