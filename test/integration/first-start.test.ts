/**
 * The very first start creates `admin` with a one-time password (printed once) that must be changed before
 * anything else; a restart on the same data keeps everything and prints no password again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server';

const dataDir = mkdtempSync(join(tmpdir(), 'cc-first-'));
let server: TestServer | null = null;
afterAll(async () => {
	await server?.close();
	rmSync(dataDir, { recursive: true, force: true });
});

describe('first start', () => {
	it('issues a one-time administrator password that must be changed first, once', async () => {
		server = await startTestServer({ DATA_DIR: dataDir, ADMIN_PASSWORD: '' });
		const first = server.runtime.firstAdmin;
		expect(first?.oneTime).toBe(true);
		expect(first?.password).toMatch(/^[A-Za-z0-9]{12}$/);
		expect(server.runtime.seeded).toBe(true);

		const cookie = await server.signIn('admin', first!.password);
		const me = (await (
			await fetch(`${server.url}/api/session`, { headers: { cookie } })
		).json()) as { user: { mustChangePassword: boolean } };
		expect(me.user.mustChangePassword).toBe(true);
		const blocked = await fetch(`${server.url}/api/accounts/pending`, { headers: { cookie } });
		expect(blocked.status).toBe(403);
		expect(await blocked.json()).toMatchObject({ code: 'password_change_required' });
		expect((await fetch(`${server.url}/sync/config/`, { headers: { cookie } })).status).toBe(403);

		const change = await fetch(`${server.url}/api/session/password`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', cookie },
			body: JSON.stringify({ currentPassword: first!.password, newPassword: 'my-own-password' })
		});
		expect(change.status).toBe(200);
		expect(
			(await fetch(`${server.url}/api/accounts/pending`, { headers: { cookie } })).status
		).toBe(200);

		await server.close();
		server = await startTestServer({ DATA_DIR: dataDir, ADMIN_PASSWORD: '' });
		expect(server.runtime.firstAdmin).toBeNull();
		expect(server.runtime.seeded).toBe(false);
		await server.signIn('admin', 'my-own-password');
	});

	it('#18 a store seeded by an earlier version is brought up to date once: the voice menu, fault notices and their permissions', async () => {
		server ??= await startTestServer({ DATA_DIR: dataDir, ADMIN_PASSWORD: '' });
		// As a store seeded before 语音导航 was: no default menu, administrators without admin.ivr.
		type Doc = { _id: string; _rev: string; permissions?: string[]; upgrades?: string[] };
		const db = server.runtime.store.db<Doc>('config');
		const admin = await db.get('role:admin');
		await db.insert({
			...admin,
			permissions: admin.permissions!.filter((p) => p !== 'admin.ivr' && p !== 'notice.publish')
		});
		const leader = await db.get('role:leader');
		await db.insert({
			...leader,
			permissions: leader.permissions!.filter((p) => p !== 'notice.publish')
		});
		const menu = await db.get('voiceMenu:default');
		await db.destroy(menu._id, menu._rev);
		const { upgrades: _, ...mark } = await db.get('setting:seed');
		await db.insert(mark);

		await server.close();
		server = await startTestServer({ DATA_DIR: dataDir, ADMIN_PASSWORD: '' });
		const after = server.runtime.store.db<Doc>('config');
		const upgraded = await after.get('role:admin');
		expect(upgraded.permissions).toEqual(expect.arrayContaining(['admin.ivr', 'notice.publish']));
		expect((await after.get('role:leader')).permissions).toContain('notice.publish');
		expect((await after.get('voiceMenu:default'))._id).toBe('voiceMenu:default');
		expect((await after.get('setting:seed')).upgrades).toEqual(['voice-menu', 'notices']);

		// Once: a later start changes nothing (an administrator may since have taken the permission away).
		await server.close();
		server = await startTestServer({ DATA_DIR: dataDir, ADMIN_PASSWORD: '' });
		expect((await server.runtime.store.db<Doc>('config').get('role:admin'))._rev).toBe(
			upgraded._rev
		);
	});
});
