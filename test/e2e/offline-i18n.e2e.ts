import { expect, test } from '@playwright/test';
import { createUser, signIn, uniqueName } from './helpers';

test('F27 after one online visit the app shell and the configuration work with the network off', async ({
	page,
	context,
	request
}) => {
	const username = uniqueName('off');
	await createUser(request, {
		username,
		roleKey: 'department',
		departmentId: 'department:network'
	});
	await signIn(page, username);
	await expect(page.getByRole('heading', { name: '部门业务' })).toBeVisible();
	// #17 who is signed in and where, in the header (no welcome card on the page).
	await expect(page.getByTestId('header-department')).toHaveText('网络部');
	await expect(page.getByText(/欢迎/)).toHaveCount(0);
	await page.getByRole('link', { name: '组织架构' }).click();
	const tree = page.getByRole('list', { name: '部门' });
	await expect(tree.getByText('工程部')).toBeVisible();
	await expect(page.getByRole('cell', { name: '施工队员' })).toBeVisible();
	// The service worker has taken control and precached the shell.
	await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, {
		timeout: 20_000
	});

	await context.setOffline(true);
	await page.reload();
	await expect(page.getByRole('heading', { name: '组织架构' })).toBeVisible();
	await expect(page.getByTestId('connectivity')).toHaveText('离线');
	await expect(tree.getByText('城东营业厅')).toBeVisible();
	await expect(tree.getByText('客服中心')).toBeVisible();
	await expect(page.getByRole('cell', { name: '坐席', exact: true })).toBeVisible();
	// Another page of the app, opened offline by address.
	await page.goto('/department');
	await expect(page.getByRole('heading', { name: '部门业务' })).toBeVisible();
	await context.setOffline(false);
});

test('F34 the UI is Chinese by default, switches to English, and remembers the choice', async ({
	page
}) => {
	await page.goto('/login');
	await expect(page.getByRole('heading', { name: '登录' })).toBeVisible();
	await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
	await page.getByLabel('语言').selectOption('en');
	await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
	await expect(page.getByLabel('User name')).toBeVisible();
	await expect(page.locator('html')).toHaveAttribute('lang', 'en');

	await page.getByLabel('User name').fill('nobody-here');
	await page.getByLabel('Password').fill('whatever-123');
	await page.getByLabel('Password').press('Enter');
	await expect(page.getByRole('alert')).toHaveText('Wrong user name or password.');

	await page.reload();
	await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
	await page.getByRole('link', { name: 'Register' }).click();
	await expect(page.getByRole('heading', { name: 'Register' })).toBeVisible();
	await page.getByLabel('Language').selectOption('zh-CN');
	await expect(page.getByRole('heading', { name: '注册新用户' })).toBeVisible();
});

test('F1 signing out while offline ends the server session once the network is back', async ({
	page,
	context,
	request
}) => {
	const username = uniqueName('out');
	await createUser(request, { username, roleKey: 'agent' });
	await signIn(page, username);
	await expect(page.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
	await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, {
		timeout: 20_000
	});
	const token = (await context.cookies()).find((c) => c.name === 'cc_session')?.value;
	expect(token).toMatch(/^[\w-]{40,}$/);

	await context.setOffline(true);
	await page.getByRole('button', { name: '退出', exact: true }).click();
	await expect(page.getByRole('heading', { name: '登录' })).toBeVisible();
	await context.setOffline(false);
	await page.reload();
	await expect(page.getByRole('heading', { name: '登录' })).toBeVisible();
	await page.goto('/agent');
	await expect(page.getByRole('heading', { name: '登录' })).toBeVisible();
	// The session the browser held before signing out no longer works on the server.
	const res = await request.get('/api/session', { headers: { cookie: `cc_session=${token}` } });
	expect(res.status()).toBe(401);
});
