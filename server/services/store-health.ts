/**
 * Whether the store answers (#16 `/api/health`): a load balancer or a monitor must see a server whose store is
 * gone as down, not "ok". One cheap question (the `config` database's update sequence) with a deadline; the
 * answer is kept for a moment, and concurrent probes share one question, so frequent health checks cost the
 * store next to nothing.
 */
import type { Store } from '../store';

export interface StoreCheck {
	reachable: boolean;
	/** How long the store took to answer; null when it did not. */
	ms: number | null;
	/** Why not, when not reachable ('' otherwise). */
	detail: string;
}

export function createStoreHealth(
	store: Pick<Store, 'db'>,
	{
		timeoutMs = 2_000,
		keepMs = 1_000,
		now = () => performance.now()
	}: { timeoutMs?: number; keepMs?: number; now?: () => number } = {}
) {
	let last: { at: number; check: StoreCheck } | null = null;
	let asking: Promise<StoreCheck> | null = null;

	async function ask(): Promise<StoreCheck> {
		const started = now();
		let timer: ReturnType<typeof setTimeout> | undefined;
		const deadline = new Promise<never>((_, reject) => {
			timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
		});
		try {
			await Promise.race([store.db('config').updateSeq(), deadline]);
			return { reachable: true, ms: Math.round(now() - started), detail: '' };
		} catch (err) {
			return { reachable: false, ms: null, detail: (err as Error).message.slice(0, 200) };
		} finally {
			clearTimeout(timer);
		}
	}

	return {
		check(): Promise<StoreCheck> {
			if (last && now() - last.at < keepMs) return Promise.resolve(last.check);
			asking ??= ask().then((check) => {
				last = { at: now(), check };
				asking = null;
				return check;
			});
			return asking;
		}
	};
}
export type StoreHealth = ReturnType<typeof createStoreHealth>;
