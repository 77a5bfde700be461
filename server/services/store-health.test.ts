import { afterEach, describe, expect, it, vi } from 'vitest';
import { createStoreHealth } from './store-health';

/** A store whose `config` database answers `updateSeq` as `answer` says. */
function fakeStore(answer: () => Promise<string | number>) {
	const updateSeq = vi.fn(answer);
	return { store: { db: () => ({ updateSeq }) } as never, updateSeq };
}

afterEach(() => {
	vi.useRealTimers();
});

describe('#16 the store check behind /api/health', () => {
	it('says reachable with the time the store took, and asks once for probes close together', async () => {
		const { store, updateSeq } = fakeStore(() => Promise.resolve('42'));
		const health = createStoreHealth(store);
		const [a, b] = await Promise.all([health.check(), health.check()]);
		expect(a).toMatchObject({ reachable: true, detail: '' });
		expect(a.ms).toBeGreaterThanOrEqual(0);
		expect(b).toBe(a);
		await health.check();
		expect(updateSeq).toHaveBeenCalledTimes(1);
	});

	it('says unreachable, and why, when the store refuses or fails', async () => {
		const { store } = fakeStore(() =>
			Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5984'))
		);
		expect(await createStoreHealth(store).check()).toEqual({
			reachable: false,
			ms: null,
			detail: 'connect ECONNREFUSED 127.0.0.1:5984'
		});
	});

	it('says unreachable when the store does not answer in time, and asks again once the answer is old', async () => {
		vi.useFakeTimers();
		let hang = true;
		const { store, updateSeq } = fakeStore(() =>
			hang ? new Promise<never>(() => {}) : Promise.resolve(7)
		);
		const health = createStoreHealth(store, {
			timeoutMs: 2_000,
			keepMs: 1_000,
			now: () => Date.now()
		});
		const pending = health.check();
		await vi.advanceTimersByTimeAsync(2_000);
		expect(await pending).toMatchObject({ reachable: false, detail: 'no answer within 2000 ms' });
		hang = false;
		expect((await health.check()).reachable).toBe(false); // still the kept answer
		await vi.advanceTimersByTimeAsync(1_000);
		expect((await health.check()).reachable).toBe(true);
		expect(updateSeq).toHaveBeenCalledTimes(2);
	});
});
