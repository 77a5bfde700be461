/** Waits for a condition (polled, never a fixed sleep standing in for an event), or fails naming it. */
export const until = async (
	check: () => boolean | Promise<boolean>,
	what: string,
	timeoutMs = 10_000
) => {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const ok = await Promise.resolve()
			.then(check)
			.catch(() => false);
		if (ok) return;
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new Error(`timed out waiting for ${what}`);
};
