/**
 * #18 F23 故障公告: which fault notices are in force, and for whom. The agents' desks show those in force now;
 * the voice menu speaks those for the caller's areas before its first node.
 */
import type { NoticeDoc } from './docs/config';

const sameArea = (a: string, b: string) =>
	a.normalize('NFKC').trim().toLowerCase() === b.normalize('NFKC').trim().toLowerCase();

export type NoticeState = 'upcoming' | 'active' | 'ended';

export function noticeState(
	notice: Pick<NoticeDoc, 'startsAt' | 'endsAt'>,
	now: number
): NoticeState {
	if (now < Date.parse(notice.startsAt)) return 'upcoming';
	return now < Date.parse(notice.endsAt) ? 'active' : 'ended';
}

/** In force now, earliest first. */
export function activeNotices<T extends NoticeDoc>(notices: readonly T[], now: number): T[] {
	return notices
		.filter((n) => noticeState(n, now) === 'active')
		.sort((a, b) => a.startsAt.localeCompare(b.startsAt));
}

/** In force now for someone in one of `areas` (a notice without areas is for everyone). */
export function noticesFor<T extends NoticeDoc>(
	notices: readonly T[],
	areas: readonly string[],
	now: number
): T[] {
	return activeNotices(notices, now).filter(
		(n) => n.areas.length === 0 || n.areas.some((a) => areas.some((b) => sameArea(a, b)))
	);
}
