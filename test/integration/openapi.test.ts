/**
 * Issue #14: integrators get an OpenAPI 3 document generated from the routes themselves. Every API route of
 * the running app (read from the app, so a new route is never left out) is in it with what it answers and
 * the access it requires — and the server does refuse what the document says it refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS } from '#shared/permissions';
import { startTestServer, type TestServer } from '../helpers/server';

let server: TestServer;
let crew: string;

interface Operation {
	summary?: string;
	'x-access'?: string;
	'x-access-any'?: string[];
	responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
type OpenApi = { openapi: string; paths: Record<string, Record<string, Operation>> };

beforeAll(async () => {
	server = await startTestServer();
	crew = await server.createUser({
		username: 'apicrew',
		roleKey: 'crew',
		departmentId: 'department:engineering'
	});
});
afterAll(async () => {
	await server?.close();
});

/** The app's own routes under /api: method and path as Hono holds them (`/api/users/:id/status`). */
function apiRoutes(): { method: string; path: string }[] {
	const seen = new Set<string>();
	const routes: { method: string; path: string }[] = [];
	for (const { method, path } of server.runtime.app.routes) {
		if (method === 'ALL' || !path.startsWith('/api/') || path.includes('*')) continue;
		const key = `${method} ${path}`;
		if (seen.has(key)) continue;
		seen.add(key);
		routes.push({ method, path });
	}
	return routes;
}

const openApiPath = (path: string) => path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}');

async function document(cookie: string): Promise<OpenApi> {
	const res = await fetch(`${server.url}/api/openapi.json`, { headers: { cookie } });
	expect(res.status).toBe(200);
	return (await res.json()) as OpenApi;
}

describe('#14 the OpenAPI document', () => {
	it('lists every API route with its summary, its answer and the access it requires', async () => {
		const doc = await document(crew);
		expect(doc.openapi).toMatch(/^3\./);
		const routes = apiRoutes();
		expect(routes.length).toBeGreaterThan(40);
		const missing: string[] = [];
		for (const { method, path } of routes) {
			const op = doc.paths[openApiPath(path)]?.[method.toLowerCase()];
			const access = op?.['x-access'];
			const ok = Object.keys(op?.responses ?? {}).some((status) => /^2/.test(status));
			const known =
				access === 'public' ||
				access === 'signed-in' ||
				(PERMISSIONS as readonly string[]).includes(access ?? '');
			if (!op?.summary || !known || !ok) {
				missing.push(`${method} ${path} (summary ${op?.summary ?? '-'}, access ${access ?? '-'})`);
			}
		}
		expect(missing).toEqual([]);
	});

	it('describes JSON answers by their schema', async () => {
		const doc = await document(crew);
		const users = doc.paths['/api/users']?.get?.responses?.['200'];
		expect(users?.content?.['application/json']?.schema).toMatchObject({ type: 'object' });
	});

	it('says what each route requires, and the server refuses exactly that', async () => {
		const doc = await document(crew);
		const crewPermissions = new Set(
			(
				(await (
					await fetch(`${server.url}/api/session`, { headers: { cookie: crew } })
				).json()) as {
					user: { permissions: string[] };
				}
			).user.permissions
		);
		// Reads without path parameters: safe to call as anyone, and each must behave as documented.
		const reads = apiRoutes().filter((r) => r.method === 'GET' && !r.path.includes(':'));
		const wrong: string[] = [];
		for (const { path } of reads) {
			const op = doc.paths[openApiPath(path)]?.get;
			const access = op?.['x-access'];
			const anyOf = op?.['x-access-any'] ?? [access];
			if (!access) {
				wrong.push(`${path}: not in the document`);
				continue;
			}
			const anonymous = await fetch(`${server.url}${path}`);
			await anonymous.body?.cancel();
			if (access !== 'public' && anonymous.status !== 401) {
				wrong.push(`${path}: anonymous got ${anonymous.status}`);
			}
			const asCrew = await fetch(`${server.url}${path}`, { headers: { cookie: crew } });
			await asCrew.body?.cancel();
			const allowed =
				access === 'public' ||
				access === 'signed-in' ||
				anyOf.some((p) => crewPermissions.has(p ?? ''));
			if (!allowed && asCrew.status !== 403) {
				wrong.push(`${path} (${access}): a crew member got ${asCrew.status}`);
			}
			if (allowed && (asCrew.status === 401 || asCrew.status === 403)) {
				wrong.push(`${path} (${access}): a crew member was refused ${asCrew.status}`);
			}
		}
		expect(wrong).toEqual([]);
	});

	it('is for signed-in users, and its reference page is served by this server, not a CDN', async () => {
		const anonymous = await fetch(`${server.url}/api/openapi.json`);
		expect(anonymous.status).toBe(401);
		const page = await fetch(`${server.url}/api/reference`, { headers: { cookie: crew } });
		expect(page.status).toBe(200);
		const html = await page.text();
		const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
		expect(assets.length).toBeGreaterThan(1);
		for (const asset of assets) {
			expect(asset.startsWith('/api/reference/')).toBe(true);
			const res = await fetch(`${server.url}${asset}`, { headers: { cookie: crew } });
			expect(res.status, asset).toBe(200);
			expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(20);
		}
		const other = await fetch(`${server.url}/api/reference/package.json`, {
			headers: { cookie: crew }
		});
		expect(other.status).toBe(404);
	});
});
