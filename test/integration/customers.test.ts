/**
 * F18 subscribers on the real store and the real SQLite index: import of billing exports (CSV and JSON
 * lines, 数 and 模), rejected rows with line numbers, re-import updating instead of duplicating, and search by
 * phone (any format), account, smart card, name and address, exact or partial, per source.
 */
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startTestServer, ADMIN_PASSWORD, type TestServer } from '../helpers/server';
import { exportChunks } from '../../server/tools/subscribers';
import { openCustomerIndex, startCustomerIndexer } from '../../server/services/customer-index';
import { CustomerSearchResult, ImportReport } from '../../src/lib/shared/wire/customers';
import { until } from '../helpers/until';

let server: TestServer;
let admin: string;
let agent: string;

const headers = (cookie: string) => ({ cookie, origin: server.url });

async function importText(text: string, source: string, format = 'csv', cookie = admin) {
	const res = await fetch(`${server.url}/api/customers/import?source=${source}&format=${format}`, {
		method: 'POST',
		headers: { ...headers(cookie), 'content-type': 'text/plain; charset=utf-8' },
		body: text
	});
	const body = (await res.json()) as ImportReport & { code?: string };
	// #14 a report has the shape the import page reads it with.
	if (res.ok) v.parse(ImportReport, body);
	return { status: res.status, body };
}

async function search(params: Record<string, string>, cookie = agent) {
	const res = await fetch(`${server.url}/api/customers/search?${new URLSearchParams(params)}`, {
		headers: headers(cookie)
	});
	const body = (await res.json()) as CustomerSearchResult;
	// #14 the answer has the shape the browser reads it with.
	if (res.ok) v.parse(CustomerSearchResult, body);
	return { status: res.status, body };
}

const CSV = [
	'账号,姓名,联系电话,装机地址,片区,智能卡号,机顶盒号,套餐,状态',
	'D100,王建国,+86 138-0013-8000;0571-88886666,杭州市西湖区文三路90号翠苑一区3幢2单元301室,西湖区,8571000000000001,STB01A00000001,数字电视基本包;高清频道包,正常',
	'D101,李秀英,13900001111,杭州市上城区解放路12号,上城区,8571000000000002,,数字电视基本包,欠费停机',
	',无账号,13900002222,某地,,,,,正常',
	'D102,张三,12ab,杭州市滨江区江南大道1号,滨江区,,,,正常',
	'D100,王建国重复,13900003333,,,,,,正常',
	'D103,"赵""小""明",0086 137 0000 4444,"杭州市拱墅区莫干山路1号, 大关苑",拱墅区,8571000000000004,,数字电视基本包,正常'
].join('\n');

beforeAll(async () => {
	server = await startTestServer();
	admin = await server.signIn('admin', ADMIN_PASSWORD);
	agent = await server.createUser({ username: 'custagent', roleKey: 'agent' });
});
afterAll(async () => {
	await server?.close();
});

