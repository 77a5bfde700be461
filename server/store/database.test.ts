import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../settings';
import { openStore, provisionStore, StoreError, type Store } from './index';

let dir: string;
let store: Store;

beforeAll(async () => {
	dir = mkdtempSync(join(tmpdir(), 'cc-store-'));
	store = await openStore(loadSettings({ DATA_DIR: dir }));
	await provisionStore(store, join(process.cwd(), 'sync', 'ddocs'));
}, 60_000);

afterAll(async () => {
	await store.close();
	rmSync(dir, { recursive: true, force: true });
});

type Note = { _id: string; type: string; text?: string; status?: string };

// `calls` has no design document (nothing refuses a write); `users` has the views used below.

describe('#14 the store’s named operations (embedded store)', () => {
	it('reads, writes and refuses as CouchDB does, with the store’s status', async () => {
		const db = store.db<Note>('calls');
		expect(await db.find('note:missing')).toBeNull();
		await expect(db.get('note:missing')).rejects.toMatchObject({ statusCode: 404 });

		const { rev } = await db.insert({ _id: 'note:a/b c', type: 'note', text: 'one' });
		expect(await db.find('note:a/b c')).toMatchObject({
			_id: 'note:a/b c',
			_rev: rev,
			text: 'one'
		});
		// A write over an old revision is the store's 409, nothing written.
		const stale = await db.insert({ _id: 'note:a/b c', type: 'note', text: 'two' }).catch((e) => e);
		expect(stale).toBeInstanceOf(StoreError);
		expect((stale as StoreError).statusCode).toBe(409);
		expect((await db.get('note:a/b c')).text).toBe('one');
		// A revision the store cannot parse is "missing" to a replication door, not a failure.
		expect(await db.read('note:a/b c', new URLSearchParams({ rev: 'not-a-rev' }))).toBeNull();

		await db.destroy('note:a/b c', rev);
		await db.insert({ _id: 'note:b', type: 'note' });
		const many = await db.getMany(['note:a/b c', 'note:b', 'note:never']);
		expect([...many.keys()]).toEqual(['note:b']);
		const rows = await db.allDocs({ keys: ['note:b', 'note:never'], include_docs: true });
		expect(rows.rows.map((r) => r.error ?? r.id)).toEqual(['note:b', 'not_found']);
	});

	it('queries views by key and by many keys, and follows the changes', async () => {
		const db = store.db<Note>('users');
		const since = String(await db.updateSeq());
		await db.bulkDocs([
			{ _id: 'user:v1', type: 'user', status: 'pending' },
			{ _id: 'user:v2', type: 'user', status: 'disabled' }
		]);
		expect((await db.view('users_by_status', { key: 'pending' })).rows.map((r) => r.id)).toEqual([
			'user:v1'
		]);
		const both = await db.view('users_by_status', {
			keys: ['disabled', 'pending'],
			include_docs: true
		});
		expect(both.rows.map((r) => r.doc?._id)).toEqual(['user:v2', 'user:v1']);
		const changed = await db.changes({ since });
		expect(changed.results.map((c) => c.id).sort()).toEqual(['user:v1', 'user:v2']);
		expect(String(await db.updateSeq())).not.toBe(since);
	});

	it('stores replicated revisions as they are, and answers only those it did not store', async () => {
		const db = store.db<Note>('calls');
		const results = await db.bulkDocs(
			[
				{
					_id: 'note:r',
					type: 'note',
					text: 'x',
					_rev: '1-aaaa',
					_revisions: { start: 1, ids: ['aaaa'] }
				},
				{
					_id: 'note:r',
					type: 'note',
					text: 'y',
					_rev: '1-bbbb',
					_revisions: { start: 1, ids: ['bbbb'] }
				}
			],
			{ newEdits: false }
		);
		expect(results).toEqual([]);
		const winner = await db.getWithConflicts('note:r');
		expect([winner?._rev, ...(winner?._conflicts ?? [])].sort()).toEqual(['1-aaaa', '1-bbbb']);
		const leaves = await db.openRevs('note:r');
		expect(leaves.map((l) => ('ok' in l ? l.ok._rev : l.missing)).sort()).toEqual([
			'1-aaaa',
			'1-bbbb'
		]);
	});

	it('keeps _local documents apart, under ids that need encoding', async () => {
		const audit = store.db('audit');
		expect(await audit.local.get('quota:user:x')).toBeNull();
		const { rev } = await audit.local.put('quota:user:x', { count: 1 });
		expect(await audit.local.get('quota:user:x')).toMatchObject({ count: 1, _rev: rev });
		await expect(audit.local.put('quota:user:x', { count: 2 })).rejects.toMatchObject({
			statusCode: 409
		});
		// Never listed with the documents.
		expect((await audit.allDocs()).rows.some((r) => r.id.includes('quota'))).toBe(false);
		await audit.local.remove('quota:user:x');
		expect(await audit.local.get('quota:user:x')).toBeNull();
		await audit.local.remove('quota:user:x'); // gone already: nothing to do
	});

	it('streams a file, and answers null for a file or document that is not there', async () => {
		const db = store.db('calls');
		const bytes = Buffer.from('photo bytes');
		await db.insert({
			_id: 'att:t:1',
			type: 'att',
			_attachments: { photo: { content_type: 'image/jpeg', data: bytes.toString('base64') } }
		});
		const res = await db.attachment('att:t:1', 'photo');
		expect(res?.headers.get('content-type')).toBe('image/jpeg');
		expect(Buffer.from(await res!.arrayBuffer()).toString()).toBe('photo bytes');
		expect(await db.attachment('att:t:1', 'other')).toBeNull();
		expect(await db.attachment('att:none', 'photo')).toBeNull();
	});
});
