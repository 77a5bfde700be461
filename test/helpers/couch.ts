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

/** The `Authorization` header of the account a URL names (`http://user:password@host`). */
export function basicAuth(url: URL): string {
	const { username, password } = url;
	return `Basic ${Buffer.from(`${decodeURIComponent(username)}:${decodeURIComponent(password)}`).toString('base64')}`;
}

/**
 * Requests to the CouchDB of `COUCHDB_URL` itself, as the account the URL names (its credentials sent as Basic
 * authentication, not left in the URL): for tests and benchmarks that read or arrange the store behind servers
 * running in other processes.
 */
export function couchAdmin(): (path: string, init?: RequestInit) => Promise<Response> {
	const url = process.env.COUCHDB_URL;
	if (!url) throw new Error('COUCHDB_URL is not set');
	const base = new URL(url);
	const authorization = basicAuth(base);
	base.username = base.password = '';
	return (path, init = {}) =>
		fetch(new URL(path, base), {
			...init,
			headers: {
				authorization,
				'content-type': 'application/json',
				...(init.headers as Record<string, string> | undefined)
			}
		});
}
