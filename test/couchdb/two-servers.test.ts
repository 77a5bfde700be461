/**
 * #16 (needs COUCHDB_URL, `npm run test:couchdb`): two app servers on one CouchDB. Either serves the API
 * with the same sessions; the singletons run on exactly one of them, under the lease kept in CouchDB, and
 * the other takes over when the holder stops.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { couchEnv, startTestServer, type TestServer } from '../helpers/server';
import { until } from '../helpers/until';

if (!process.env.COUCHDB_URL) {
	throw new Error('the CouchDB tests need COUCHDB_URL (npm run test:couchdb)');
}

const shared = couchEnv(mkdtempSync(join(tmpdir(), 'cc-two-')));
let a: TestServer;
let b: TestServer | undefined;

beforeAll(async () => {
	a = await startTestServer({ ...shared, LEASE_SECONDS: '3' });
	b = await startTestServer({ ...shared, LEASE_SECONDS: '3' });
});
afterAll(async () => {
	await b?.close();
	await a?.close();
});

describe('#16 two app servers on one CouchDB', () => {
	it('share sign-ins: a session made on one server is good on the other', async () => {
		const cookie = await a.createUser({ username: 'twosrv', roleKey: 'agent' });
		const res = await fetch(`${b!.url}/api/session`, { headers: { cookie } });
		expect(res.status).toBe(200);
		expect(((await res.json()) as { user: { username: string } }).user.username).toBe('twosrv');
	});

	it('run the singletons on exactly one, and the other takes over when it stops', async () => {
		await until(
			() => a.runtime.lease.held() || b!.runtime.lease.held(),
			'one server to hold the lease'
		);
		expect([a.runtime.lease.held(), b!.runtime.lease.held()].filter(Boolean)).toHaveLength(1);
		const [holder, other] = a.runtime.lease.held() ? [a, b!] : [b!, a];
		await holder.close();
		[a, b] = [other, undefined]; // what is left for afterAll to close
		const t0 = Date.now();
		await until(
			() => other.runtime.lease.held(),
			'the other server to take the lease over',
			10_000
		);
		expect(Date.now() - t0).toBeLessThan(5_000);
	});
});
