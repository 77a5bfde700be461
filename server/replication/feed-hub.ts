/**
 * One changes feed per database, fanned out in memory to every connected device (issue #15; CHT's API
 * serves its users' changes the same way). Before it, every device's long-poll was its own filtered feed on
 * the store: each write woke every feed, each feed read the new documents again to test its selector, and at
 * 50 devices nothing was delivered any more.
 *
 * The hub follows the store's `_changes` once (with the winning documents), keeps of every document only
 * what deciding who may see it needs (`FeedFacts`: `visibleTo`, `updatedAt`, `type`, deleted) and its leaf
 * revisions, and numbers the rows it processes itself (`ord`). A device's `_changes` is answered from this
 * table: a normal feed is a scan from the device's position; a long-poll with nothing new waits as a
 * `Waiter` that each new batch tests, so a write costs one predicate per waiting device, not a store feed.
 *
 * Sequences handed to devices are `<ord>-<epoch>`, the epoch new at every start. The table is saved to a
 * snapshot (`snapshotPath`, V8 serialisation) at stop and every few minutes; a start loads it, goes on
 * numbering after it and follows the store from where it was, so devices keep their positions across
 * restarts: a position of an earlier epoch counts up to the snapshot's last number (anything after it
 * — a crash lost those numbers — is listed again; the rows after the snapshot are renumbered above it). A
 * position the hub does not know (a lost snapshot, the store's own sequences from before the hub) is
 * answered as a fresh listing — ids and revisions only, of which the device's own `_revs_diff` drops what
 * it already holds. Which
 * documents a device gets is the policy's `visible` (the same rule as its store selector, see
 * `services/ticket-access.ts`), evaluated when it asks.
 *
 * For each batch it follows, the hub reads the changed documents once (`_bulk_get` with `revs`) and keeps
 * their text in a byte-bounded cache, so the devices a change concerns — every agent for a center ticket —
 * fetch it from memory, not each from the store.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import type { Change } from '../store/follow';
import { databaseIdentity, type DbKey, type Doc, type Store } from '../store';

/** What deciding who may see a document needs of its winning revision. */
export interface FeedFacts {
	id: string;
	deleted: boolean;
	type?: string;
	visibleTo?: readonly string[];
	/** `updatedAt` in ms since the epoch (NaN when absent). */
	updatedAt: number;
	/** A ticket's status and where it is now. */
	status?: string;
	departmentId?: string | null;
}

/** What a policy's `visible` may ask of the hub besides the document. */
export interface FeedView {
	/** A device's first listing (from 0): it holds nothing yet, so the policy may bound what it gets. */
	first: boolean;
	/**
	 * The `updatedAt` (epoch ms) of the `n`-th most recently updated live document visible to `scope`
	 * (-Infinity: fewer than `n`). By the documents' own time, not the feed's order: a cluster's feed
	 * interleaves its shards, and a hub that reads the store anew lists every shard in turn.
	 */
	newestFrom(scope: string, n: number): number;
}

/** Where a device's `since` puts it in the hub's table. */
export interface FeedPosition {
	ord: number;
	first: boolean;
}

/** One document as the hub knows it: its facts, its leaves, and when the hub last saw it change. */
export interface HubEntry extends FeedFacts {
	ord: number;
	/** Every leaf revision, the winner first. */
	revs: string[];
}

export interface HubChange {
	seq: string;
	id: string;
	changes: { rev: string }[];
	deleted?: true;
}

/** A long-poll waiting for something it may see. */
interface Waiter {
	since: number;
	visible: (entry: HubEntry) => boolean;
	wake: () => void;
}

const BATCH = 1_000;
const SNAPSHOT_VERSION = 1;
/** Earlier epochs whose positions a start still honours. */
const EPOCHS_KEPT = 20;

interface Snapshot {
	version: number;
	/** The store and database it was taken of. */
	source: string;
	epoch: string;
	ord: number;
	storeSince: string;
	earlier: [string, number][];
	/** The live entries, in `ord` order. */
	entries: HubEntry[];
}
const RETRY_MS = 2_000;
/**
 * How long `fresh` waits for this server's own writes to show in the store's feed, reading again every
 * `UNREAD_RETRY_MS`: a cluster may answer from a shard copy a write has not reached yet (milliseconds
 * behind). After it, the request is answered with what the feed shows.
 */
