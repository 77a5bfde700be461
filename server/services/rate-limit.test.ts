import { describe, expect, it } from 'vitest';
import { createFailureLimiter } from './rate-limit';

describe('failure limiter', () => {
	it('blocks a key after max failures until the oldest ages out, and success clears it', () => {
		const limiter = createFailureLimiter({ max: 2, windowMs: 1_000 });
		limiter.fail(['k'], 0);
		expect(limiter.retryAfterMs(['k'], 10)).toBe(0);
		limiter.fail(['k'], 100);
		expect(limiter.retryAfterMs(['k'], 200)).toBe(800);
		expect(limiter.retryAfterMs(['k'], 1_001)).toBe(0);
		limiter.fail(['k'], 1_100);
		limiter.succeed(['k']);
		expect(limiter.retryAfterMs(['k'], 1_101)).toBe(0);
		expect(limiter.retryAfterMs(['other'], 200)).toBe(0);
	});

	it('#13 counts an attempt before it is checked, so parallel guesses stop at the limit', () => {
		const limiter = createFailureLimiter({ max: 3, windowMs: 1_000 });
		const reservations = Array.from({ length: 10 }, () => limiter.reserve(['k'], 0));
		expect(reservations.filter(Boolean)).toHaveLength(3);
		expect(limiter.retryAfterMs(['k'], 1)).toBe(999);
		// A success takes its own attempt back; the others stay counted.
		reservations[0]!();
		expect(limiter.retryAfterMs(['k'], 1)).toBe(0);
		expect(limiter.reserve(['k', 'other'], 2)).not.toBeNull();
		expect(limiter.reserve(['k', 'other'], 3)).toBeNull();
	});
});
