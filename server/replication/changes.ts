/**
 * `_changes`: always the server's own rule (the policy's), never the caller's filter; normal and
 * long-poll feeds only, their heartbeat, timeout and limit clamped; a caller holds at most `feedsPerOwner`
 * live feeds at once, and a live feed ends with the caller's sign-in (`watch`). Where the database has a
 * feed hub and the policy says what is `visible`, the answer comes from the hub's memory (`feed-hub.ts`);
 * otherwise it is the store's own feed under the policy's selector.
 */
import type { ChangesParams, Database } from '../store';
import { couchError, json, pick, relay } from './answers';
import type { FeedHub, FeedView, HubEntry } from './feed-hub';
import { REPLICATION_LIMITS } from './limits';
import type { Caller, ReplicationPolicy } from './policy';

const CHANGES_PARAMS = [
	'since',
	'limit',
	'feed',
	'heartbeat',
	'timeout',
	'style',
	'seq_interval',
	'include_docs',
	'conflicts'
];

/** A whole-number query parameter clamped into [min, max]; absent stays absent unless `fallback`. */
function clamp(query: URLSearchParams, name: string, min: number, max: number, fallback?: number) {
	const raw = query.get(name);
	const n = raw === null ? NaN : Number(raw);
	if (Number.isFinite(n)) query.set(name, String(Math.min(max, Math.max(min, Math.floor(n)))));
	else if (fallback !== undefined) query.set(name, String(fallback));
	else query.delete(name);
}

/** The query a device's `_changes` is answered with: the parameters passed on, bounded. */
export function clampChangesQuery(params: URLSearchParams, feed: string | null): URLSearchParams {
	const query = pick(params, CHANGES_PARAMS);
	const L = REPLICATION_LIMITS;
	clamp(query, 'limit', 1, L.changesLimit);
	clamp(query, 'heartbeat', L.heartbeatMinMs, L.heartbeatMaxMs);
	clamp(
		query,
		'timeout',
		1,
		L.feedTimeoutMaxMs,
		feed === 'longpoll' ? L.feedTimeoutMaxMs : undefined
	);
	return query;
}

/** How long a woken long-poll gathers more changes, per device waiting, and at most (ms). */
const COALESCE_PER_WAITER_MS = 3;
const COALESCE_MAX_MS = 1_000;

/**
 * How long a woken long-poll waits for more changes before it answers: `minMs` with few devices, longer
 * as more wait (up to a second at ~330), so that under load each answer carries several changes instead of
 * one request per change per device (#15: at 300 agents, 10 new tickets a second were 3,000 answers a
 * second, each followed by a `_bulk_get`).
 */
export function coalesceMs(waiting: number, minMs: number): number {
	return Math.min(COALESCE_MAX_MS, Math.max(minMs, waiting * COALESCE_PER_WAITER_MS));
}

/** The `_changes` endpoint, counting the live feeds each caller holds open. */
export function createChanges({
	debounceMs = 50
}: {
	/** How long a woken long-poll waits for more changes before it answers, at least (`coalesceMs`). */
	debounceMs?: number;
} = {}) {
	const feeds = new Map<string, number>();

	/** `GET|POST _changes` of `request` (whose signal ends the store's feed when the caller goes). */
	return async function changes(
		db: Database,
		policy: ReplicationPolicy,
		request: Request,
		caller: Pick<Caller, 'owner' | 'watch'>,
		/** The database's feed hub, when it serves this caller (the policy says what is `visible`). */
		hub?: FeedHub
	): Promise<Response> {
		const url = new URL(request.url);
		const filter = url.searchParams.get('filter');
		let docIds: string[] | undefined;
		if (filter === '_doc_ids') {
			const body =
				request.method === 'POST'
					? ((await request.json().catch(() => ({}))) as { doc_ids?: unknown })
					: {};
			const raw = body.doc_ids ?? JSON.parse(url.searchParams.get('doc_ids') ?? '[]');
			if (!Array.isArray(raw) || raw.some((id) => typeof id !== 'string')) {
				return couchError(400, 'bad_request', 'doc_ids must be a list of ids');
			}
			docIds = [...new Set(raw as string[])];
			if (docIds.length > REPLICATION_LIMITS.docIds) {
				return couchError(400, 'bad_request', `At most ${REPLICATION_LIMITS.docIds} doc_ids`);
			}
		} else if (
			filter !== null ||
			url.searchParams.has('view') ||
			url.searchParams.has('selector')
		) {
			return couchError(400, 'bad_request', 'Replication filters are chosen by the server');
		}
		const feed = url.searchParams.get('feed');
		if (feed && feed !== 'normal' && feed !== 'longpoll') {
			return couchError(400, 'bad_request', 'Only normal and longpoll feeds are served');
		}
		const query = clampChangesQuery(url.searchParams, feed);
		const L = REPLICATION_LIMITS;
		if (hub && (query.get('include_docs') === 'true' || query.get('conflicts') === 'true')) {
			// PouchDB's replicator reads documents with _bulk_get; nothing else replicates through here.
			return couchError(400, 'bad_request', 'include_docs is not served; use _bulk_get');
		}
		// A live feed is bounded per caller and ends with the caller's sign-in.
		const owner = feed === 'longpoll' && caller.owner !== undefined ? caller.owner : null;
		if (owner !== null) {
			const open = feeds.get(owner) ?? 0;
			if (open >= L.feedsPerOwner) {
				return couchError(429, 'too_many_requests', 'Too many live feeds open at once');
			}
			feeds.set(owner, open + 1);
		}
		const abort = new AbortController();
		const onAbort = () => abort.abort();
		request.signal.addEventListener('abort', onAbort);
		const unwatch = caller.watch ? caller.watch(onAbort) : () => {};
		const done = () => {
			request.signal.removeEventListener('abort', onAbort);
			unwatch();
			if (owner === null) return;
			const left = (feeds.get(owner) ?? 1) - 1;
			if (left > 0) feeds.set(owner, left);
			else feeds.delete(owner);
		};
		if (hub) {
			const visible = policy.visible!.bind(policy);
			const only = docIds ? new Set(docIds) : null;
			return fromHub(hub, query, feed === 'longpoll', abort.signal, done, {
				visible: only ? (e, view) => only.has(e.id) && visible(e, view) : visible,
				debounceMs,
				tag: policy.positionTag
			});
		}
		let res: Response;
		try {
			res = await db.changesFeed(Object.fromEntries(query) as ChangesParams, {
				selector: policy.selector(docIds),
				signal: abort.signal
			});
		} catch (err) {
			done();
			if (abort.signal.aborted) return couchError(401, 'unauthorized', 'The feed ended');
			throw err;
		}
		return new Response(relay(res.body, done), {
			status: res.status,
			headers: { 'content-type': 'application/json' }
		});
	};
}