const UNREAD_WAIT_MS = 3_000;
/** How often, and after how long, a document the feed listed but a shard copy did not have is read again. */
const READ_AGAIN_TIMES = 5;
const READ_AGAIN_MS = 20;
const UNREAD_RETRY_MS = 25;
const LONGPOLL_MS = 25_000;

/** A recently changed document's winning revision, as `_bulk_get?revs=true` answers it. */
export interface CachedDoc {
	rev: string;
	/** The document's JSON text, `_revisions` included. */
	text: string;
	/** What reading it is decided by (`ReplicationPolicy.canRead`). */
	doc: Doc;
}

export interface FeedHubOptions {
	store: Store;
	dbKey: DbKey;
	/** Bytes of document text kept for `_bulk_get` (the most recently changed first). */
	cacheBytes?: number;
	/** Where the table is saved (at stop and every `snapshotMs`), so a restart keeps devices' positions. */
	snapshotPath?: string;
	/** Which store the snapshot is of (a snapshot of another store is not loaded). */
	storeIdentity?: string;
	snapshotMs?: number;
	/** Entries that can never be visible again (e.g. older than every window) are forgotten at compaction. */
	retain?: (facts: FeedFacts, now: number) => boolean;
	log?: (msg: string) => void;
}

/**
 * The winning revision among what `_bulk_get` answered for an id without a revision: PouchDB answers
 * the winner alone, Apache CouchDB 3.4 every leaf (deleted ones too) in no set order. CouchDB's rule: a
 * live leaf beats a deleted one, then the longer history, then the greater revision id.
 */
export function winnerOf(leaves: Doc[]): Doc | undefined {
	const key = (d: Doc) => {
		const [pos, hash] = String(d._rev).split('-');
		return { live: d._deleted ? 0 : 1, pos: Number(pos), hash: hash ?? '' };
	};
	return leaves.reduce<Doc | undefined>((best, d) => {
		if (!best) return d;
		const a = key(d);
		const b = key(best);
		const better =
			a.live !== b.live ? a.live > b.live : a.pos !== b.pos ? a.pos > b.pos : a.hash > b.hash;
		return better ? d : best;
	}, undefined);
}

/** Interned scope strings: thousands of entries share a handful of scopes. */
function interner() {
	const known = new Map<string, string>();
	return (s: string) => {
		const hit = known.get(s);
		if (hit !== undefined) return hit;
		known.set(s, s);
		return s;
	};
}

export function factsOf(doc: Doc | undefined, id: string, deleted: boolean): FeedFacts {
	const d = (doc ?? {}) as {
		type?: unknown;
		visibleTo?: unknown;
		updatedAt?: unknown;
		status?: unknown;
		departmentId?: unknown;
	};
	return {
		id,
		deleted,
		...(typeof d.type === 'string' ? { type: d.type } : {}),
		...(Array.isArray(d.visibleTo)
			? { visibleTo: d.visibleTo.filter((s): s is string => typeof s === 'string') }
			: {}),
		updatedAt: typeof d.updatedAt === 'string' ? Date.parse(d.updatedAt) : NaN,
		...(typeof d.status === 'string' ? { status: d.status } : {}),
		...(typeof d.departmentId === 'string' ? { departmentId: d.departmentId } : {})
	};
}

