/**
 * Follows one database's `_changes` feed (long-poll, in batches) and hands each batch to `onBatch`, which
 * persists its own checkpoint — the conflict resolver and the customer search index both run on this.
 * Errors are logged and retried; `stop()` ends the loop and waits for the batch in hand.
 */
import type { Change, ChangesParams } from './database';
import type { DbKey, Store } from './index';

export type { Change } from './database';

const LONGPOLL_MS = 25_000;
const RETRY_MS = 2_000;

export interface FollowOptions<D> {
	name: string;
	/** Where to start (a sequence from the last checkpoint, or '0'). */
	since: () => Promise<string>;
	onBatch: (changes: Change<D>[], lastSeq: string, signal: AbortSignal) => Promise<void>;
	includeDocs?: boolean;
	conflicts?: boolean;
	batchSize?: number;
	log?: (msg: string) => void;
}

export function followChanges<D>(store: Store, key: DbKey, options: FollowOptions<D>) {
	const db = store.db<D & object>(key);
	let stopped = false;
	let abort = new AbortController();
	let pauses = 0;
	let resumed: Promise<void> | null = null;
	let wakeUp = () => {};
	/** When the store last answered this feed (ms since epoch; 0: not yet). */
	let answeredAt = 0;
	const params: ChangesParams = { feed: 'longpoll', timeout: String(LONGPOLL_MS) };
	if (options.includeDocs) params.include_docs = 'true';
	if (options.conflicts) params.conflicts = 'true';
	if (options.batchSize) params.limit = String(options.batchSize);

	async function loop() {
		// Where to start is asked inside the loop: a store away at start is retried like any other failure.
		let since = '';
		let reread = true;
		while (!stopped) {
			if (resumed) {
				await resumed;
				// Whoever paused the feed may have moved the checkpoint on (an import that indexed its own
				// writes): go on from there, not from where the feed stopped.
				reread = true;
			}
			if (stopped) return;
			try {
				if (reread) {
					since = await options.since();
					reread = false;
				}
				const body = await db.changes({ ...params, since }, { signal: abort.signal });
				answeredAt = Date.now();
				const lastSeq = String(body.last_seq);
				if (body.results.length > 0 || lastSeq !== since) {
					await options.onBatch(body.results, lastSeq, abort.signal);
				}
				since = lastSeq;
			} catch (err) {
				if (stopped) return;
				if (resumed) {
					abort = new AbortController();
					continue;
				}
				options.log?.(`${options.name}: ${(err as Error).message}; retrying`);
				await new Promise((r) => setTimeout(r, RETRY_MS));
				abort = new AbortController();
			}
		}
	}

	const running = loop();
	return {
		/**
		 * Whether the feed is live: the store answered it within one long-poll (plus `slackMs`), so what was
		 * written before then has been handed to `onBatch` or is in the batch at hand.
		 */
		live(slackMs = 5_000): boolean {
			return !stopped && !resumed && Date.now() - answeredAt <= LONGPOLL_MS + slackMs;
		},
		/** Stops reading the feed until every `pause()` has been matched by `resume()`. */
		pause() {
			if (pauses++ === 0) {
				resumed = new Promise((resolve) => (wakeUp = resolve));
				abort.abort();
			}
		},
		resume() {
			if (pauses > 0 && --pauses === 0) {
				resumed = null;
				wakeUp();
			}
		},
		async stop() {
			stopped = true;
			abort.abort();
			wakeUp();
			await running.catch(() => {});
		}
	};
}
