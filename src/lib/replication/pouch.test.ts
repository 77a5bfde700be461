/**
 * #15 the browser's PouchDB without pouchdb-browser: a replica an earlier version kept in the `idb` adapter is
 * still read — moved whole into its `indexeddb` successor (every revision, so unsynced edits and conflicts
 * too) and then deleted. IndexedDB is fake-indexeddb here (test/setup/node.ts).
 */
import { expect, test } from 'vitest';

// pouchdb-browser reads the browser's `self`; Node has only `globalThis`.
(globalThis as { self?: unknown }).self ??= globalThis;
const { default: PouchDBBrowser } = await import('pouchdb-browser');
const { PouchDB, localReplicas, moveIdbReplica } = await import('./pouch');

interface Doc {
	_id: string;
	text: string;
}

test('#15 an idb replica moves into its indexeddb successor with every revision and conflict, then is gone', async () => {
	const old = new PouchDBBrowser<Doc>('cc-move-old', { adapter: 'idb' });
	const first = await old.put({ _id: 'ticket:1', text: 'recorded offline' });
	await old.put({ _id: 'ticket:1', _rev: first.rev, text: 'edited offline' });
	await old.put({ _id: 'ticket:2', text: 'never synced' });
	// Another device's concurrent edit of ticket:1, as replication brings it: a conflict.
	await old.bulkDocs(
		[{ _id: 'ticket:1', _rev: '2-ffffffffffffffffffffffffffffffff', text: 'elsewhere' }],
		{
			new_edits: false
		}
	);
	const before = await old.get('ticket:1', { conflicts: true });
	expect((await localReplicas()).has('cc-move-old')).toBe(true);

	const target = new PouchDB<Doc>('cc-move-new', { adapter: 'indexeddb' });
	await moveIdbReplica('cc-move-old', target);

	const moved = await target.get('ticket:1', { conflicts: true });
	expect({ rev: moved._rev, text: moved.text, conflicts: moved._conflicts }).toEqual({
		rev: before._rev,
		text: before.text,
		conflicts: before._conflicts
	});
	expect(moved._conflicts).toHaveLength(1);
	expect((await target.get('ticket:2')).text).toBe('never synced');
	const replicas = await localReplicas();
	expect(replicas.has('cc-move-old')).toBe(false);
	expect(replicas.has('cc-move-new')).toBe(true);
	await target.destroy();
});

test('#15 without an idb replica nothing moves and the successor stays as it was', async () => {
	const target = new PouchDB<Doc>('cc-move-none', { adapter: 'indexeddb' });
	await target.put({ _id: 'ticket:9', text: 'already here' });
	await moveIdbReplica('cc-move-missing', target);
	const all = await target.allDocs({ include_docs: true });
	expect(all.rows.map((r) => r.doc?.text)).toEqual(['already here']);
	expect((await localReplicas()).has('cc-move-missing')).toBe(false);
	await target.destroy();
});
