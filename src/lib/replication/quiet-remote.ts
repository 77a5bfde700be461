/**
 * PouchDB's replicator asks the remote's database info after every batch it pulls, only to count progress
 * for its active-tasks list, which this app never shows (issue #15: at 50 agents that was a request per
 * ticket delivered to each device). The remote answers it from its first answer for a while instead.
 */

/** The part of a PouchDB remote this uses. */
interface WithInfo<I> {
	info(): Promise<I>;
}

/** Makes `remote.info()` answer from memory for `ms` after each real request; returns the remote. */
export function quietInfo<I, R extends WithInfo<I>>(remote: R, ms = 10 * 60_000): R {
	const info = remote.info.bind(remote);
	let kept: { at: number; answer: Promise<I> } | null = null;
	remote.info = () => {
		if (kept && Date.now() - kept.at < ms) return kept.answer;
		const answer = info();
		kept = { at: Date.now(), answer };
		// A failed answer is not kept: the next call asks again.
		answer.catch(() => (kept = null));
		return answer;
	};
	return remote;
}
