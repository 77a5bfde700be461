/**
 * `_changes`: always the server's own selector (the policy's), never the caller's filter; normal and
 * long-poll feeds only, their heartbeat, timeout and limit clamped; a caller holds at most `feedsPerOwner`
 * live feeds at once, and a live feed ends with the caller's sign-in (`watch`).
 */
import type { ChangesParams, Database } from '../store';
import { couchError, pick, relay } from './answers';
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

/** The `_changes` endpoint, counting the live feeds each caller holds open. */
export function createChanges() {
	const feeds = new Map<string, number>();

	/** `GET|POST _changes` of `request` (whose signal ends the store's feed when the caller goes). */
	return async function changes(
		db: Database,
		policy: ReplicationPolicy,
		request: Request,
		caller: Pick<Caller, 'owner' | 'watch'>
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
		const query = pick(url.searchParams, CHANGES_PARAMS);
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
