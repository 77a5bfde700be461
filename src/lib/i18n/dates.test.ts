import { afterEach, expect, test } from 'vitest';
import { dateTime, shortDateTime } from './dates';

const zone = process.env.TZ;
afterEach(() => {
	process.env.TZ = zone;
});

test('#17 a moment shows in the local time zone, in one form whatever the locale', () => {
	process.env.TZ = 'Asia/Shanghai';
	expect(dateTime('2026-11-30T23:05:00.000Z')).toBe('2026-12-01 07:05');
	expect(shortDateTime('2026-11-30T23:05:00.000Z')).toBe('12-01 07:05');
	process.env.TZ = 'America/New_York';
	expect(dateTime('2026-11-30T23:05:00.000Z')).toBe('2026-11-30 18:05');
	expect(dateTime('not a date')).toBe('not a date');
});
