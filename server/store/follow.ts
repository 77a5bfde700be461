/**
 * Follows one database's `_changes` feed (long-poll, in batches) and hands each batch to `onBatch`, which
 * persists its own checkpoint — the conflict resolver and the customer search index both run on this.
 * Errors are logged and retried; `stop()` ends the loop and waits for the batch in hand.
 */
import type { DbKey, Store } from './index';

const LONGPOLL_MS = 25_000;
const RETRY_MS = 2_000;

export interface Change<D> {
	id: string;
	seq: string | number;
	deleted?: boolean;
	doc?: D;
}

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
	const db = store.dbName(key);
	let stopped = false;
	let abort = new AbortController();
	let pauses = 0;
	let resumed: Promise<void> | null = null;
	let wakeUp = () => {};
	const params = new URLSearchParams({ feed: 'longpoll', timeout: String(LONGPOLL_MS) });
	if (options.includeDocs) params.set('include_docs', 'true');
	if (options.conflicts) params.set('conflicts', 'true');
	if (options.batchSize) params.set('limit', String(options.batchSize));

	async function loop() {
		let since = await options.since();
		while (!stopped) {
			if (resumed) await resumed;
			if (stopped) return;
			try {
				params.set('since', since);
				const res = await store.fetch(`/${db}/_changes?${params}`, {
					headers: { accept: 'application/json' },
					signal: abort.signal
				});
				if (!res.ok) throw new Error(`_changes answered ${res.status}`);
				const body = (await res.json()) as { results: Change<D>[]; last_seq: string | number };
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
