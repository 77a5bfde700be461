/**
 * Issue #15: the server reports its own figures — memory, CPU, the event loop, and every operation it asked
 * of the store — to administrators (monitoring, and the capacity benchmark's sampler).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { Metrics } from '#shared/wire/metrics';
import { startTestServer, type TestServer } from '../helpers/server';

let server: TestServer;
let admin: string;
let agent: string;

beforeAll(async () => {
	server = await startTestServer();
	admin = await server.signIn('admin', 'integration-admin');
	agent = await server.createUser({ username: 'metricsagent', roleKey: 'agent' });
});
afterAll(async () => {
	await server?.close();
});

async function metrics(cookie: string) {
	const res = await fetch(`${server.url}/api/metrics`, { headers: { cookie } });
	expect(res.status).toBe(200);
	return v.parse(Metrics, await res.json());
}

describe('#15 the server’s own figures', () => {
	it('counts each store operation the server calls, per database', async () => {
		const before = await metrics(admin);
		const res = await fetch(`${server.url}/api/audit?limit=5`, { headers: { cookie: admin } });
		expect(res.status).toBe(200);
		const after = await metrics(admin);
		const total = (m: typeof before, db: string) =>
			Object.values(m.store.operations[db] ?? {}).reduce((a, b) => a + b, 0);
		expect(total(after, 'audit')).toBeGreaterThan(total(before, 'audit'));
		// The embedded store counts its writes; Apache CouchDB (npm run test:couchdb) does not say.
		if (process.env.COUCHDB_URL) expect(after.store.writes).toBeNull();
		else expect(after.store.writes).toBeGreaterThan(0);
		expect(after.memory.rssBytes).toBeGreaterThan(after.memory.heapUsedBytes);
		expect(after.cpu.userMs).toBeGreaterThan(0);
		expect(after.eventLoop.utilization).toBeGreaterThanOrEqual(0);
		expect(after.eventLoop.utilization).toBeLessThanOrEqual(1);
	});

	it('are for administrators: an agent is refused, anonymous is asked to sign in', async () => {
		const asAgent = await fetch(`${server.url}/api/metrics`, { headers: { cookie: agent } });
		expect(asAgent.status).toBe(403);
		const anonymous = await fetch(`${server.url}/api/metrics`);
		expect(anonymous.status).toBe(401);
	});
});