describe('F18 subscriber import', () => {
	it('imports good rows and reports bad ones with line numbers and reasons', async () => {
		const { status, body } = await importText(CSV, 'digital');
		expect(status).toBe(200);
		expect(body).toMatchObject({ rows: 6, inserted: 3, updated: 0, unchanged: 0, rejected: 3 });
		expect(body.rejectedRows).toEqual([
			{ line: 4, reason: 'account_required' },
			{ line: 5, reason: 'phone_invalid', account: 'D102' },
			{ line: 6, reason: 'duplicate_account', account: 'D100' }
		]);
	});

	it('re-importing updates changed subscribers and never duplicates', async () => {
		const changed = CSV.replace('欠费停机', '正常');
		const { body } = await importText(changed, 'digital');
		expect(body).toMatchObject({ inserted: 0, updated: 1, unchanged: 2, rejected: 3 });
		const { body: found } = await search({ q: 'D101', field: 'account', match: 'exact' });
		expect(found.hits).toHaveLength(1);
		expect(found.hits[0]).toMatchObject({ name: '李秀英', status: '正常', source: 'digital' });
	});

	it('imports JSON lines into the analog source and reports malformed lines', async () => {
		const lines = [
			JSON.stringify({
				account: 'A200',
				name: '王建国',
				phones: ['13800138000'],
				address: '杭州市西湖区古荡新村5幢',
				status: '正常'
			}),
			'{not json',
			JSON.stringify(['an', 'array']),
			JSON.stringify({
				账号: 'A201',
				姓名: '陈红',
				电话: '0571 8765 4321',
				地址: '杭州市西湖区文二路'
			})
		].join('\n');
		const { body } = await importText(lines, 'analog', 'jsonl');
		expect(body).toMatchObject({ rows: 4, inserted: 2, rejected: 2 });
		expect(body.rejectedRows.map((r) => [r.line, r.reason])).toEqual([
			[2, 'json_malformed'],
			[3, 'json_not_object']
		]);
	});

	it('#17 a file whose first row is not an export header is refused once, with nothing written', async () => {
		// `npm run` printed its banner into the file ahead of the header.
		const banner = `\n> guangdian-callcenter@0.1.0 generate:subscribers\n> tsx server/tools/subscribers.ts\n\n${CSV.replace('D100', 'X100')}`;
		const { status, body } = await importText(banner, 'digital');
		expect(status).toBe(400);
		expect(body).toMatchObject({ code: 'validation', issues: { file: 'import_header' } });
		const { body: found } = await search({ q: 'X100', field: 'account', match: 'exact' });
		expect(found.hits).toHaveLength(0);
	});

	it('refuses an import without the permission, an unknown source and an unknown format', async () => {
		expect((await importText(CSV, 'digital', 'csv', agent)).status).toBe(403);
		const badSource = await importText(CSV, 'cable');
		expect(badSource.status).toBe(400);
		expect(badSource.body.code).toBe('validation');
		expect((await importText(CSV, 'digital', 'xlsx')).status).toBe(400);
	});
});

describe('F18 subscriber search', () => {
	it('finds a subscriber by a phone number typed in any format, in both sources', async () => {
		for (const typed of ['13800138000', '+86 138 0013 8000', '0086-138-0013-8000']) {
			const { body } = await search({ q: typed, field: 'phone', match: 'exact' });
			expect(body.hits.map((h) => `${h.source}:${h.account}`).sort()).toEqual([
				'analog:A200',
				'digital:D100'
			]);
		}
		const landline = await search({ q: '(0571) 8888-6666' });
		expect(landline.body.hits.map((h) => h.account)).toEqual(['D100']);
	});

	it('finds by the last digits of a phone and by the beginning of an account or smart card', async () => {
		expect((await search({ q: '4444' })).body.hits.map((h) => h.account)).toEqual(['D103']);
		expect((await search({ q: 'D10', field: 'account' })).body.hits).toHaveLength(3);
		const card = await search({ q: '8571000000000004', field: 'smartCard', match: 'exact' });
		expect(card.body.hits.map((h) => h.name)).toEqual(['赵"小"明']);
	});

	it('finds by part of a name or an address, per source, and says which source each came from', async () => {
		const both = await search({ q: '建国' });
		expect(both.body.hits.map((h) => h.source).sort()).toEqual(['analog', 'digital']);
		const digitalOnly = await search({ q: '建国', source: 'digital' });
		expect(digitalOnly.body.hits.map((h) => h.account)).toEqual(['D100']);
		const street = await search({ q: '西湖区文', field: 'address' });
		expect(street.body.hits.map((h) => h.account).sort()).toEqual(['A201', 'D100']);
		const estate = await search({ q: '大关苑', field: 'address', source: 'digital' });
		expect(estate.body.hits.map((h) => h.account)).toEqual(['D103']);
		const exactName = await search({ q: '王建', field: 'name', match: 'exact' });
		expect(exactName.body.hits).toEqual([]);
	});

	it('returns phone numbers normalised and refuses searches without the permission', async () => {
		const { body } = await search({ q: 'D100', field: 'account', match: 'exact' });
		expect(body.hits[0]!.phones).toEqual(['13800138000', '057188886666']);
		const crew = await server.createUser({ username: 'custcrew', roleKey: 'crew' });
		expect((await search({ q: 'D100' }, crew)).status).toBe(403);
		const anonymous = await fetch(`${server.url}/api/customers/search?q=D100`);
		expect(anonymous.status).toBe(401);
		expect((await search({ q: '' })).status).toBe(400);
	});
});

