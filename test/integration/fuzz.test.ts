/**
 * Issue #13: every API route and every `/sync` and `/replicate` endpoint driven with generated input as
 * nobody and as each role — no 5xx, no unhandled rejection, and no database changed by a refused request.
 * A smaller count here (FUZZ_RUNS, default 40 per route); `npm run fuzz` runs 10,000.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';
import { FUZZ_ENV, apiRoutes, fuzzServer } from '../fuzz/api-fuzz';

let server: TestServer;
beforeAll(async () => {
	server = await startTestServer(FUZZ_ENV);
});
afterAll(async () => {
	await server?.close();
});

describe('#13 fuzzing the API and the replication doors', () => {
	it('covers every route the app serves', () => {
		const routes = apiRoutes(server).map((r) => `${r.method} ${r.path}`);
		expect(routes.length).toBeGreaterThan(40);
		for (const route of ['POST /api/session', 'PUT /api/devices/:code/health', 'GET /events']) {
			expect(routes).toContain(route);
		}
	});

	it('no input gets a server error or changes a store when refused', async () => {
		const report = await fuzzServer({ server, runs: Number(process.env.FUZZ_RUNS ?? 40) });
		expect(report.failures).toEqual([]);
		expect(report.unhandled).toBe(0);
		expect(report.routes.every((r) => r.runs > 0)).toBe(true);
	}, 600_000);
});
