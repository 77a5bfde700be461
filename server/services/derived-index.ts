/**
 * What a server derives from one database into a SQLite file of its own — the subscriber search index
 * (`customer-index.ts`) and the ticket history index (`ticket-history.ts`): the file opened privately with
 * its schema version and feed checkpoint (`openIndexFile`), and the database's changes feed followed into it
 * (`followIntoIndex`). Such a file is always safe to delete: it is rebuilt from the store at the next start,
 * and it is rebuilt too when the store's database is not the one it was made of.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { followChanges, type Change } from '../store/follow';
import { databaseIdentity, type DbKey, type Store } from '../store';
import { makePrivate, writePrivate } from '../secrets';

export interface IndexFileOptions {
	/** Bump when the schema changes: the tables are then dropped and the index rebuilt from the store. */
	schemaVersion: string;
	/** `create … if not exists` statements. */
	schema: string;
	/** The tables the schema makes (dropped on a new version). */
	tables: string[];
	/** Page cache of this connection, in MiB. */
	cacheMiB?: number;
	/** A WAL checkpoint every this many pages (SQLite's default 1,000). */
	walPages?: number;
}

/** Opens (or creates) an index file, private to the server's user, in WAL mode. */
export function openIndexFile(
	file: string,
	{ schemaVersion, schema, tables, cacheMiB = 64, walPages }: IndexFileOptions
) {
	// Subscribers' and callers' data: the owner's only. SQLite gives its -wal and -shm files the database
	// file's mode, so the file is made private before SQLite opens it.
	if (!existsSync(file)) writePrivate(file, '', 'wx');
	for (const f of [file, `${file}-wal`, `${file}-shm`]) makePrivate(f);
	// Two connections may write (the feed's and an import's writer): one waits for the other's transaction.
	const db: Db = new Database(file, { timeout: 60_000 });
	db.pragma('journal_mode = WAL');
	db.pragma('synchronous = NORMAL');
	db.pragma(`cache_size = ${-cacheMiB * 1024}`);
	if (walPages) db.pragma(`wal_autocheckpoint = ${walPages}`);
	const version = (() => {
		try {
			return (
				db.prepare(`select value from meta where key = 'schema'`).get() as
					{ value: string } | undefined
			)?.value;
		} catch {
			return undefined;
		}
	})();
	if (version !== schemaVersion) {
		db.exec(['meta', ...tables].map((t) => `drop table if exists ${t};`).join('\n'));
	}
	db.exec(
		`create table if not exists meta (key text primary key, value text not null);\n${schema}`
	);
	db.prepare(`insert or replace into meta values ('schema', ?)`).run(schemaVersion);
	const q = {
		getSeq: db.prepare(`select value from meta where key = 'seq'`),
		setSeq: db.prepare(`insert or replace into meta values ('seq', ?)`),
		getDatabase: db.prepare(`select value from meta where key = 'database'`),
		setDatabase: db.prepare(`insert or replace into meta values ('database', ?)`)
	};
	return {
		db,
		file,
		/** Where in the feed the index is. */
		seq: () => (q.getSeq.get() as { value: string } | undefined)?.value ?? '0',
		/** Moves the feed's checkpoint (in the caller's transaction, when there is one). */
		setSeq: (seq: string) => void q.setSeq.run(seq),
		/** The identity of the database indexed (`databaseIdentity`); undefined before the first start. */
		database: () => (q.getDatabase.get() as { value: string } | undefined)?.value,
		setDatabase: (identity: string) => void q.setDatabase.run(identity),
		/** Copies the write-ahead log into the file and empties it (after many pages were written). */
		checkpoint: () => void db.pragma('wal_checkpoint(TRUNCATE)'),
		close: () => db.close()
	};
}

/** What `followIntoIndex` needs of an index. */
export interface DerivedIndex<D> {
	seq(): string;
	database(): string | undefined;
	setDatabase(identity: string): void;
	/** Empties the index and its checkpoint. */
	reset(): void;
	/** Applies one batch of the feed and its checkpoint atomically. */
	apply(changes: Change<D>[], lastSeq: string): void;
}

/** How long an own write the feed has not shown is waited for (see `ownWritesRead`). */
const UNREAD_FORGET_MS = 3_000;

/** The sequence number a CouchDB/PouchDB `seq` starts with (CouchDB's are `N-opaque`). */
export const seqNumber = (seq: string | number) => Number.parseInt(String(seq), 10) || 0;

/**
 * Keeps `index` up to date with database `dbKey`, from its checkpoint. A database made anew (restored,
 * replaced: another `_local/identity`) means the index is rebuilt; so does the embedded store behind the
 * index (its folder restored from an older copy: only its sequences compare).
 */