export function createFeedHub({
	store,
	dbKey,
	retain,
	cacheBytes = 64 * 1024 * 1024,
	snapshotPath,
	storeIdentity = '',
	snapshotMs = 5 * 60_000,
	log = () => {}
}: FeedHubOptions) {
	const db = store.db(dbKey);
	const epoch = randomBytes(6).toString('hex');
	/** Earlier epochs whose positions still count, each up to the last number its snapshot saved. */
	let earlier = new Map<string, number>();
	const intern = interner();
	const table = new Map<string, HubEntry>();
	/** Entries in `ord` order; a slot is dead when the table holds a later entry for its id. */
	let log_: HubEntry[] = [];
	let ord = 0;
	const waiters = new Set<Waiter>();
	let stopped = false;
	/**
	 * Writes of this server the hub has not read yet: id → the generation written, the number of the first
	 * such write not read, and when it was noticed.
	 */
	const unread = new Map<string, { generation: number; n: number; at: number }>();
	let noticed = 0;
	const unsubscribe = store.onWrite(dbKey, (written) => {
		const at = Date.now();
		for (const { id, generation } of written) {
			// The feed may show a write before its answer reaches this server.
			if (table.get(id)?.revs.some((r) => Number.parseInt(r, 10) >= generation)) continue;
			const before = unread.get(id);
			unread.set(id, {
				generation: Math.max(generation, before?.generation ?? 0),
				n: before?.n ?? ++noticed,
				at: before?.at ?? at
			});
		}
	});
	/** The number of the oldest write not read yet (Infinity when none), forgetting those past waiting for. */
	function oldestUnread(now: number): number {
		let oldest = Infinity;
		for (const [id, u] of unread) {
			if (now - u.at > 4 * UNREAD_WAIT_MS) unread.delete(id);
			else oldest = Math.min(oldest, u.n);
		}
		return oldest;
	}
	/** Least recently changed first (a Map keeps insertion order). */
	const cache = new Map<string, CachedDoc>();
	let cached = 0;

	function remember(doc: Doc) {
		const old = cache.get(doc._id);
		if (old) {
			cache.delete(doc._id);
			cached -= old.text.length;
		}
		const text = JSON.stringify(doc);
		const d = doc as { type?: unknown; visibleTo?: unknown };
		cache.set(doc._id, {
			rev: doc._rev as string,
			text,
			doc: { _id: doc._id, type: d.type, visibleTo: d.visibleTo }
		});
		cached += text.length;
		for (const [id, entry] of cache) {
			if (cached <= cacheBytes) break;
			cache.delete(id);
			cached -= entry.text.length;
		}
	}

	/** The live winners of `ids` as the store answers now. */
	async function readWinners(ids: string[]): Promise<Map<string, Doc>> {
		const text = await db.bulkGet(
			ids.map((id) => ({ id })),
			new URLSearchParams({ revs: 'true' })
		);
		const { results } = JSON.parse(text) as {
			results: { id: string; docs: ({ ok: Doc } | { error: unknown })[] }[];
		};
		const docs = new Map<string, Doc>();
		for (const r of results) {
			const ok = winnerOf(r.docs.flatMap((d) => ('ok' in d ? [d.ok] : [])));
			if (ok && !ok._deleted) docs.set(r.id, ok);
		}
		return docs;
	}

	/** The changed documents' winning revisions (none for deletions), read once for every device. */
	async function withDocs(changes: Change<Doc>[]): Promise<Change<Doc>[]> {
		const wanted = changes.filter((c) => !c.id.startsWith('_design/'));
		if (wanted.length === 0) return [];
		const docs = await readWinners(wanted.map((c) => c.id));
		// A cluster may answer from a shard copy a new document has not reached yet: none where the feed
		// listed a live one. Read those again shortly (one deleted since the row stays deleted).
		const behind = (c: Change<Doc>) => !c.deleted && !docs.has(c.id);
		for (let attempt = 1; attempt <= READ_AGAIN_TIMES; attempt++) {
			const again = wanted.filter(behind).map((c) => c.id);
			if (again.length === 0) break;
			await new Promise((r) => setTimeout(r, READ_AGAIN_MS * attempt));
			for (const [id, doc] of await readWinners(again)) docs.set(id, doc);
		}
		return wanted.map((c) => {
			const doc = docs.get(c.id);
			// No live winner (CouchDB answers `deleted`, the embedded store an empty entry): deleted by now.
			if (!doc) return { ...c, deleted: true };
			remember(doc);
			// The document may have changed again since the row: its current winner is a leaf too.
			const leaves = (c.changes ?? []).map((x) => x.rev);
			const winner = doc._rev as string;
			return {
				...c,
				deleted: false,
				doc,
				changes: [winner, ...leaves.filter((r) => r !== winner)].map((rev) => ({ rev }))
			};
		});
	}

	function apply(changes: Change<Doc>[]) {
		const fresh: HubEntry[] = [];
		for (const change of changes) {
			if (change.id.startsWith('_design/')) continue;
			const leaves = (change.changes ?? []).map((c) => c.rev);
			const winner = change.doc?._rev;
			const revs =
				winner && leaves.includes(winner)
					? [winner, ...leaves.filter((r) => r !== winner)]
					: leaves;
			const wrote = unread.get(change.id);
			if (wrote && revs.some((r) => Number.parseInt(r, 10) >= wrote.generation)) {
				unread.delete(change.id);
			}
			const facts = factsOf(change.doc, change.id, change.deleted === true);
			const entry: HubEntry = {
				...facts,
				...(facts.visibleTo ? { visibleTo: facts.visibleTo.map(intern) } : {}),
				ord: ++ord,
				revs
			};
			table.set(entry.id, entry);
			log_.push(entry);
			fresh.push(entry);
		}
		if (log_.length > 1_000 && log_.length > 2 * table.size) compact();
		if (fresh.length === 0) return;
		for (const w of waiters) if (fresh.some((e) => e.ord > w.since && w.visible(e))) w.wake();
	}

	function compact() {
		const now = Date.now();
		for (const [id, entry] of table) if (retain && !retain(entry, now)) table.delete(id);
		log_ = log_.filter((e) => table.get(e.id) === e);
	}

	/** Reads the store's feed from the start (retrying while the store is away), then follows it. */
	/** Which database the snapshot is of: the store, the database and its identity (read at start). */
	let source: string | null = null;
	/** The saved table, when there is one that fits this store (else the hub reads the store from 0). */
	async function loadSnapshot(): Promise<boolean> {
		if (!snapshotPath) return false;
		source = `${storeIdentity}/${dbKey}/${await databaseIdentity(db)}`;
		let saved: Snapshot;
		try {
			saved = deserialize(new Uint8Array(readFileSync(snapshotPath))) as Snapshot;
		} catch {
			return false;
		}
		if (saved?.version !== SNAPSHOT_VERSION) return false;
		if (saved.source !== source) {
			log(`${dbKey} feed hub: the snapshot is of another database; reading it anew`);
			return false;
		}
		// The embedded store restored from an older copy of its folder is behind the snapshot: read it from 0.
		// (Only its sequence numbers compare: a CouchDB cluster's do not.)
		const now = parseInt(String(await db.updateSeq()), 10);
		if (store.kind === 'embedded' && !(now >= parseInt(saved.storeSince, 10))) {
			log(`${dbKey} feed hub: the store is behind its snapshot; reading it anew`);
			return false;
		}
		for (const entry of saved.entries) {
			if (entry.visibleTo) entry.visibleTo = entry.visibleTo.map(intern);
			table.set(entry.id, entry);
		}
		log_ = saved.entries;
		ord = saved.ord;
		storeSince = saved.storeSince;
		earlier = new Map([...saved.earlier, [saved.epoch, saved.ord] as const].slice(-EPOCHS_KEPT));
		return true;
	}

	/** Saves the table (written aside, then renamed: a crash mid-write leaves the previous one). */
	function saveSnapshot() {
		if (!snapshotPath || source === null || ord === savedOrd) return;
		compact();
		const snapshot: Snapshot = {
			version: SNAPSHOT_VERSION,
			source,
			epoch,
			ord,
			storeSince,
			earlier: [...earlier],
			entries: log_
		};
		try {
			writeFileSync(`${snapshotPath}.tmp`, serialize(snapshot) as Uint8Array, { mode: 0o600 });
			renameSync(`${snapshotPath}.tmp`, snapshotPath);
			savedOrd = ord;
		} catch (err) {
			log(`${dbKey} feed hub: snapshot not saved: ${(err as Error).message}`);
		}
	}
	let savedOrd = -1;

	/** Where the hub is in the store's feed. */
	let storeSince = '0';
	/**
	 * Requests waiting for the hub to have read everything the store holds now (`fresh`), not yet begun:
	 * each with the last write of this server it must see (`upTo`) and until when it waits for it.
	 */
	interface Poke {
		resolve: () => void;
		upTo: number;
		until: number;
	}
	let pokes: Poke[] = [];
	let pending: { promise: Promise<void>; poke: Poke } | null = null;
	let longpolling = false;
	let abort = new AbortController();
	const pause = () => new Promise((r) => setTimeout(r, RETRY_MS));

	/** Loads the snapshot, or reads the store's feed from the start (the documents with it); then catches up. */
	const ready = (async () => {
		const loaded = await loadSnapshot().catch(() => false);
		for (;;) {
			if (stopped) return;
			let body;
			try {
				body = await db.changes({
					since: storeSince,
					limit: String(BATCH),
					style: 'all_docs',
					include_docs: 'true'
				});
			} catch (err) {
				log(`${dbKey} feed hub: ${(err as Error).message}; retrying`);
				await pause();
				continue;
			}
			apply(body.results);
			storeSince = String(body.last_seq);
			if (body.results.length < BATCH) break;
		}
		// The store was away when the snapshot was looked for: name the database now, so snapshots are saved.
		if (snapshotPath && source === null) {
			source = await databaseIdentity(db).then(
				(identity) => `${storeIdentity}/${dbKey}/${identity}`,
				() => null
			);
		}
		compact();
		log(
			`${dbKey} feed hub: ${table.size} documents in memory${loaded ? ' (from its snapshot)' : ''}`
		);
	})();
	const saving = setInterval(saveSnapshot, snapshotMs);
	saving.unref();

	/**
	 * Follows the store: a long-poll at a time, or — when a request asked for everything the store holds now
	 * (`fresh`) — a plain read at once, repeated until it comes back short.
	 */
	const following = ready.then(async () => {
		/** The requests this round answers (and those a full round carries to the next). */
		let round: Poke[] = [];
		while (!stopped) {
			round = [...round, ...pokes];
			pokes = [];
			pending = null;
			longpolling = round.length === 0;
			try {
				const body = await db.changes(
					{
						since: storeSince,
						limit: String(BATCH),
						style: 'all_docs',
						...(longpolling ? { feed: 'longpoll', timeout: String(LONGPOLL_MS) } : {})
					},
					{ signal: abort.signal }
				);
				longpolling = false;
				if (body.results.length > 0) apply(await withDocs(body.results));
				storeSince = String(body.last_seq);
				if (body.results.length < BATCH) {
					const now = Date.now();
					const oldest = oldestUnread(now);
					const waiting = round.filter((p) => p.upTo >= oldest && now < p.until);
					if (round.some((p) => p.upTo >= oldest && now >= p.until)) {
						log(
							`${dbKey} feed hub: the store's feed does not show ${unread.size} of this server's writes after ${UNREAD_WAIT_MS} ms (e.g. ${[...unread.keys()][0]}); answering without them`
						);
					}
					for (const p of round) if (!waiting.includes(p)) p.resolve();
					round = waiting;
					// Own writes not in the feed yet (a lagging shard copy): read again shortly.
					if (waiting.length > 0 && body.results.length === 0) {
						await new Promise((r) => setTimeout(r, UNREAD_RETRY_MS));
					}
				}
			} catch (err) {
				longpolling = false;
				if (stopped) break;
				if (!abort.signal.aborted) {
					log(`${dbKey} feed hub: ${(err as Error).message}; retrying`);
					await pause();
				}
				abort = new AbortController();
			}
		}
		for (const p of [...round, ...pokes]) p.resolve();
	});

	const token = (n: number) => `${n}-${epoch}`;
	/** A position inside a first listing: its pages are bounded as the first was. */
	const listingToken = (n: number) => `${n}-${epoch}-f`;

	/**
	 * Where a device's `since` puts it: `0` (or none) is a first listing; one of our positions counts (up to
	 * its epoch's snapshot); anything else lists everything the device may see — it may hold older copies.
	 */
	function position(since: string | null): FeedPosition {
		if (since === null || since === '0') return { ord: 0, first: true };
		if (since === 'now') return { ord, first: false };
		const m = /^(\d+)-([0-9a-f]+)(-f)?$/.exec(since);
		const ceiling = !m ? undefined : m[2] === epoch ? ord : earlier.get(m[2]!);
		if (ceiling === undefined) return { ord: 0, first: false };
		return { ord: Math.min(Number(m![1]), ceiling), first: m![3] !== undefined };
	}

	/** Index of the first slot after `since`. */
	function firstAfter(since: number): number {
		let lo = 0;
		let hi = log_.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (log_[mid]!.ord <= since) lo = mid + 1;
			else hi = mid;
		}
		return lo;
	}

	/** `newestFrom` answers, computed once per scope and size while the table does not change. */
	let newest = { at: -1, of: new Map<string, number>() };
	function newestFrom(scope: string, n: number): number {
		if (newest.at !== ord) newest = { at: ord, of: new Map() };
		const key = `${n}\u0000${scope}`;
		let found = newest.of.get(key);
		if (found !== undefined) return found;
		// The n newest times, ascending: most documents are older than the n-th and cost one comparison.
		const top: number[] = [];
		for (const e of table.values()) {
			const at = e.updatedAt;
			if (e.deleted || Number.isNaN(at) || !e.visibleTo?.includes(scope)) continue;
			if (top.length === n && at <= top[0]!) continue;
			let lo = 0;
			let hi = top.length;
			while (lo < hi) {
				const mid = (lo + hi) >>> 1;
				if (top[mid]! < at) lo = mid + 1;
				else hi = mid;
			}
			top.splice(lo, 0, at);
			if (top.length > n) top.shift();
		}
		found = top.length === n && n > 0 ? top[0]! : -Infinity;
		newest.of.set(key, found);
		return found;
	}

	/** What a device sees after `since`: at most `limit` rows, and where to go on from. */
	function scan(
		since: FeedPosition,
		visible: (entry: HubEntry, view: FeedView) => boolean,
		limit: number,
		allRevs: boolean
	): { results: HubChange[]; lastSeq: string } {
		const view: FeedView = { first: since.first, newestFrom };
		const at = since.first ? listingToken : token;
		const results: HubChange[] = [];
		for (let i = firstAfter(since.ord); i < log_.length; i++) {
			const e = log_[i]!;
			if (table.get(e.id) !== e || !visible(e, view)) continue;
			results.push({
				seq: at(e.ord),
				id: e.id,
				changes: (allRevs ? e.revs : e.revs.slice(0, 1)).map((rev) => ({ rev })),
				...(e.deleted ? { deleted: true as const } : {})
			});
			if (results.length >= limit) return { results, lastSeq: at(e.ord) };
		}
		return { results, lastSeq: token(ord) };
	}

	/** What live devices are tested with: a change is never part of a first listing. */
	const liveView: FeedView = { first: false, newestFrom };

	return {
		/** Resolves once the table holds the whole database (answers wait for it). */
		ready,
		/** The current position, as `update_seq` of the database's info. */
		updateSeq: () => token(ord),
		/** The entry of a document, if the hub holds it. */
		entry: (id: string) => table.get(id),
		/** The cached text of revision `rev` while it is the document's winner. */
		cached(id: string, rev: string): CachedDoc | undefined {
			const hit = cache.get(id);
			return hit && hit.rev === rev ? hit : undefined;
		},
		/** How many documents are in memory and how many long-polls wait. */
		stats: () => ({
			documents: table.size,
			slots: log_.length,
			waiters: waiters.size,
			cachedDocs: cache.size,
			cachedBytes: cached
		}),
		position,
		scan,
		/**
		 * Waits until something after `since` is visible (`onWake` is called once, after `debounceMs`), or
		 * until `cancel()` is called; returns `cancel`.
		 */
		wait(
			since: FeedPosition,
			visible: (entry: HubEntry, view: FeedView) => boolean,
			onWake: () => void,
			debounceMs: number
		): () => void {
			let timer: NodeJS.Timeout | null = null;
			const waiter: Waiter = {
				since: since.ord,
				visible: (entry) => visible(entry, liveView),
				wake: () => {
					if (timer) return;
					timer = setTimeout(() => {
						waiters.delete(waiter);
						onWake();
					}, debounceMs);
				}
			};
			waiters.add(waiter);
			return () => {
				if (timer) clearTimeout(timer);
				waiters.delete(waiter);
			};
		},
		/**
		 * Resolves once the hub has read every change the store held when it was called: a normal feed is
		 * answered with it, so a replication that just finished sees what was written before it asked.
		 */
		fresh(): Promise<void> {
			// Requests that arrive before the next read begins share it, waiting for the writes of them all.
			if (pending) pending.poke.upTo = noticed;
			else {
				const poke: Poke = { resolve: () => {}, upTo: noticed, until: Date.now() + UNREAD_WAIT_MS };
				const promise = new Promise<void>((resolve) => (poke.resolve = resolve));
				pokes.push(poke);
				pending = { promise, poke };
			}
			if (longpolling) abort.abort();
			return pending.promise;
		},
		async stop() {
			stopped = true;
			unsubscribe();
			clearInterval(saving);
			abort.abort();
			await following.catch(() => {});
			saveSnapshot();
		}
	};
}
export type FeedHub = ReturnType<typeof createFeedHub>;
