/**
 * Failed sign-in counting per key (an account, a client address, both), in memory, over a sliding window.
 * An attempt is counted the moment it starts (`reserve`), before the password is hashed, and taken back
 * when it succeeds: many guesses sent at once cannot all get through while the first are still being
 * checked (issue #13: 300 parallel guesses were all checked).
 */
export function createFailureLimiter({ max, windowMs }: { max: number; windowMs: number }) {
	const failures = new Map<string, number[]>();
	const recent = (key: string, now: number) =>
		(failures.get(key) ?? []).filter((t) => t > now - windowMs);

	function prune(now: number) {
		if (failures.size <= 50_000) return;
		for (const [k] of failures) if (recent(k, now).length === 0) failures.delete(k);
	}

	return {
		/** Milliseconds until the keys may try again, or 0 when they may try now. */
		retryAfterMs(keys: string[], now = Date.now()): number {
			let wait = 0;
			for (const key of keys) {
				const list = recent(key, now);
				if (list.length >= max) wait = Math.max(wait, list[0]! + windowMs - now);
			}
			return wait;
		},
		/**
		 * Counts an attempt on every key now, or none when one of them is at its limit (null). The returned
		 * function takes the attempt back (it succeeded, or was not a guess).
		 */
		reserve(keys: string[], now = Date.now()): (() => void) | null {
			if (this.retryAfterMs(keys, now) > 0) return null;
			for (const key of keys) failures.set(key, [...recent(key, now), now]);
			prune(now);
			return () => {
				for (const key of keys) {
					const list = failures.get(key);
					const i = list?.lastIndexOf(now) ?? -1;
					if (list && i >= 0) list.splice(i, 1);
					if (list?.length === 0) failures.delete(key);
				}
			};
		},
		fail(keys: string[], now = Date.now()): void {
			for (const key of keys) failures.set(key, [...recent(key, now), now]);
			prune(now);
		},
		succeed(keys: string[]): void {
			for (const key of keys) failures.delete(key);
		}
	};
}
export type FailureLimiter = ReturnType<typeof createFailureLimiter>;
