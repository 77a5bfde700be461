import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Customer } from '#shared/customers/customer';
import { openCustomerIndex } from './customer-index';
import { startIndexWriter } from './customer-index-writer';

const dirs: string[] = [];
afterEach(() => {
	for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
	const dir = mkdtempSync(join(tmpdir(), 'index-writer-'));
	dirs.push(dir);
	return dir;
};

const subscriber = (n: number): Customer => ({
	_id: `customer:digital:${n}`,
	type: 'customer',
	source: 'digital',
	account: String(n),
	name: `王建${n}`,
	address: `杭州市西湖区文三路${n}号`,
	area: '西湖区',
	phones: [`1380000${String(n).padStart(4, '0')}`],
	smartCard: '',
	stbSerial: '',
	products: [],
	status: 'active',
	importedAt: '2026-12-01T00:00:00.000Z'
});

describe('#15 the import writes the search index in a thread of its own', () => {
	it('indexes every batch, searchable through the server’s own connection', async () => {
		const index = openCustomerIndex(join(tempDir(), 'customer-index.sqlite'));
		const writer = await startIndexWriter(index.file, 2);
		for (let b = 0; b < 5; b++) {
			await writer.write(Array.from({ length: 100 }, (_, i) => subscriber(b * 100 + i)));
		}
		expect(await writer.finish()).toBe(true);
		expect(index.count()).toBe(500);
		const found = index.search({
			q: '13800000417',
			field: 'phone',
			match: 'exact',
			source: 'all',
			limit: 5
		});
		expect(found.hits.map((h) => h._id)).toEqual(['customer:digital:417']);
		index.close();
	});

	it('says so when the thread cannot write, so the feed indexes the rows instead', async () => {
		// A folder where the index file should be: SQLite cannot open it.
		const writer = await startIndexWriter(tempDir());
		await writer.write([subscriber(1)]);
		expect(await writer.finish()).toBe(false);
	});
});
