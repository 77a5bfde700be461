/**
 * #16 F29 a branch office of two app servers on one CouchDB (needs COUCHDB_URL; `npm run test:couchdb`): the
 * link to the center runs on the server holding the lease only. The administrator's 同步状态 page on the other
 * says the link is run by another app server, and — once the holder is killed with SIGKILL — that it syncs,
 * taken over within seconds. The center is a third server on its own databases.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, expect as expectPage } from '@playwright/test';
import { CHROMIUM_LAUNCH } from '../../playwright.config';
import { couchEnv } from '../helpers/couch';
import { freePort, signIn, startChildServer, type ChildServer } from '../helpers/child-server';
import { ADMIN_PASSWORD } from '../helpers/server';
import { until } from '../helpers/until';

if (!process.env.COUCHDB_URL) {
	throw new Error('the CouchDB tests need COUCHDB_URL (npm run test:couchdb)');
}

const KEY = 'east-office-key-0123456789';
const root = mkdtempSync(join(tmpdir(), 'cc-branch-standby-'));
let center: ChildServer;
const branch: { server: ChildServer; instanceId: string }[] = [];

beforeAll(async () => {
	center = await startChildServer(await freePort(), join(root, 'center'), {
		BRANCHES: `east=${KEY}@department:center`
	});
	// Both branch servers on the branch's one set of databases.
	const shared = couchEnv(join(root, 'east'));
	for (const name of ['east1', 'east2']) {
		const dataDir = join(root, name);
		const server = await startChildServer(await freePort(), dataDir, {
			...shared,
			CENTER_URL: center.url,
			BRANCH_NAME: 'east',
			BRANCH_KEY: KEY,
			LEASE_SECONDS: '3'
		});
		const instanceId = readFileSync(join(dataDir, 'secrets', 'instance-id'), 'utf8').trim();
		branch.push({ server, instanceId });
	}
}, 90_000);

afterAll(async () => {
	for (const s of [center, ...branch.map((b) => b.server)]) {
		s?.proc.kill('SIGKILL');
		await s?.exited;
	}
	rmSync(root, { recursive: true, force: true });
});

/** What a branch server says of its link (as the administrator), or null while it cannot say. */
async function linkState(url: string): Promise<string | null> {
	try {
		const cookie = await signIn(url, 'admin', ADMIN_PASSWORD);
		const res = await fetch(`${url}/api/branches`, { headers: { cookie } });
		if (!res.ok) return null;
		return ((await res.json()) as { link: { state: string } | null }).link?.state ?? null;
	} catch {
		return null;
	}
}

describe('#16 F29 a branch office of two app servers', () => {
	it('F29 the link runs on one server; the other’s 同步状态 says so, and takes the link over when the first dies', async () => {
		// The center's administrator signs in at the branch once accounts have come from the center.
		let states: (string | null)[] = [];
		await until(
			async () => {
				states = await Promise.all(branch.map((b) => linkState(b.server.url)));
				return states.includes('standby') && states.some((s) => s !== 'standby' && s !== null);
			},
			'one server linked, the other standing by',
			60_000
		);
		const holder = branch[states.indexOf('standby') === 0 ? 1 : 0]!;
		const standby = branch.find((b) => b !== holder)!;

		const browser = await chromium.launch(CHROMIUM_LAUNCH);
		try {
			const context = await browser.newContext({ locale: 'zh-CN', baseURL: standby.server.url });
			const page = await context.newPage();
			await page.goto('/login');
			await page.getByLabel('用户名').fill('admin');
			const password = page.getByRole('textbox', { name: '密码', exact: true });
			await password.fill(ADMIN_PASSWORD);
			await password.press('Enter');
			await expectPage(page.getByRole('navigation', { name: '主导航' })).toBeVisible({
				timeout: 15_000
			});
			await page.goto('/admin/sync');
			const heading = page.getByRole('heading', { name: /与中心 .* 的连接/ });
			await expectPage(heading).toContainText('由另一台应用服务器维护');

			holder.server.proc.kill('SIGKILL');
			// Within seconds this server holds the lease and runs the link: the page says so on reload.
			await expectPage(async () => {
				await page.reload();
				await expectPage(heading).not.toContainText('由另一台应用服务器维护', { timeout: 1_000 });
				await expectPage(heading).toContainText(/同步中|已同步|正在启动/, { timeout: 1_000 });
			}).toPass({ timeout: 30_000 });
			expect(await linkState(standby.server.url)).not.toBe('standby');
			await context.close();
		} finally {
			await browser.close();
		}
	}, 120_000);
});
