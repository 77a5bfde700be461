/**
 * Failed sign-in counting per key (user name and client address), in memory, over a sliding window.
 * A key over the limit is refused before the password is even checked, until its oldest failure ages out.
 */
export function createFailureLimiter({ max, windowMs }: { max: number; windowMs: number }) {
	const failures = new Map<string, number[]>();
	const recent = (key: string, now: number) =>
		(failures.get(key) ?? []).filter((t) => t > now - windowMs);

	return {
		/** Milliseconds until the key may try again, or 0 when it may try now. */
		retryAfterMs(keys: string[], now = Date.now()): number {
			let wait = 0;
			for (const key of keys) {
				const list = recent(key, now);
				if (list.length >= max) wait = Math.max(wait, list[0]! + windowMs - now);
			}
			return wait;
		},
		fail(keys: string[], now = Date.now()): void {
			for (const key of keys) failures.set(key, [...recent(key, now), now]);
			if (failures.size > 50_000) {
				for (const [k] of failures) if (recent(k, now).length === 0) failures.delete(k);
			}
		},
		succeed(keys: string[]): void {
			for (const key of keys) failures.delete(key);
		}
	};
}
export type FailureLimiter = ReturnType<typeof createFailureLimiter>;
