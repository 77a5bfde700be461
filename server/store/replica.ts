/// <reference types="pouchdb-core" />
/// <reference types="pouchdb-replication" />
/**
 * A PouchDB handle on one database of the store, speaking to it over the store's own authenticated HTTP
 * requests: what a branch office replicates with its center (`branches/link.ts`). The host name below only
 * gives PouchDB a URL to parse; every request goes through `request`.
 */
import { createRequire } from 'node:module';
import type { StoreRequest } from './database';

const require = createRequire(import.meta.url);
const LOCAL_BASE = 'http://store.internal';

export type Replica = PouchDB.Database;

/**
 * PouchDB reads attachments in Node with `response.buffer()` (node-fetch's, not the standard Response's):
 * without it an attachment would travel as the text "[object Blob]".
 */
export function withBuffer(res: Response): Response {
	return Object.assign(res, { buffer: async () => Buffer.from(await res.arrayBuffer()) });
}

export function createReplica(request: StoreRequest, name: string): Replica {
	const PouchDB = require('pouchdb-node') as PouchDB.Static;
	return new PouchDB(`${LOCAL_BASE}/${name}`, {
		skip_setup: true,
		fetch: (input: string | Request, init?: RequestInit) => {
			const url = new URL(typeof input === 'string' ? input : input.url);
			return request(url.pathname + url.search, init).then(withBuffer);
		}
	} as PouchDB.Configuration.RemoteDatabaseConfiguration);
}
