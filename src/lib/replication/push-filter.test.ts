import { describe, expect, it } from 'vitest';
import { createPushFilter, type FilteredLocal, type FilteredRemote } from './push-filter';

/** A device whose changes since the last push are `changed` (id → leaves, winner first). */
const localWith = (changed: Record<string, string[]>, lastSeq = 42): FilteredLocal => ({
	changes: () =>
		Promise.resolve({
			results: Object.entries(changed).map(([id, leaves]) => ({
				id,
				changes: leaves.map((rev) => ({ rev }))
			})),
			last_seq: lastSeq
		})
});

/** A server that lacks `lacking` revisions, or none that answers (`null`). */
function serverLacking(
	lacking: string[] | null,
	handsOver: [string, string][] = []
): FilteredRemote {
	return {
		bulkGet: () =>
			Promise.resolve({
				results: handsOver.map(([id, rev]) => ({ id, docs: [{ ok: { _id: id, _rev: rev } }] }))
			}),
		revsDiff: (asked) => {
			if (lacking === null) return Promise.reject(new Error('offline'));
			return Promise.resolve(
				Object.fromEntries(
					Object.entries(asked).flatMap(([id, revs]) => {
						const missing = revs.filter((r) => lacking.includes(r));
						return missing.length ? [[id, { missing }]] : [];
					})
				)
			);
		}
	};
}

describe('#15 the push filter', () => {
	it('holds back the revision the server handed over, unless the device wrote the document', async () => {
		const filter = createPushFilter();
		const remote = filter.watch(
			serverLacking(
				[],
				[
					['ticket:a', '2-a'],
					['ticket:b', '1-b']
				]
			)
		);
		await remote.bulkGet({});
		expect(filter.filter({ _id: 'ticket:a', _rev: '2-a' })).toBe(false);
		expect(filter.filter({ _id: 'ticket:a', _rev: '3-local' })).toBe(true);
		expect(filter.filter({ _id: 'ticket:c', _rev: '1-c' })).toBe(true);
		filter.written('ticket:b');
		expect(filter.filter({ _id: 'ticket:b', _rev: '1-b' })).toBe(true);
	});

	it('at a start, settles every leaf with the server: a missing leaf is offered, and the push does not move on', async () => {
		const filter = createPushFilter();
		const local = localWith({ 'ticket:a': ['3-server', '2-mine'], 'ticket:b': ['1-b'] });
		expect(await filter.prepare(local, serverLacking(['2-mine']), 0)).toBeNull();
		expect(filter.filter({ _id: 'ticket:a', _rev: '3-server' })).toBe(true);
		expect(filter.filter({ _id: 'ticket:b', _rev: '1-b' })).toBe(false);
	});

	it('moves the push on when the server has everything, and offers everything when it does not answer', async () => {
		const settled = createPushFilter();
		const local = localWith({ 'ticket:a': ['2-a'] }, 7);
		expect(await settled.prepare(local, serverLacking([]), 0)).toBe(7);
		expect(settled.filter({ _id: 'ticket:a', _rev: '2-a' })).toBe(false);

		const offline = createPushFilter();
		expect(await offline.prepare(local, serverLacking(null), 0)).toBeNull();
		expect(offline.filter({ _id: 'ticket:a', _rev: '2-a' })).toBe(true);
	});
});
