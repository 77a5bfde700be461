import { describe, expect, it } from 'vitest';
import { createFeedHub, winnerOf } from './feed-hub';
import type { Doc, Store, Written } from '../store';

describe('#16 the feed hub reads the winning revision from either store', () => {
	it('picks CouchDB’s winner among every leaf Apache CouchDB’s _bulk_get answers, in any order', () => {
		const live = { _id: 'a', _rev: '1-bbb' };
		const tombstone = { _id: 'a', _rev: '2-1b20', _deleted: true };
		const lower = { _id: 'a', _rev: '1-aaa' };
		// A deleted leaf with the longer history still loses to a live one (the merged-away conflict).
		expect(winnerOf([tombstone, live])).toBe(live);
		expect(winnerOf([live, tombstone])).toBe(live);
		// Between live leaves: the longer history, then the greater revision id.
		expect(winnerOf([lower, live])).toBe(live);
		expect(winnerOf([{ _id: 'a', _rev: '3-000' }, live])?._rev).toBe('3-000');
		// Only deleted leaves: the document is deleted.
		expect(winnerOf([tombstone])?._deleted).toBe(true);
		expect(winnerOf([])).toBeUndefined();
	});
});

/**
 * A store whose feed lags behind its writes, as a CouchDB cluster's may: `_changes` answers from a shard copy
 * a write reached `lag` reads later. Long-polls wait until aborted.
 */
function laggingStore(lag: number) {
	const docs: Doc[] = [];
	const shownAfter: number[] = [];
	let reads = 0;
	const listeners = new Set<(w: Written[]) => void>();
	const db = {
		changes(params: { since?: string; feed?: string }, options: { signal?: AbortSignal } = {}) {
			if (params.feed === 'longpoll') {
				return new Promise((_, reject) =>
					options.signal?.addEventListener('abort', () => reject(new Error('aborted')))
				);
			}
			reads++;
			const since = Number(params.since ?? 0);
			const shown = docs.map((d, i) => ({ d, seq: i + 1 })).filter((x) => x.seq > since);
			const ready = shown.filter((x) => shownAfter[x.seq - 1]! <= reads);
			const upTo = ready.findIndex((x, i) => x.seq !== shown[i]!.seq);
			const results = upTo === -1 ? ready : ready.slice(0, upTo);
			return Promise.resolve({
				results: results.map(({ d, seq }) => ({ id: d._id, seq, changes: [{ rev: d._rev }] })),
				last_seq: String(results.at(-1)?.seq ?? since)
			});
		},
		bulkGet(wanted: { id: string }[]) {
			const byId = new Map(docs.map((d) => [d._id, d]));
			return Promise.resolve(
				JSON.stringify({
					results: wanted.map(({ id }) => ({ id, docs: [{ ok: byId.get(id) }] }))
				})
			);
		}
	};
	return {
		store: {
			db: () => db,
			onWrite(_key: string, listener: (w: Written[]) => void) {
				listeners.add(listener);
				return () => listeners.delete(listener);
			}
		} as unknown as Store,
		/** A document written now: the feed shows it `lag` reads from now. */
		write(id: string) {
			docs.push({ _id: id, _rev: '1-a', type: 'ticket', visibleTo: ['department:center'] });
			shownAfter.push(reads + lag);
			for (const l of listeners) l([{ id, generation: 1 }]);
		},
		reads: () => reads
	};
}

describe('#16 the feed hub on a cluster whose feed lags behind a write', () => {
	it('answers a normal feed with what this server wrote just before, reading again until it shows', async () => {
		const lagging = laggingStore(3);
		const hub = createFeedHub({ store: lagging.store, dbKey: 'tickets' });
		await hub.ready;
		lagging.write('ticket:new');
		const before = lagging.reads();
		await hub.fresh();
		const ids = hub.scan(hub.position('0'), () => true, Infinity, false).results.map((r) => r.id);
		expect(ids).toEqual(['ticket:new']);
		expect(lagging.reads() - before).toBeGreaterThanOrEqual(3);
		await hub.stop();
	});
});
