/**
 * F29 at a branch office, in the browser: the branch is the built product as a second process with its own
 * store, pulling accounts and configuration from the e2e server as its center. The center's administrator
 * signs in there with the center's password; the administration pages say that accounts and settings are
 * changed at the center, and a change tried at the branch is refused with that message.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { E2E_ADMIN_PASSWORD, E2E_BRANCH, E2E_BRANCH_PORT, E2E_PORT } from '../../playwright.config';
import { signIn } from './helpers';
import { couchEnv } from '../helpers/couch';

/** The branch's answer to a sign-in (200 once the account has replicated there), 0 while it is down. */
const signInStatus = (url: string, username: string, password: string) =>
	fetch(`${url}/api/session`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ username, password })
	})
		.then((r) => r.status)
		.catch(() => 0);

test('F29 a branch office signs in the center’s administrator and leaves accounts and settings to the center', async ({
	browser,
	request
}) => {
	// #17 a user the center added, still with the one-time password the center issued.
	await request.post(`http://127.0.0.1:${E2E_PORT}/api/session`, {
		data: { username: 'admin', password: E2E_ADMIN_PASSWORD }
	});
	const added = await request.post(`http://127.0.0.1:${E2E_PORT}/api/users`, {
		data: {
			username: 'branchotp',
			name: '分支新人',
			departmentId: 'department:center',
			birthDate: '1990-01-01',
			phone: '13800000000',
			roleId: 'role:agent'
		}
	});
	expect(added.status()).toBe(201);
	const oneTime = ((await added.json()) as { password: string }).password;
	const dataDir = mkdtempSync(join(tmpdir(), 'cc-e2e-branch-'));
	const url = `http://127.0.0.1:${E2E_BRANCH_PORT}`;
	const output: string[] = [];
	const branch = spawn(process.execPath, ['build/server/index.js'], {
		env: {
			...process.env,
			PORT: String(E2E_BRANCH_PORT),
			HOST: '127.0.0.1',
			DATA_DIR: dataDir,
			TELEPHONY: 'off',
			CENTER_URL: `http://127.0.0.1:${E2E_PORT}`,
			BRANCH_NAME: E2E_BRANCH.name,
			BRANCH_KEY: E2E_BRANCH.key,
			...couchEnv(dataDir)
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	branch.stdout.on('data', (b: Buffer) => output.push(b.toString()));
	branch.stderr.on('data', (b: Buffer) => output.push(b.toString()));
	const exited = new Promise((resolve) => branch.once('exit', resolve));
	try {
		// The accounts arrive from the center: the administrator can sign in at the branch.
		await expect
			.poll(() => signInStatus(url, 'admin', E2E_ADMIN_PASSWORD), {
				timeout: 30_000,
				message: `the branch server:\n${output.join('')}`
			})
			.toBe(200);

		const context = await browser.newContext({ baseURL: url, locale: 'zh-CN' });
		const page = await context.newPage();
		await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
		// Signed in (navigating earlier would cancel the sign-in request).
		await expect(page.getByRole('heading', { name: '系统管理' })).toBeVisible();
		await page.goto('/admin/departments');
		await expect(page.getByRole('note')).toContainText('这里是分支机构');
		// The center's departments are there, and a change here is refused with the reason.
		await expect(page.getByRole('button', { name: '选择 城东营业厅' })).toBeVisible();
		await page.getByLabel('添加顶级部门').fill('分支自建部门');
		await page.getByLabel('添加顶级部门').press('Enter');
		await expect(page.getByRole('alert')).toContainText('请在中心修改');
		await expect(page.getByRole('button', { name: '选择 分支自建部门' })).toHaveCount(0);
		await context.close();

		// #17 a one-time password cannot be changed here: the branch says so instead of offering the form.
		const newcomer = await browser.newContext({ baseURL: url, locale: 'zh-CN' });
		const tab = await newcomer.newPage();
		await expect
			.poll(() => signInStatus(url, 'branchotp', oneTime), {
				timeout: 30_000,
				message: 'the new user reaching the branch'
			})
			.toBe(200);
		await signIn(tab, 'branchotp', oneTime);
		await expect(tab.getByRole('heading', { name: '修改密码' })).toBeVisible();
		await expect(tab.getByRole('note')).toContainText('请先在中心登录并设置新密码');
		await expect(tab.getByLabel('新密码', { exact: true })).toHaveCount(0);
		await newcomer.close();
	} finally {
		branch.kill('SIGTERM');
		await exited;
		rmSync(dataDir, { recursive: true, force: true });
	}
});
