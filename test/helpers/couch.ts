/**
 * With `COUCHDB_URL` set (`npm run test:couchdb`), every server a test starts uses that Apache CouchDB
 * instead of the embedded store, each on its own database prefix derived from `key` (its data folder, or a
 * name): a server restarted on the same folder finds its databases again. `COUCH_TEST_RUN` (set by
 * `scripts/test-couchdb.mjs`) begins every prefix of one run, which removes them all at its end.
 */
import { createHash } from 'node:crypto';

export function couchEnv(key: string): Record<string, string> {
	const url = process.env.COUCHDB_URL;
	if (!url) return {};
	const run = process.env.COUCH_TEST_RUN ?? 'tit';
	const folder = createHash('sha256').update(key).digest('hex').slice(0, 10);
	return { COUCHDB_URL: url, DB_PREFIX: `${run}_${folder}_` };
}
