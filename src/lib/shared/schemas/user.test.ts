import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { normalizeUsername, Registration } from './user';

const valid = {
	username: ' Zhang.San ',
	password: 'long-enough',
	name: ' 张三 ',
	departmentId: 'department:center',
	birthDate: '1990-05-06',
	phone: '+86 571-8888-6666',
	email: ''
};

describe('registration schema', () => {
	it('trims and normalises what it accepts', () => {
		const out = v.parse(Registration, valid);
		expect(out.username).toBe('Zhang.San');
		expect(out.name).toBe('张三');
	});

	it('user names compare without case, width and spaces', () => {
		expect(normalizeUsername(' ＺｈａｎｇＳａｎ ')).toBe('zhangsan');
	});

	it('refuses dates in the future and impossible dates', () => {
		const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
		expect(v.safeParse(Registration, { ...valid, birthDate: tomorrow }).issues?.[0]?.message).toBe(
			'date_future'
		);
		expect(
			v.safeParse(Registration, { ...valid, birthDate: '2001-02-29' }).issues?.[0]?.message
		).toBe('date_invalid');
	});

	it('accepts Chinese user names but not markup', () => {
		expect(v.safeParse(Registration, { ...valid, username: '张三' }).success).toBe(true);
		expect(v.safeParse(Registration, { ...valid, username: '<b>x</b>' }).success).toBe(false);
	});
});
