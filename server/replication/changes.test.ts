import { describe, expect, it } from 'vitest';
import { clampChangesQuery, coalesceMs } from './changes';
import { REPLICATION_LIMITS as L } from './limits';

describe('#13 a device’s _changes query is bounded', () => {
	it('heartbeat, timeout and limit are clamped; a long-poll always has a timeout; other parameters go', () => {
		const asked = new URLSearchParams(
			'feed=longpoll&since=3&heartbeat=1&limit=1000000&style=all_docs&filter=_view&attachments=true'
		);
		expect(Object.fromEntries(clampChangesQuery(asked, 'longpoll'))).toEqual({
			since: '3',
			limit: String(L.changesLimit),
			feed: 'longpoll',
			heartbeat: String(L.heartbeatMinMs),
			timeout: String(L.feedTimeoutMaxMs),
			style: 'all_docs'
		});
		const normal = clampChangesQuery(
			new URLSearchParams('heartbeat=99999999&timeout=99999999&limit=0'),
			null
		);
		expect(Object.fromEntries(normal)).toEqual({
			heartbeat: String(L.heartbeatMaxMs),
			timeout: String(L.feedTimeoutMaxMs),
			limit: '1'
		});
		expect(clampChangesQuery(new URLSearchParams('limit=abc'), null).has('limit')).toBe(false);
	});
});

describe('#15 a woken long-poll gathers changes longer as more devices wait', () => {
	it('answers after the minimum with few devices, up to a second with hundreds', () => {
		expect(coalesceMs(6, 50)).toBe(50);
		expect(coalesceMs(50, 50)).toBe(150);
		expect(coalesceMs(300, 50)).toBe(900);
		expect(coalesceMs(5_000, 50)).toBe(1_000);
	});
});
