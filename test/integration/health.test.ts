/**
 * #16 `/api/health` for load balancers and monitoring: "ok" only while the store answers; a server whose
 * store is gone says so with 503, so the proxy in front takes it out of rotation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';
import { couchGate } from '../helpers/couch';

let server: TestServer;
/** On Apache CouchDB (`npm run test:couchdb`) the server reaches it through a gate the test can cut. */
let gate: Awaited<ReturnType<typeof couchGate>> | null = null;
const health = async () => {
	const res = await fetch(`${server.url}/api/health`);
	return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
	gate = process.env.COUCHDB_URL ? await couchGate() : null;
	server = await startTestServer(gate ? { COUCHDB_URL: gate.url } : {});
});
afterAll(async () => {
	await server?.close();
});

describe('#16 health checks the store', () => {
	it('is ok with the time the store took to answer', async () => {
		const { status, body } = await health();
		expect(status).toBe(200);
		expect(body).toMatchObject({ status: 'ok', storeCheck: { reachable: true, detail: '' } });
		expect((body.storeCheck as { ms: number }).ms).toBeGreaterThanOrEqual(0);
	});

	it('answers 503 "unavailable", and why, once the store is gone', async () => {
		if (gate) await gate.cut();
		else await server.runtime.store.close();
		await expect.poll(async () => (await health()).status, { timeout: 10_000 }).toBe(503);
		const { body } = await health();
		expect(body).toMatchObject({
			status: 'unavailable',
			storeCheck: { reachable: false, ms: null }
		});
		expect((body.storeCheck as { detail: string }).detail).not.toBe('');
	});
});
