/**
 * `_revs_diff`: which of the revisions a pushing replicator offers the store lacks — bounded, and silent
 * about documents the caller cannot see (every asked revision of those is reported missing). With a feed
 * hub, a document whose every asked revision is a leaf the hub saw in the store's feed is answered from
 * memory: a device offering back what it just pulled (PouchDB does after every batch) costs the store
 * nothing. Anything else — a revision the hub has not seen yet — is asked of the store.
 */
import type { Database } from '../store';
import { couchError, json } from './answers';
import type { FeedHub } from './feed-hub';
import { REPLICATION_LIMITS } from './limits';
import type { ReplicationPolicy } from './policy';

export async function revsDiff(
	db: Database,
	policy: ReplicationPolicy,
	request: Request,
	hub?: FeedHub
) {
	if (policy.readOnly) return couchError(403, 'forbidden', 'This database is read-only');
	const asked = (await request.json()) as Record<string, unknown>;
	if (!asked || typeof asked !== 'object' || Array.isArray(asked)) {
		return couchError(400, 'bad_request', 'Expected {id: [revs]}');
	}
	const ids = Object.keys(asked);
	let revs = 0;
	for (const id of ids) {
		const list = asked[id];
		if (!Array.isArray(list) || list.some((r) => typeof r !== 'string')) {
			return couchError(400, 'bad_request', 'Expected {id: [revs]}');
		}
		revs += list.length;
	}
	if (ids.length > REPLICATION_LIMITS.revsDiffDocs || revs > REPLICATION_LIMITS.revsDiffRevs) {
		return couchError(400, 'bad_request', 'Too many revisions in one request');
	}
	const diff: Record<string, { missing: string[] }> = {};
	let rest = ids;
	if (hub && policy.visible) {
		rest = [];
		for (const id of ids) {
			const entry = hub.entry(id);
			const revs = asked[id] as string[];
			const readable = (e: NonNullable<typeof entry>) =>
				policy.canRead({ _id: e.id, type: e.type, visibleTo: e.visibleTo });
			if (entry && !entry.deleted && !readable(entry)) {
				diff[id] = { missing: revs };
			} else if (!entry || !revs.every((r) => entry.revs.includes(r))) rest.push(id);
		}
		if (rest.length === 0) return json(diff);
	}
	const asks = rest === ids ? asked : Object.fromEntries(rest.map((id) => [id, asked[id]]));
	Object.assign(diff, await db.revsDiff(asks));
	// Say nothing about documents the caller cannot see: report every asked revision as missing.
	const current = await db.getMany(rest);
	for (const [id, doc] of current) {
		if (!doc._deleted && !policy.canRead(doc)) diff[id] = { missing: asked[id] as string[] };
	}
	return json(diff);
}
