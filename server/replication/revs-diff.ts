/**
 * `_revs_diff`: which of the revisions a pushing replicator offers the store lacks — bounded, and silent
 * about documents the caller cannot see (every asked revision of those is reported missing).
 */
import type { Database } from '../store';
import { couchError, json } from './answers';
import { REPLICATION_LIMITS } from './limits';
import type { ReplicationPolicy } from './policy';

export async function revsDiff(db: Database, policy: ReplicationPolicy, request: Request) {
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
	const diff = await db.revsDiff(asked);
	// Say nothing about documents the caller cannot see: report every asked revision as missing.
	const current = await db.getMany(ids);
	for (const [id, doc] of current) {
		if (!doc._deleted && !policy.canRead(doc)) diff[id] = { missing: asked[id] as string[] };
	}
	return json(diff);
}
