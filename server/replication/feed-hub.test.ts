import { describe, expect, it } from 'vitest';
import { winnerOf } from './feed-hub';

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
