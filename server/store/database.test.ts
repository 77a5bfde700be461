import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

describe('#14 the store’s operations through nano keep the store’s own answers', () => {
	it('hands on the store’s refusal body as it is, and rejects a store that does not answer', async () => {
		const db = store.db<Note>('calls');
		await db.insert({ _id: 'note:body', type: 'note' });
		const refused = await db.insert({ _id: 'note:body', type: 'note' }).catch((e) => e);
		// What a replication door forwards: CouchDB's body, nothing nano adds to its Error.
		expect((refused as StoreError).body).toEqual({
			error: 'conflict',
			reason: expect.stringMatching(/^Document update conflict/)
		});
		const unreachable = await openStore(
			loadSettings({ DATA_DIR: dir, COUCHDB_URL: 'http://127.0.0.1:9/' })
		);
		const failed = await unreachable
			.db('calls')
			.find('note:body')
			.catch((e) => e);
		expect(failed).toBeInstanceOf(Error);
		expect(failed).not.toBeInstanceOf(StoreError);
	});

	it('keeps ids whole that hold `_local` or start with `_design`, and answers no rows for no keys', async () => {
		const db = store.db<Note>('calls');
		for (const id of ['note:x_local/y?z', '_designer #1']) {
			const { rev } = await db.insert({ _id: id, type: 'note', text: id });
			expect(await db.get(id)).toMatchObject({ _id: id, _rev: rev, text: id });
			await db.destroy(id, rev);
			expect(await db.find(id)).toBeNull();
		}
		expect((await db.allDocs({ keys: [] })).rows).toEqual([]);
		const users = store.db<Note>('users');
		expect((await users.view('users_by_status', { keys: [] })).rows).toEqual([]);
	});

	it('ends a long-poll of the changes when its signal aborts, also while the store is answering', async () => {
		const db = store.db<Note>('calls');
		const since = String(await db.updateSeq());
		for (const abortEarly of [true, false]) {
			const abort = new AbortController();
			const started = Date.now();
			const polling = db.changes(
				{ since, feed: 'longpoll', timeout: '60000' },
				{ signal: abort.signal }
			);
			// Late: the store has taken the long-poll (answered requests sent after it) and is waiting in it.
			if (!abortEarly) for (let i = 0; i < 3; i++) await db.updateSeq();
			abort.abort();
			await expect(polling).rejects.toMatchObject({ name: 'AbortError' });
			expect(Date.now() - started).toBeLessThan(30_000);
		}
	});

	it('ends a long-poll when its signal aborts after a garbage collection (nodejs/undici#3644)', async () => {
		setFlagsFromString('--expose-gc');
		const gc = runInNewContext('gc') as () => void;
		const db = store.db<Note>('calls');
		const since = String(await db.updateSeq());
		const abort = new AbortController();
		// Longer than the test's own time limit: only the abort can end it in time.
		const polling = db.changes(
			{ since, feed: 'longpoll', timeout: '60000' },
			{ signal: abort.signal }
		);
		await db.updateSeq();
		gc();
		abort.abort();
		await expect(polling).rejects.toMatchObject({ name: 'AbortError' });
	});
});
