/**
 * The subscriber search index (F18, DESIGN.md "Customers"): a derived, rebuildable SQLite file beside the
 * store, fed by `cc_customers`' changes feed. Normalised phone numbers sit in a B-tree (and reversed, so a
 * number's last digits are a range too); names and addresses in an FTS5 trigram table, which finds 西湖区
 * inside 杭州市西湖区文三路. Deleting the file is always safe: it is rebuilt from the store at the next start.
 */
import type { Statement } from 'better-sqlite3';
import { normalizePhone } from '#shared/phone';
import type {
	Customer,
	CustomerHit,
	CustomerSearchQuery,
	SearchField
} from '#shared/customers/customer';
import type { CustomerSearchResult } from '#shared/wire/customers';
import type { Change } from '../store/follow';
import type { Store } from '../store';
import { startIndexWriter } from './customer-index-writer';
import { followIntoIndex, openIndexFile, seqNumber } from './derived-index';

/** Bump when the schema changes: the index is then rebuilt from the store. */
const SCHEMA_VERSION = '2';
const BATCH = 5000;

const SCHEMA = `
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
	const indexFile = openIndexFile(file, {
		schemaVersion: SCHEMA_VERSION,
		schema: SCHEMA,
		tables: ['customers', 'phones', 'texts', 'name_grams'],
		cacheMiB: bulk ? 256 : 64,
		...(bulk ? { walPages: 100_000 } : {})
	});
	const { db } = indexFile;

	const q = {
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
		indexFile.setSeq(lastSeq);
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
		seq: indexFile.seq,
		count: () => (q.count.get() as { n: number }).n,
		apply,
		applied: () => fromFeed,
		/** Indexes documents the caller just wrote, leaving the feed's checkpoint where it is. */
		index: db.transaction((docs: Customer[]) => {
			for (const doc of docs) upsert(doc);
		}),
		database: indexFile.database,
		setDatabase: indexFile.setDatabase,
		setSeq: indexFile.setSeq,
		reset: db.transaction(() => {
			db.exec(`delete from customers; delete from phones; delete from name_grams;
				insert into texts (texts) values ('delete-all');`);
			indexFile.setSeq('0');
		}),
		/** Where the index lives (an import's writer opens it too). */
		file,
		checkpoint: indexFile.checkpoint,
		close: indexFile.close
	};
}

export type CustomerIndex = ReturnType<typeof openCustomerIndex>;

/** Keeps the index up to date with the store; `caughtUp()` resolves once it holds what the store holds. */
export function startCustomerIndexer(
	store: Store,
	index: CustomerIndex,
	log: (msg: string) => void = () => {}
) {
	const follower = followIntoIndex(store, 'customers', index, {
		name: 'customer index',
		batchSize: BATCH,
		log
	});
	return {
		caughtUp: follower.caughtUp,
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
					follower.moved();
				}
				return result;
			} finally {
				follower.resume();
			}
		},
		stop: () => follower.stop()
	};
}
