import { describe, expect, it } from 'vitest';
import { normalizePhone } from './phone';

describe('normalizePhone', () => {
	it('gives one form for the many ways a mobile number is written', () => {
		for (const raw of [
			'13812345678',
			'138 1234 5678',
			'138-1234-5678',
			'+86 138 1234 5678',
			'0086 13812345678',
			'8613812345678',
			'（138）12345678',
			'１３８１２３４５６７８'
		]) {
			expect(normalizePhone(raw), raw).toBe('13812345678');
		}
	});

	it('keeps the area code of a landline, with its 0, whatever the format', () => {
		for (const raw of [
			'0571-88886666',
			'(0571) 8888 6666',
			'+86 571 8888 6666',
			'0086-571-88886666'
		]) {
			expect(normalizePhone(raw), raw).toBe('057188886666');
		}
		expect(normalizePhone('010-12345678')).toBe('01012345678');
	});

	it('drops extensions and keeps short local numbers as they are', () => {
		expect(normalizePhone('0571-88886666转123')).toBe('057188886666');
		expect(normalizePhone('0571-88886666 ext. 5')).toBe('057188886666');
		expect(normalizePhone('88886666')).toBe('88886666');
		expect(normalizePhone('96123')).toBe('96123');
		expect(normalizePhone('')).toBe('');
	});
});