/**
 * The hub position in a caller's `since`, without the tag it was handed out with: a position given under
 * other scopes is a first listing (`0`), as a checkpoint of other scopes was before devices kept their own.
 */
function untagged(since: string | null, tag: string | undefined): string | null {
	if (!tag || since === null) return since;
	const dot = since.lastIndexOf('.');
	if (dot < 0) return since;
	return since.slice(dot + 1) === tag ? since.slice(0, dot) : '0';
}

/**
 * A `_changes` answer from the feed hub's memory: at once when something after `since` is visible (or the
 * feed is not a long-poll), otherwise when the hub next sees a visible change, at the timeout, or never (the
 * caller went or its sign-in ended: the stream just ends). Heartbeats are newlines, as CouchDB's.
 */
async function fromHub(
	hub: FeedHub,
	query: URLSearchParams,
	longpoll: boolean,
	signal: AbortSignal,
	done: () => void,
	{
		visible,
		debounceMs,
		tag
	}: {
		visible: (entry: HubEntry, view: FeedView) => boolean;
		debounceMs: number;
		/** `ReplicationPolicy.positionTag`. */
		tag: string | undefined;
	}
): Promise<Response> {
	const ended = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
	// A normal feed includes everything the store held when it was asked, and `since=now` means the store's
	// now (not how far the hub has read); any other long-poll is woken by the rest.
	const current = !longpoll || query.get('since') === 'now';
	await Promise.race([current ? hub.ready.then(() => hub.fresh()) : hub.ready, ended]);
	if (signal.aborted) {
		done();
		return couchError(401, 'unauthorized', 'The feed ended');
	}
	const since = hub.position(untagged(query.get('since'), tag));
	const limit = query.has('limit') ? Number(query.get('limit')) : Infinity;
	const allRevs = query.get('style') === 'all_docs';
	const scan = () => {
		const { results, lastSeq } = hub.scan(since, visible, limit, allRevs);
		if (!tag) return { results, lastSeq };
		return {
			results: results.map((c) => ({ ...c, seq: `${c.seq}.${tag}` })),
			lastSeq: `${lastSeq}.${tag}`
		};
	};
	const answer = () => {
		const { results, lastSeq } = scan();
		return JSON.stringify({ results, last_seq: lastSeq, pending: 0 }) + '\n';
	};
	const first = scan();
	if (!longpoll || first.results.length > 0) {
		done();
		return json({ results: first.results, last_seq: first.lastSeq, pending: 0 });
	}
	const encoder = new TextEncoder();
	let finish = () => {};
	const body = new ReadableStream<Uint8Array>({
		start(controller) {
			let over = false;
			const heartbeatMs = Number(query.get('heartbeat') ?? NaN);
			const beat = Number.isFinite(heartbeatMs)
				? setInterval(() => controller.enqueue(encoder.encode('\n')), heartbeatMs)
				: null;
			const end = (text: string | null) => {
				if (over) return;
				over = true;
				if (beat) clearInterval(beat);
				clearTimeout(timer);
				cancel();
				signal.removeEventListener('abort', gone);
				done();
				try {
					if (text !== null) controller.enqueue(encoder.encode(text));
					controller.close();
				} catch {
					// The caller already went.
				}
			};
			const gone = () => end(null);
			const cancel = hub.wait(
				since,
				visible,
				() => end(answer()),
				coalesceMs(hub.stats().waiters, debounceMs)
			);
			const timer = setTimeout(() => end(answer()), Number(query.get('timeout')));
			signal.addEventListener('abort', gone);
			finish = gone;
		},
		cancel() {
			finish();
		}
	});
	return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
}
