/**
 * The part of the CouchDB replication protocol PouchDB's replicator uses, served over the store for one
 * caller under a policy (`policy.ts`): which database, which documents it may read, which writes it may
 * make, where its checkpoints live. Shared by `/sync/<db>` (a signed-in user's device) and
 * `/replicate/<db>` (a branch office's server, F29); each door only says who is asking (`Caller`). This
 * module routes a request to its endpoint — one function each, in this folder — and refuses everything
 * else (`_all_docs`, `_find`, `_all_dbs`, design documents, other databases).
 */
import type { Store } from '../store';
import { bulkDocs } from './bulk-docs';
import { bulkGet } from './bulk-get';
import { createChanges } from './changes';
import { createCheckpoints } from './checkpoints';
import { couchError } from './answers';
import { info, welcome } from './database-info';
import { attachment, readDoc } from './documents';
import type { FeedHub } from './feed-hub';
import type { Caller } from './policy';
import { revsDiff } from './revs-diff';

export { couchError } from './answers';
export { REPLICATION_LIMITS } from './limits';
export type { Caller, Doc, Existing, ReplicationPolicy } from './policy';

export function createReplication({
	store,
	instanceId,
	hubs = {},
	log
}: {
	store: Store;
	instanceId: string;
	/** Databases whose changes are fanned out from memory (`feed-hub.ts`), for policies that allow it. */
	hubs?: Partial<Record<string, FeedHub>>;
	log?: (msg: string) => void;
}) {
	const changes = createChanges();
	const checkpoints = createCheckpoints({ log });

	/** Answers one request under `mount` (e.g. `/sync`) for `caller`; a body that is not JSON is a 400. */
	async function serve(request: Request, mount: string, caller: Caller): Promise<Response> {
		try {
			return await route(request, mount, caller);
		} catch (err) {
			if (err instanceof SyntaxError) return couchError(400, 'bad_request', 'invalid JSON');
			throw err;
		}
	}

	async function route(request: Request, mount: string, caller: Caller): Promise<Response> {
		const url = new URL(request.url);
		const parts = url.pathname
			.slice(mount.length)
			.split('/')
			.filter((p) => p !== '')
			.map((p) => decodeURIComponent(p));
		const method = request.method;

		if (parts.length === 0) {
			if (method !== 'GET' && method !== 'HEAD') {
				return couchError(405, 'method_not_allowed', 'Only GET');
			}
			return welcome(instanceId);
		}
		const [dbKey, ...rest] = parts;
		const policy = await caller.policyOf(dbKey!);
		if (!policy) return couchError(403, 'forbidden', 'Not a replicated database');
		const db = store.db(policy.dbKey);
		const hub = policy.visible ? hubs[policy.dbKey] : undefined;
		const head = rest[0] ?? '';

		if (rest.length === 0) {
			if (method !== 'GET' && method !== 'HEAD') {
				return couchError(403, 'forbidden', 'Databases are managed by the server');
			}
			return info(db, policy, hub);
		}
		if (head === '_local' && rest.length === 2) {
			if (method === 'GET') return checkpoints.get(db, policy, rest[1]!);
			if (method === 'PUT') {
				return checkpoints.put(db, policy, rest[1]!, await request.text(), caller.owner);
			}
			return couchError(405, 'method_not_allowed', 'Only GET and PUT');
		}
		if (head === '_changes' && rest.length === 1) {
			if (method !== 'GET' && method !== 'POST') {
				return couchError(405, 'method_not_allowed', 'Only GET and POST');
			}
			return changes(db, policy, request, caller, hub);
		}
		if (rest.length === 1 && method === 'POST') {
			if (head === '_revs_diff') return revsDiff(db, policy, request, hub);
			if (head === '_bulk_get') return bulkGet(db, policy, request, hub);
			if (head === '_bulk_docs') return bulkDocs(db, policy, request);
		}
		if (rest.length === 1 && !head.startsWith('_') && method === 'GET') {
			return readDoc(db, policy, head, url.searchParams);
		}
		if (
			policy.servesAttachments &&
			rest.length === 2 &&
			!head.startsWith('_') &&
			(method === 'GET' || method === 'HEAD')
		) {
			const rev = url.searchParams.get('rev');
			return attachment(db, policy, head, rest[1]!, { rev, method });
		}
		return couchError(403, 'forbidden', `Not available through ${mount}`);
	}

	return {
		serve,
		/** The checkpoints held in memory: `stop()` writes them to the store (at shutdown). */
		checkpoints
	};
}
export type Replication = ReturnType<typeof createReplication>;
