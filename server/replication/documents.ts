/**
 * One document by id (PouchDB's fallback when `_bulk_get` is missing, and its `open_revs` reads) and a
 * document's file, each only when the policy lets the caller read the document. Never design documents.
 */
import type { Database, Doc, OpenRev } from '../store';
import { couchError, json, pick, relay } from './answers';
import type { ReplicationPolicy } from './policy';

const DOC_PARAMS = ['rev', 'revs', 'open_revs', 'latest', 'conflicts', 'revs_info'];

/** `GET <id>`: a revision, or with `open_revs` the leaves, those the caller may not read as missing. */
export async function readDoc(
	db: Database,
	policy: ReplicationPolicy,
	id: string,
	query: URLSearchParams
): Promise<Response> {
	const body = await db.read(id, pick(query, DOC_PARAMS));
	if (!body) return couchError(404, 'not_found', 'missing');
	if (Array.isArray(body)) {
		const current = await db.getMany([id]);
		const visible = policy.canRead(current.get(id) ?? { _id: id });
		return json(
			body.map((entry: OpenRev) =>
				'ok' in entry && !(visible && (entry.ok._deleted || policy.canRead(entry.ok)))
					? { missing: entry.ok._rev }
					: entry
			)
		);
	}
	return policy.canRead(body) ? json(body) : couchError(404, 'not_found', 'missing');
}

/** `GET|HEAD <id>/<file>` (`rev` optional): the file streamed, if the caller may read its document. */
export async function attachment(
	db: Database,
	policy: ReplicationPolicy,
	id: string,
	file: string,
	{ rev, method }: { rev: string | null; method: 'GET' | 'HEAD' }
): Promise<Response> {
	const read = await db.read(id, new URLSearchParams(rev ? { rev } : {}));
	const doc: Doc | null = read && !Array.isArray(read) ? read : null;
	if (!doc || !policy.canRead(doc) || !(doc._attachments as Record<string, unknown>)?.[file]) {
		return couchError(404, 'not_found', 'missing');
	}
	const res = await db.attachment(id, file, { ...(rev ? { rev } : {}), method });
	if (!res) return couchError(404, 'not_found', 'missing');
	return new Response(relay(res.body), {
		status: 200,
		headers: { 'content-type': res.headers.get('content-type') ?? 'application/octet-stream' }
	});
}
