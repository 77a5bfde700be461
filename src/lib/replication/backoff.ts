/**
 * Retry delays of live replication after an error (server restarting, network gone): PouchDB's default
 * grows towards ten minutes, which would break "within seconds" once the network is back. Here it grows
 * from half a second to at most five, with jitter so that devices do not retry in step.
 */
export const RETRY_MAX_MS = 5_000;

export function backOff(previous: number): number {
	const next = previous === 0 ? 500 : Math.min(previous * 2, RETRY_MAX_MS);
	return Math.round(next * (0.8 + Math.random() * 0.4));
}
