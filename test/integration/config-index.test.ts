/**
 * Issue #15: a user's crews (part of their scopes) come from the configuration in memory, not from a view
 * query on every replication request — and stay right whoever writes the configuration: an administrator
 * through the API (seen by the very next request) or a branch's replication from its center (through the
 * database's changes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';
import { until } from '../helpers/until';

let server: TestServer;
let admin: string;

beforeAll(async () => {
	server = await startTestServer();
	admin = await server.signIn('admin', 'integration-admin');
});
afterAll(async () => {
	await server?.close();
});

const viewQueries = () => server.runtime.store.operations().config?.view ?? 0;

describe('#15 the configuration in memory', () => {
	it('gives a crew member the crew’s tickets from the next request on, and /sync asks the store no view', async () => {
		const member = await server.createUser({
			username: 'ixfitter',
			roleKey: 'crew',
			departmentId: 'department:engineering'
		});
		const created = await fetch(`${server.url}/api/admin/config/crew`, {
			method: 'POST',
			headers: { cookie: admin, origin: server.url, 'content-type': 'application/json' },
			body: JSON.stringify({
				name: '内存一队',
				departmentId: 'department:engineering',
				memberIds: ['user:ixfitter']
			})
		});
		expect(created.status).toBe(201);
		const crewId = ((await created.json()) as { item: { _id: string } }).item._id;
		expect(await server.runtime.deps.configAdmin.crewsOf('user:ixfitter')).toEqual([crewId]);

		await server.runtime.store.db('tickets').insert({
			_id: 'ticket:ix-1',
			type: 'ticket',
			visibleTo: [crewId],
			updatedAt: new Date().toISOString(),
			events: [{ id: 'e1', type: 'created', at: new Date().toISOString(), by: 'user:admin' }]
		} as never);
		const views = viewQueries();
		for (let i = 0; i < 5; i++) {
			const res = await fetch(`${server.url}/sync/tickets/_changes?since=0`, {
				headers: { cookie: member }
			});
			expect(res.status).toBe(200);
			const body = (await res.json()) as { results: { id: string }[] };
			expect(body.results.map((r) => r.id)).toEqual(['ticket:ix-1']);
		}
		expect(viewQueries()).toBe(views);
	});

	it('follows a crew written to the store by another writer (a branch’s replication), and its deletion', async () => {
		const config = server.runtime.store.db('config');
		const written = await config.insert({
			_id: 'crew:from-center',
			type: 'crew',
			name: '中心派来的队',
			departmentId: 'department:engineering',
			memberIds: ['user:remotefitter'],
			updatedAt: new Date().toISOString()
		} as never);
		const crewsOf = () => server.runtime.deps.configAdmin.crewsOf('user:remotefitter');
		await until(async () => (await crewsOf()).includes('crew:from-center'), 'the crew to arrive');
		expect(await crewsOf()).toEqual(['crew:from-center']);
		await config.destroy('crew:from-center', written.rev);
		await until(async () => (await crewsOf()).length === 0, 'the crew to be gone');
		expect(await crewsOf()).toEqual([]);
	});
});