export function followIntoIndex<D>(
	store: Store,
	dbKey: DbKey,
	index: DerivedIndex<D>,
	{
		name,
		batchSize,
		log = () => {}
	}: { name: string; batchSize: number; log?: (m: string) => void }
) {
	/** Told whenever the index moved on (a batch of the follower, or its owner's own writes). */
	const batches = new Set<() => void>();
	const moved = () => {
		for (const done of batches) done();
		batches.clear();
	};
	/**
	 * This server's own writes the index has not read yet: id → the generation written and when it was
	 * noticed (forgotten after `UNREAD_FORGET_MS`: a write that lost a conflict never shows as written).
	 */
	const unread = new Map<string, { generation: number; at: number }>();
	/**
	 * What the feed brought lately (id → generation, when): on Apache CouchDB the feed may show a write
	 * before the write's answer reaches this server, which must then not wait for it (#15: every look-up
	 * waited the whole second for such a write, for as long as no other change came to forget it).
	 */
	const seen = new Map<string, { generation: number; at: number }>();
	const unsubscribe = store.onWrite(dbKey, (written) => {
		const at = Date.now();
		for (const { id, generation } of written) {
			if ((seen.get(id)?.generation ?? -1) >= generation) continue;
			const before = unread.get(id);
			unread.set(id, { generation: Math.max(generation, before?.generation ?? 0), at });
		}
	});
	/** Forgets own writes and seen changes older than `UNREAD_FORGET_MS`. */
	const forget = (now: number) => {
		const old = now - UNREAD_FORGET_MS;
		for (const [id, u] of unread) if (u.at < old) unread.delete(id);
		// Oldest first (re-inserted when seen again): stop at the first one still recent.
		for (const [id, u] of seen) {
			if (u.at >= old) break;
			seen.delete(id);
		}
	};
	const read = (changes: Change<D>[]) => {
		const now = Date.now();
		for (const change of changes) {
			const wrote = unread.get(change.id);
			const rev = change.changes?.[0]?.rev ?? '';
			const generation = Number.parseInt(rev, 10) || 0;
			if (wrote && (change.deleted || generation >= wrote.generation)) unread.delete(change.id);
			seen.delete(change.id);
			seen.set(change.id, { generation, at: now });
		}
		forget(now);
	};
	/** Resolved once the follower knows where it starts (after a rebuild was decided on). */
	let begun = () => {};
	const started = new Promise<void>((resolve) => (begun = resolve));
	const db = store.db(dbKey);
	const follower = followChanges<D>(store, dbKey, {
		name,
		includeDocs: true,
		batchSize,
		log,
		since: async () => {
			const identity = await databaseIdentity(db);
			const indexed = index.database();
			const behind =
				store.kind === 'embedded' && seqNumber(await db.updateSeq()) < seqNumber(index.seq());
			if ((indexed !== undefined && indexed !== identity) || behind) {
				log(`${name}: the store's database is not the one indexed; indexing it anew`);
				index.reset();
			}
			// An index from before identities were kept takes the database's (it cannot tell otherwise).
			if (indexed !== identity) index.setDatabase(identity);
			begun();
			return index.seq();
		},
		onBatch: (changes, lastSeq) => {
			index.apply(changes, lastSeq);
			read(changes);
			moved();
			return Promise.resolve();
		}
	});

	/**
	 * Resolves when everything the store held when asked is in the index. Asked of the store as "any change
	 * after the index's checkpoint?": Apache CouchDB's sequences are opaque, and the number they start with
	 * is not comparable between its feed and its update sequence.
	 */
	async function caughtUp(): Promise<void> {
		await started;
		for (;;) {
			// The index's number at or past the store's says so on either store (nothing read); below it,
			// only the feed can tell on CouchDB.
			if (seqNumber(index.seq()) >= seqNumber(await db.updateSeq())) return;
			const after = await db.changes({ since: index.seq(), limit: '1' });
			if (after.results.length === 0) return;
			// Asked again when the index moves on (or after a second, whichever comes first).
			await nextBatch(1_000);
		}
	}

	/** Waits for the next batch (or `ms`). */
	const nextBatch = (ms: number) =>
		new Promise<void>((resolve) => {
			const timer = setTimeout(resolve, ms);
			batches.add(() => {
				clearTimeout(timer);
				resolve();
			});
		});

	/**
	 * Resolves to true once the index holds every write this server made before the call, or to false
	 * after `maxMs`. Asks the store nothing: others' writes show as fast as the feed brings them.
	 */
	async function ownWritesRead(maxMs: number): Promise<boolean> {
		const asked = Date.now();
		const deadline = asked + maxMs;
		for (;;) {
			// A write the feed never shows as read (it lost to another revision) is not waited for forever.
			forget(Date.now());
			if (![...unread.values()].some((u) => u.at <= asked)) return true;
			const left = deadline - Date.now();
			if (left <= 0) return false;
			await nextBatch(left);
		}
	}

	return {
		caughtUp,
		ownWritesRead,
		/** Tells those waiting in `caughtUp` that the index moved on by its owner's own writes. */
		moved,
		pause: () => follower.pause(),
		resume: () => follower.resume(),
		stop: () => {
			unsubscribe();
			return follower.stop();
		}
	};
}