describe('F18 the search index is derived and rebuildable', () => {
	it('a new index file is rebuilt from the store with the same answers', async () => {
		const { store } = server.runtime;
		const { customers } = server.runtime.deps;
		const fresh = openCustomerIndex(join(server.dataDir, 'rebuilt.sqlite'));
		const indexer = startCustomerIndexer(store, fresh);
		await indexer.caughtUp();
		await indexer.stop();
		expect(fresh.count()).toBe(customers.index.count());
		const query = {
			q: '西湖区',
			field: 'address',
			match: 'partial',
			source: 'all',
			limit: 50
		} as const;
		expect(
			fresh
				.search(query)
				.hits.map((h) => h._id)
				.sort()
		).toEqual(
			customers.index
				.search(query)
				.hits.map((h) => h._id)
				.sort()
		);
		expect(fresh.search(query).hits.length).toBeGreaterThanOrEqual(3);
		fresh.close();
	});

	it('#16 an index kept from another database is rebuilt; one of the same database goes on', async () => {
		const { store } = server.runtime;
		const index = openCustomerIndex(join(server.dataDir, 'moved.sqlite'));
		const catchUp = async () => {
			const indexer = startCustomerIndexer(store, index);
			await indexer.caughtUp();
			await indexer.stop();
		};
		await catchUp();
		const held = index.count();
		expect(held).toBeGreaterThan(0);
		// A subscriber only the index knows: kept while the database is the same one …
		const stray = {
			...index.get(
				(await store.db('customers').allDocs({ limit: 1, startkey: 'customer:' })).rows[0]!.id
			)!
		};
		index.index([{ ...stray, _id: 'customer:only-in-the-index', type: 'customer' } as never]);
		await catchUp();
		expect(index.get('customer:only-in-the-index')).not.toBeNull();
		// … and gone once the database is made anew (a restore or a replication names it anew: no `_local`
		// document travels), though its sequence numbers are past the index's.
		const db = store.db('customers');
		const identity = await db.local.get<{ identity: string }>('identity');
		await db.local.remove('identity');
		await catchUp();
		expect(index.get('customer:only-in-the-index')).toBeNull();
		expect(index.count()).toBe(held);
		index.close();
		// The server's own index goes on with the database it knows.
		await db.local.remove('identity');
		await db.local.put('identity', { identity: identity!.identity });
	});

	it('imports a generated export of realistic subscribers', async () => {
		const text = [...exportChunks({ count: 500, source: 'analog', seed: 7 }, 'csv')].join('');
		const { body } = await importText(text, 'analog');
		expect(body).toMatchObject({ rows: 500, inserted: 500, rejected: 0 });
		expect(server.runtime.deps.customers.index.count()).toBeGreaterThanOrEqual(505);
	});
});

