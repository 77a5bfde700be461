/**
 * The subscriber search index (F18, DESIGN.md "Customers"): a derived, rebuildable SQLite file beside the
 * store, fed by `cc_customers`' changes feed. Normalised phone numbers sit in a B-tree (and reversed, so a
 * number's last digits are a range too); names and addresses in an FTS5 trigram table, which finds 西湖区
 * inside 杭州市西湖区文三路. Deleting the file is always safe: it is rebuilt from the store at the next start.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { normalizePhone } from '#shared/phone';
import type {
	Customer,
	CustomerHit,
	CustomerSearchQuery,
	SearchField
} from '#shared/customers/customer';
import type { CustomerSearchResult } from '#shared/wire/customers';
import { followChanges, type Change } from '../store/follow';
import { databaseIdentity, type Store } from '../store';
import { makePrivate, writePrivate } from '../secrets';
import { startIndexWriter } from './customer-index-writer';

/** Bump when the schema changes: the index is then rebuilt from the store. */
const SCHEMA_VERSION = '2';
const BATCH = 5000;

const SCHEMA = `
create table if not exists meta (key text primary key, value text not null);
create table if not exists customers (
	rid integer primary key,
	id text not null unique,
	source text not null,
	account text not null,
	name text not null,
	address text not null,
	smart_card text not null,
	stb text not null,
	hit text not null
);
create index if not exists customers_account on customers (account);
create index if not exists customers_card on customers (smart_card) where smart_card <> '';
create index if not exists customers_stb on customers (stb) where stb <> '';
create index if not exists customers_name on customers (name);
create index if not exists customers_address on customers (address);
create table if not exists phones (phone text not null, reversed text not null, rid integer not null);
create index if not exists phones_phone on phones (phone);
create index if not exists phones_reversed on phones (reversed);
create index if not exists phones_rid on phones (rid);
create table if not exists name_grams (gram text not null, rid integer not null);
create index if not exists name_grams_gram on name_grams (gram);
create index if not exists name_grams_rid on name_grams (rid);
create virtual table if not exists texts using fts5 (
	name, address, content='', contentless_delete=1, tokenize='trigram'
);
`;

/** The distinct two-character pieces of a name: 王建国 → 王建, 建国 (a trigram is longer than many names). */
function bigrams(name: string): Set<string> {
	const chars = [...name];
	const grams = new Set<string>();
	for (let i = 0; i + 1 < chars.length; i++) grams.add(chars[i]! + chars[i + 1]!);
	return grams;
}
const reverse = (s: string) => [...s].reverse().join('');
/** Upper bound of a prefix range on a text column. */
const after = (prefix: string) => prefix + '\uffff';
/** An FTS5 string literal. */
const phrase = (s: string) => `"${s.replaceAll('"', '""')}"`;

export type { CustomerSearchResult };

/**
 * Opens (or creates) the index. `bulk` is the import's writer connection (see `customer-index-writer.ts`):
 * a larger page cache and rarer WAL checkpoints — at a million subscribers the B-trees' inserts land all over
 * the file, and with SQLite's default 2 MB cache and a checkpoint every 1,000 pages they took twice as long.
 */
