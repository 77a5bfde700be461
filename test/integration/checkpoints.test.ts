/**
 * Issue #15: replication checkpoints are held in memory and written to the store behind, so a device's
 * checkpoint after every batch costs the store nothing — and still survives a restart, keeps CouchDB's
 * revision rules (a stale revision is a conflict) and the bound per user.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPLICATION_LIMITS } from '../../server/replication/limits';
import { startTestServer, type TestServer } from '../helpers/server';

const dataDir = mkdtempSync(join(tmpdir(), 'cc-ck-'));
let server: TestServer | null = null;

afterAll(async () => {
	await server?.close();
	rmSync(dataDir, { recursive: true, force: true });
});

async function put(cookie: string, id: string, body: object) {
	return fetch(`${server!.url}/sync/tickets/_local/${id}`, {
		method: 'PUT',
		headers: { cookie, 'content-type': 'application/json', origin: server!.url },
		body: JSON.stringify(body)
	});
}
async function get(cookie: string, id: string) {
	return fetch(`${server!.url}/sync/tickets/_local/${id}`, { headers: { cookie } });
}
const localWrites = () => {
	const ops = server!.runtime.store.operations().tickets ?? {};
	return (ops['local.put'] ?? 0) + (ops['local.remove'] ?? 0);
};

describe('#15 checkpoints in memory, written behind', () => {
	it('answers like CouchDB, costs the store no write per checkpoint, and survives a restart', async () => {
		server = await startTestServer({ DATA_DIR: dataDir });
		const agent = await server.createUser({ username: 'ckagent', roleKey: 'agent' });
		const writes = localWrites();

		const first = await put(agent, 'pull-1', { last_seq: '1', session_id: 's', history: [] });
		expect(first.status).toBe(201);
		expect(await first.json()).toMatchObject({ ok: true, id: '_local/pull-1', rev: '0-1' });
		let rev = '0-1';
		for (let seq = 2; seq <= 20; seq++) {
			const res = await put(agent, 'pull-1', { _rev: rev, last_seq: String(seq), session_id: 's' });
			expect(res.status).toBe(201);
			rev = ((await res.json()) as { rev: string }).rev;
		}
		expect(rev).toBe('0-20');
		const stale = await put(agent, 'pull-1', { _rev: '0-3', last_seq: '99', session_id: 's' });
		expect(stale.status).toBe(409);
		expect(await (await get(agent, 'pull-1')).json()).toMatchObject({
			_id: '_local/pull-1',
			_rev: '0-20',
			last_seq: '20'
		});
		// Twenty checkpoints, not one store write.
		expect(localWrites()).toBe(writes);

		// A restart (the checkpoints are written at stop) keeps where the device was.
		await server.close();
		server = await startTestServer({ DATA_DIR: dataDir });
		const again = await server.signIn('ckagent', 'password-123');
		const read = await get(again, 'pull-1');
		expect(read.status).toBe(200);
		expect(await read.json()).toMatchObject({ _rev: '0-20', last_seq: '20' });
		const next = await put(again, 'pull-1', { _rev: '0-20', last_seq: '21', session_id: 's' });
		expect(await next.json()).toMatchObject({ rev: '0-21' });
	});

	it('keeps the bound per user in the store too: the evicted ones are deleted there at the flush', async () => {
		const agent = await server!.createUser({ username: 'ckmany', roleKey: 'agent' });
		const n = REPLICATION_LIMITS.checkpointsPerOwner + 2;
		for (let i = 0; i < n; i++) {
			expect((await put(agent, `many-${i}`, { last_seq: String(i) })).status).toBe(201);
		}
		await server!.runtime.deps.replication.checkpoints.flush();
		await server!.close();
		server = await startTestServer({ DATA_DIR: dataDir });
		const again = await server.signIn('ckmany', 'password-123');
		expect((await get(again, 'many-0')).status).toBe(404);
		expect((await get(again, 'many-1')).status).toBe(404);
		expect((await get(again, 'many-2')).status).toBe(200);
		expect((await get(again, `many-${n - 1}`)).status).toBe(200);
	});
});