describe('#15 an import indexes its own writes', () => {
	it('F18 an import answers with every row searchable, without the index reading the rows back', async () => {
		const text = [...exportChunks({ count: 12_000, source: 'digital', seed: 21 }, 'csv')].join('');
		const fromFeed = server.runtime.deps.customers.index.applied();
		const { body } = await importText(text, 'digital');
		expect(body).toMatchObject({ rows: 12_000, inserted: 12_000, rejected: 0 });
		const { customers } = server.runtime.deps;
		// The index holds what was written, and its checkpoint is the store's sequence: nothing to catch up.
		expect(customers.index.count()).toBeGreaterThanOrEqual(12_000);
		expect(Number.parseInt(customers.index.seq(), 10)).toBe(
			Number.parseInt(String(await server.runtime.store.db('customers').updateSeq()), 10)
		);
		// Not one of the 12,000 rows came back through the feed (a slow machine may see the follower's
		// long-poll end and start again during the import, so its requests are not counted).
		expect(customers.index.applied() - fromFeed).toBe(0);
		// And it goes on from the import's end: a subscriber written next is the one change it reads.
		const db = server.runtime.store.db('customers');
		const { rows } = await db.allDocs({ include_docs: true, limit: 1, startkey: 'customer:' });
		await db.insert({ ...(rows[0]!.doc as { _id: string }), name: '导入后改过' });
		await customers.indexer.caughtUp();
		expect(customers.index.get(rows[0]!.id)?.name).toBe('导入后改过');
		expect(customers.index.applied() - fromFeed).toBe(1);
		const last = [...exportChunks({ count: 12_000, source: 'digital', seed: 21 }, 'jsonl')]
			.join('')
			.trim()
			.split('\n')
			.at(-1)!;
		const account = (JSON.parse(last) as { account: string }).account;
		const found = await search({ q: account, source: 'digital' });
		expect(found.body.hits.map((h) => h.account)).toContain(account);
	});

	it('F18 a write by someone else during an import is indexed too', async () => {
		const { customers } = server.runtime.deps;
		const db = server.runtime.store.db('customers');
		const { rows } = await db.allDocs({ include_docs: true, limit: 2, startkey: 'customer:' });
		const [mine, theirs] = rows.map((r) => r.doc as unknown as { _id: string; name: string });
		await customers.indexer.whileImporting(
			async (written) => {
				// Someone else writes while the import runs; the import writes one subscriber of its own.
				await db.insert({ ...theirs!, name: '他人改过' });
				const own = { ...mine!, name: '导入改过' };
				await db.insert(own);
				await written([own as never]);
				return { writes: 1 };
			},
			(r) => r.writes
		);
		await customers.indexer.caughtUp();
		expect(customers.index.get(theirs!._id)?.name).toBe('他人改过');
		expect(customers.index.get(mine!._id)?.name).toBe('导入改过');
	});
});

// Last: it imports thousands of realistic subscribers, which the searches above do not expect.
describe('#17 import progress', () => {
	it('#17 a running import says how far the server is: bytes read of the file, rows, then indexing and done', async () => {
		const text = [
			...exportChunks({ count: 6_000, source: 'digital', seed: 7, start: 900_000 }, 'csv')
		].join('');
		const bytes = new TextEncoder().encode(text);
		const half = bytes.subarray(0, bytes.length >> 1);
		let release!: () => void;
		const rest = new Promise<void>((r) => (release = r));
		// The upload stalls half-way until the test has seen the server's progress.
		let sentHalf = false;
		const body = new ReadableStream<Uint8Array>({
			async pull(controller) {
				if (!sentHalf) {
					sentHalf = true;
					controller.enqueue(half);
					return;
				}
				await rest;
				controller.enqueue(bytes.subarray(half.length));
				controller.close();
			}
		});
		const progressOf = async (id: string, cookie = admin) => {
			const res = await fetch(`${server.url}/api/customers/import/progress?id=${id}`, {
				headers: headers(cookie)
			});
			return { status: res.status, body: (await res.json()) as Record<string, unknown> };
		};
		const answer = fetch(
			`${server.url}/api/customers/import?source=digital&format=csv&progress=test-progress-1`,
			{
				method: 'POST',
				headers: {
					...headers(admin),
					'content-type': 'text/csv',
					'content-length': String(bytes.length)
				},
				body,
				duplex: 'half'
			} as RequestInit
		);
		let seen: Record<string, unknown> = {};
		await until(async () => {
			const { status, body } = await progressOf('test-progress-1');
			seen = body;
			return status === 200 && (body.rows as number) > 0;
		}, 'the server reporting rows read');
		expect(seen).toMatchObject({ phase: 'reading', total: bytes.length });
		expect(seen.bytes as number).toBeLessThanOrEqual(half.length);
		// Nobody else learns of it.
		expect((await progressOf('test-progress-1', agent)).status).toBe(403);
		release();
		const res = await answer;
		expect(res.status).toBe(200);
		expect(await progressOf('test-progress-1')).toMatchObject({
			status: 200,
			body: { phase: 'done', bytes: bytes.length, rows: 6_000 }
		});
	});
});