export function openCustomerIndex(file: string, { bulk = false }: { bulk?: boolean } = {}) {
	// Subscribers' names, addresses and numbers: the owner's only. SQLite gives its -wal and -shm files
	// the database file's mode, so the file is made private before SQLite opens it.
	if (!existsSync(file)) writePrivate(file, '', 'wx');
	for (const f of [file, `${file}-wal`, `${file}-shm`]) makePrivate(f);
	// Two connections may write (the feed's and an import's writer): one waits for the other's transaction.
	const db: Db = new Database(file, { timeout: 60_000 });
	db.pragma('journal_mode = WAL');
	db.pragma('synchronous = NORMAL');
	db.pragma(`cache_size = ${bulk ? -256 * 1024 : -64 * 1024}`);
	if (bulk) db.pragma('wal_autocheckpoint = 100000');
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
	if (version !== SCHEMA_VERSION) {
		db.exec(`drop table if exists meta; drop table if exists customers;
			drop table if exists phones; drop table if exists texts; drop table if exists name_grams;`);
	}
	db.exec(SCHEMA);
	db.prepare(`insert or replace into meta values ('schema', ?)`).run(SCHEMA_VERSION);

	const q = {
		getSeq: db.prepare(`select value from meta where key = 'seq'`),
		setSeq: db.prepare(`insert or replace into meta values ('seq', ?)`),
		getDatabase: db.prepare(`select value from meta where key = 'database'`),
		setDatabase: db.prepare(`insert or replace into meta values ('database', ?)`),
		findRid: db.prepare(`select rid from customers where id = ?`),
		insert: db.prepare(
			`insert into customers (id, source, account, name, address, smart_card, stb, hit)
			 values (@id, @source, @account, @name, @address, @smartCard, @stb, @hit)`
		),
		update: db.prepare(
			`update customers set source = @source, account = @account, name = @name, address = @address,
			 smart_card = @smartCard, stb = @stb, hit = @hit where rid = @rid`
		),
		remove: db.prepare(`delete from customers where rid = ?`),
		removePhones: db.prepare(`delete from phones where rid = ?`),
		removeText: db.prepare(`delete from texts where rowid = ?`),
		addPhone: db.prepare(`insert into phones (phone, reversed, rid) values (?, ?, ?)`),
		addText: db.prepare(`insert into texts (rowid, name, address) values (?, ?, ?)`),
		removeGrams: db.prepare(`delete from name_grams where rid = ?`),
		addGram: db.prepare(`insert into name_grams (gram, rid) values (?, ?)`),
		count: db.prepare(`select count(*) as n from customers`)
	};

	function upsert(c: Customer) {
		const { _id, _rev: _r, type: _t, importedAt: _i, ...hit } = c;
		const row = {
			id: _id,
			source: c.source,
			account: c.account,
			name: c.name,
			address: c.address,
			smartCard: c.smartCard,
			stb: c.stbSerial,
			hit: JSON.stringify({ _id, ...hit })
		};
		const existing = q.findRid.get(_id) as { rid: number } | undefined;
		let rid: number;
		if (existing) {
			rid = existing.rid;
			q.update.run({ ...row, rid });
			q.removePhones.run(rid);
			q.removeText.run(rid);
			q.removeGrams.run(rid);
		} else {
			rid = Number(q.insert.run(row).lastInsertRowid);
		}
		for (const phone of c.phones) q.addPhone.run(phone, reverse(phone), rid);
		q.addText.run(rid, c.name, c.address);
		for (const gram of bigrams(c.name)) q.addGram.run(gram, rid);
	}

	function remove(id: string) {
		const existing = q.findRid.get(id) as { rid: number } | undefined;
		if (!existing) return;
		q.removePhones.run(existing.rid);
		q.removeText.run(existing.rid);
		q.removeGrams.run(existing.rid);
		q.remove.run(existing.rid);
	}

	/** Applies one batch of the changes feed and its checkpoint atomically. */
	/** How many changes of the feed were applied (the import's own writes are not): for tests. */
	let fromFeed = 0;
	const apply = db.transaction((changes: Change<Customer>[], lastSeq: string) => {
		fromFeed += changes.length;
		for (const change of changes) {
			if (change.id.startsWith('_design/')) continue;
			if (change.deleted || !change.doc || change.doc.type !== 'customer') remove(change.id);
			else upsert(change.doc);
		}
		q.setSeq.run(lastSeq);
	});

	const statements = new Map<string, Statement>();
	const prepared = (sql: string) => {
		let s = statements.get(sql);
		if (!s) statements.set(sql, (s = db.prepare(sql)));
		return s;
	};

	/** Rows of one field's search, as hit JSON, at most `limit`. */
	function searchField(
		field: Exclude<SearchField, 'auto'>,
		text: string,
		exact: boolean,
		source: string,
		limit: number
	): string[] {
		const bySource = source === 'all' ? '' : ' and c.source = @source';
		const params = { text, source, limit, end: after(text), rev: '', revEnd: '' };
		const run = (sql: string, extra: Partial<typeof params> = {}) =>
			(prepared(sql).all({ ...params, ...extra }) as { hit: string }[]).map((r) => r.hit);
		const column = {
			account: 'account',
			smartCard: 'smart_card',
			name: 'name',
			address: 'address'
		};
		switch (field) {
			case 'phone': {
				const phone = normalizePhone(text);
				if (!phone) return [];
				const join = `select distinct c.hit from phones p join customers c on c.rid = p.rid where `;
				if (exact) return run(`${join}p.phone = @text${bySource} limit @limit`, { text: phone });
				// Partial: the number's beginning or its end (the last digits people read out).
				const hits = run(`${join}p.phone >= @text and p.phone < @end${bySource} limit @limit`, {
					text: phone,
					end: after(phone)
				});
				const rev = reverse(phone);
				return hits.concat(
					run(`${join}p.reversed >= @rev and p.reversed < @revEnd${bySource} limit @limit`, {
						rev,
						revEnd: after(rev)
					})
				);
			}
			case 'account':
			case 'smartCard': {
				const col = `c.${column[field]}`;
				return exact
					? run(`select c.hit from customers c where ${col} = @text${bySource} limit @limit`)
					: run(
							`select c.hit from customers c where ${col} >= @text and ${col} < @end${bySource} limit @limit`
						);
			}
			case 'name':
			case 'address': {
				const col = `c.${column[field]}`;
				if (exact) {
					return run(`select c.hit from customers c where ${col} = @text${bySource} limit @limit`);
				}
				if ([...text].length >= 3) {
					return run(
						`select c.hit from texts t join customers c on c.rid = t.rowid
						 where texts match @match${bySource} limit @limit`,
						{ match: `${field} : ${phrase(text)}` } as never
					);
				}
				// Shorter than a trigram. Beginnings come from the B-tree first; a name's two characters
				// anywhere from the bigram table; what is still missing from a scan that stops at the limit.
				const starts = run(
					`select c.hit from customers c where ${col} >= @text and ${col} < @end${bySource} limit @limit`
				);
				if (starts.length >= limit) return starts;
				const inside =
					field === 'name' && [...text].length === 2
						? run(
								`select c.hit from name_grams g join customers c on c.rid = g.rid
								 where g.gram = @text${bySource} limit @limit`
							)
						: run(
								`select c.hit from customers c where instr(${col}, @text) > 1${bySource} limit @limit`
							);
				return starts.concat(inside);
			}
		}
	}

	function fieldsFor(query: CustomerSearchQuery): Exclude<SearchField, 'auto'>[] {
		if (query.field !== 'auto') return [query.field];
		const text = query.q;
		if (/^[\d\s+()（）-]+$/.test(text)) return ['phone', 'account', 'smartCard'];
		if (/^[\w.-]+$/.test(text)) return ['account', 'smartCard'];
		// One or two characters are almost always (part of) a name; addresses are searched from three.
		return [...text].length < 3 ? ['name'] : ['name', 'address'];
	}

	return {
		search(query: CustomerSearchQuery): CustomerSearchResult {
			const fields = fieldsFor(query);
			const text = query.q.normalize('NFKC').trim();
			const seen = new Set<string>();
			const hits: CustomerHit[] = [];
			for (const field of fields) {
				for (const raw of searchField(
					field,
					text,
					query.match === 'exact',
					query.source,
					query.limit + 1
				)) {
					const hit = JSON.parse(raw) as CustomerHit;
					if (seen.has(hit._id)) continue;
					seen.add(hit._id);
					hits.push(hit);
				}
			}
			return { hits: hits.slice(0, query.limit), more: hits.length > query.limit, fields };
		},
		get(id: string): CustomerHit | null {
			const row = prepared(`select hit from customers where id = ?`).get(id) as
				{ hit: string } | undefined;
			return row ? (JSON.parse(row.hit) as CustomerHit) : null;
		},
		seq: () => (q.getSeq.get() as { value: string } | undefined)?.value ?? '0',
		count: () => (q.count.get() as { n: number }).n,
		apply,
		applied: () => fromFeed,
		/** Indexes documents the caller just wrote, leaving the feed's checkpoint where it is. */
		index: db.transaction((docs: Customer[]) => {
			for (const doc of docs) upsert(doc);
		}),
		/** The identity of the database indexed (`databaseIdentity`); undefined before the first start. */
		database: () => (q.getDatabase.get() as { value: string } | undefined)?.value,
		setDatabase: (identity: string) => void q.setDatabase.run(identity),
		/** Moves the feed's checkpoint (what the index holds is already up to that sequence). */
		setSeq: (seq: string) => void q.setSeq.run(seq),
		reset: db.transaction(() => {
			db.exec(`delete from customers; delete from phones; delete from name_grams;
				insert into texts (texts) values ('delete-all');`);
			q.setSeq.run('0');
		}),
		/** Where the index lives (an import's writer opens it too). */
		file,
		/** Copies the write-ahead log into the file and empties it (after an import's many pages). */
		checkpoint: () => void db.pragma('wal_checkpoint(TRUNCATE)'),
		close: () => db.close()
	};
}

