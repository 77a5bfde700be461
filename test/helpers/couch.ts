/**
 * With `COUCHDB_URL` set (`npm run test:couchdb`), every server a test starts uses that Apache CouchDB
 * instead of the embedded store, each on its own database prefix derived from `key` (its data folder, or a
 * name): a server restarted on the same folder finds its databases again. `COUCH_TEST_RUN` (set by
 * `scripts/test-couchdb.mjs`) begins every prefix of one run, which removes them all at its end.
 */
import { createHash } from 'node:crypto';
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';

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

/**
 * A TCP gate between app servers and the CouchDB of `COUCHDB_URL`: `url` is that URL through the gate, and `cut()`
 * takes the store away from everyone using it, as a lost link or a dead store would — open connections are
 * dropped and new ones refused.
 */
export async function couchGate(): Promise<{ url: string; cut(): Promise<void> }> {
	const url = process.env.COUCHDB_URL;
	if (!url) throw new Error('COUCHDB_URL is not set');
	const target = new URL(url);
	const sockets = new Set<Socket>();
	const gate = createServer((client) => {
		const store = connect(Number(target.port || 5984), target.hostname);
		for (const s of [client, store]) {
			sockets.add(s);
			s.on('close', () => sockets.delete(s));
			s.on('error', () => {
				client.destroy();
				store.destroy();
			});
		}
		client.pipe(store).pipe(client);
	});
	await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
	const through = new URL(url);
	through.hostname = '127.0.0.1';
	through.port = String((gate.address() as AddressInfo).port);
	return {
		url: through.href.replace(/\/$/, ''),
		async cut() {
			const closed = new Promise<void>((resolve) => gate.close(() => resolve()));
			for (const s of sockets) s.destroy();
			await closed;
		}
	};
}
