import { describe, expect, it } from 'vitest';
import type { NoticeDoc } from './docs/config';
import { activeNotices, noticeState, noticesFor } from './notices';

const at = Date.parse('2026-12-02T10:00:00Z');
const notice = (id: string, areas: string[], from: number, to: number): NoticeDoc => ({
	_id: `notice:${id}`,
	type: 'notice',
	name: id,
	text: `${id}。`,
	areas,
	startsAt: new Date(at + from * 60_000).toISOString(),
	endsAt: new Date(at + to * 60_000).toISOString()
});

describe('#18 F23 fault notices in force', () => {
	it('is upcoming before its start, in force from its start, ended from its end', () => {
		const n = notice('a', [], 0, 60);
		expect(noticeState(n, at - 1)).toBe('upcoming');
		expect(noticeState(n, at)).toBe('active');
		expect(noticeState(n, at + 60 * 60_000 - 1)).toBe('active');
		expect(noticeState(n, at + 60 * 60_000)).toBe('ended');
	});

	it('lists those in force, earliest first; a caller hears those of their areas and those for everyone', () => {
		const east = notice('east', ['城东片区'], -30, 60);
		const west = notice('west', ['城西片区', '滨江区'], -10, 60);
		const all = notice('all', [], -60, 60);
		const over = notice('over', ['城东片区'], -120, -1);
		const later = notice('later', ['城东片区'], 5, 60);
		const notices = [east, west, all, over, later];
		expect(activeNotices(notices, at).map((n) => n.name)).toEqual(['all', 'east', 'west']);
		// Area names compare as people type them: full-width, spaces and case do not matter.
		expect(noticesFor(notices, [' 城东片区 '], at).map((n) => n.name)).toEqual(['all', 'east']);
		expect(noticesFor(notices, ['ＢＩＮ', '滨江区'], at).map((n) => n.name)).toEqual([
			'all',
			'west'
		]);
		expect(noticesFor(notices, [], at).map((n) => n.name)).toEqual(['all']);
	});
});