export type CustomerIndex = ReturnType<typeof openCustomerIndex>;

/** The sequence number a CouchDB/PouchDB `seq` starts with (CouchDB's are `N-opaque`). */
export const seqNumber = (seq: string | number) => Number.parseInt(String(seq), 10) || 0;

/** Keeps the index up to date with the store; `caughtUp(seq)` resolves once it has indexed that far. */
export function startCustomerIndexer(
	store: Store,
	index: CustomerIndex,
	log: (msg: string) => void = () => {}
) {
	/** Told whenever the index moved on (a batch of the follower, an import's own writes). */
	const batches = new Set<() => void>();
	const wake = () => {
		for (const done of batches) done();
		batches.clear();
	};
	/** Resolved once the follower knows where it starts (after a rebuild was decided on). */
	let begun = () => {};
	const started = new Promise<void>((resolve) => (begun = resolve));
	const follower = followChanges<Customer>(store, 'customers', {
		name: 'customer index',
		includeDocs: true,
		batchSize: BATCH,
		log,
		since: async () => {
			// A database made anew (restored, replaced) means the index must be rebuilt; so does the embedded
			// store behind the index (its folder restored from an older copy: only its sequences compare).
			const db = store.db('customers');
			const identity = await databaseIdentity(db);
			const indexed = index.database();
			const behind =
				store.kind === 'embedded' && seqNumber(await db.updateSeq()) < seqNumber(index.seq());
			if ((indexed !== undefined && indexed !== identity) || behind) {
				log(`customer index: the store's subscribers are not the ones indexed; indexing them anew`);
				index.reset();
			}
			// An index from before identities were kept takes the database's (it cannot tell otherwise).
			if (indexed !== identity) index.setDatabase(identity);
			begun();
			return index.seq();
		},
		onBatch: (changes, lastSeq) => {
			index.apply(changes, lastSeq);
			wake();
			return Promise.resolve();
		}
	});
	return {
		/**
		 * Resolves when everything the store held when asked is searchable. Asked of the store as "any
		 * change after the index's checkpoint?": Apache CouchDB's sequences are opaque, and the number they
		 * start with is not comparable between its feed and its update sequence.
		 */
		async caughtUp(): Promise<void> {
			await started;
			const db = store.db('customers');
			for (;;) {
				// The index's number at or past the store's says so on either store (nothing read); below it,
				// only the feed can tell on CouchDB.
				if (seqNumber(index.seq()) >= seqNumber(await db.updateSeq())) return;
				const after = await db.changes({ since: index.seq(), limit: '1' });
				if (after.results.length === 0) return;
				// Asked again when the index moves on (or after a second, whichever comes first).
				await new Promise<void>((resolve) => {
					const timer = setTimeout(resolve, 1_000);
					batches.add(() => {
						clearTimeout(timer);
						resolve();
					});
				});
			}
		},
		/**
		 * Runs an import with the follower paused, indexing the import's own writes as it makes them, in a
		 * thread of its own (`work` gets the function to tell them to; it resolves when there is room for
		 * the next batch). When nothing else wrote meanwhile — the store's sequence moved by exactly the
		 * import's `writes` — and every batch was indexed, the index moves to that sequence at once instead
		 * of reading a million changes back; otherwise the follower reads them (and the foreign ones).
		 */
		async whileImporting<T>(
			work: (written: (docs: Customer[]) => Promise<void>) => Promise<T>,
			writes: (result: T) => number
		): Promise<T> {
			const db = store.db('customers');
			follower.pause();
			try {
				const before = await db.updateSeq();
				const from = index.seq();
				const writer = await startIndexWriter(index.file);
				let indexed = false;
				const result = await work((docs) => writer.write(docs)).finally(async () => {
					indexed = await writer.finish();
					if (!indexed) log(`customer index: the import's writer failed; the feed indexes it`);
				});
				const after = await db.updateSeq();
				const quiet = seqNumber(after) - seqNumber(before) === writes(result);
				if (quiet && indexed && seqNumber(from) === seqNumber(before)) {
					index.setSeq(String(after));
					wake();
				}
				return result;
			} finally {
				follower.resume();
			}
		},
		stop: () => follower.stop()
	};
}
