import { expect, test } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../../playwright.config';
import { createUser, PASSWORD, signIn, uniqueName } from './helpers';
import { couchEnv } from '../helpers/couch';

test('F2 a newcomer registers and is told the account waits for an administrator', async ({
	page
}) => {
	const username = uniqueName('reg');
	await page.goto('/');
	await expect(page).toHaveURL(/\/login$/);
	await page.getByRole('link', { name: '注册' }).click();
	await expect(page.getByRole('heading', { name: '注册新用户' })).toBeVisible();

	// Required fields are marked with * and the department comes from the tree.
	await expect(page.locator('label[for="username"]')).toContainText('*');
	await expect(page.locator('label[for="email"]')).not.toContainText('*');
	await page.getByLabel('用户名').fill(username);
	await page.getByRole('textbox', { name: '密码', exact: true }).fill(PASSWORD);
	await page.getByLabel('确认密码').fill(PASSWORD);
	await page.getByLabel('姓名').fill('李四');
	await page.getByLabel('部门').selectOption('department:engineering-install');
	await expect(page.getByLabel('出生日期')).toHaveAttribute('type', 'date');
	await page.getByLabel('出生日期').fill('1991-07-08');
	await page.getByLabel('电话').fill('0571-8888 6666');
	await page.getByRole('button', { name: '提交注册' }).click();
	await expect(page.getByRole('status')).toContainText(`账号 ${username} 正在等待管理员分配权限`);

	await signIn(page, username);
	await expect(page.getByRole('alert')).toHaveText('您的账号正在等待管理员审批，批准后才能登录。');
	await expect(page).toHaveURL(/\/login$/);
});

test('F2 registration refuses bad input with clear messages and keeps the first account', async ({
	page,
	request
}) => {
	const username = uniqueName('dup');
	await createUser(request, { username, roleKey: 'agent' });
	await page.goto('/register');
	await page.getByRole('button', { name: '提交注册' }).click();
	await expect(page.locator('#username-error')).toHaveText('此项为必填项');
	await expect(page.locator('#name-error')).toHaveText('此项为必填项');
	await expect(page.getByLabel('用户名')).toBeFocused();

	await page.getByLabel('用户名').fill(`  ${username.toUpperCase()}  `);
	await page.getByRole('textbox', { name: '密码', exact: true }).fill(PASSWORD);
	await page.getByLabel('确认密码').fill(PASSWORD);
	await page.getByLabel('姓名').fill('<script>window.hacked=1</script>');
	await page.getByLabel('部门').selectOption({ label: '网络部' });
	await page.getByLabel('出生日期').fill('2999-01-01');
	await page.getByLabel('电话').fill('13800000000');
	await page.getByRole('button', { name: '提交注册' }).click();
	await expect(page.locator('#birthDate-error')).toHaveText('出生日期不能晚于今天');

	await page.getByLabel('出生日期').fill('1990-01-01');
	await page.getByRole('button', { name: '提交注册' }).click();
	await expect(page.locator('#username-error')).toHaveText('该用户名已被注册');
	expect(await page.evaluate(() => (window as { hacked?: number }).hacked)).toBeUndefined();

	// The original account is untouched: it still signs in with its own password.
	await signIn(page, username);
	await expect(page.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
});

test('F2 an administrator approves a pending account with a role; markup in names shows as text', async ({
	page,
	request
}) => {
	const username = uniqueName('pend');
	await request.post('/api/register', {
		data: {
			username,
			password: PASSWORD,
			name: '<b>王五</b>',
			departmentId: 'department:network',
			birthDate: '1980-02-03',
			phone: '13900000000',
			email: 'w@example.com'
		}
	});
	await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
	await expect(page.getByRole('heading', { name: '系统管理' })).toBeVisible();
	const row = page.getByRole('row').filter({ hasText: username });
	await expect(row.getByRole('cell').nth(1)).toHaveText('<b>王五</b>');
	await expect(row.getByRole('cell').nth(2)).toHaveText('网络部');
	await row.getByLabel(`${username} 的角色`).selectOption({ label: '部门处理员' });
	await row.getByRole('button', { name: '批准' }).click();
	await expect(page.getByRole('status').filter({ hasText: '已批准' })).toHaveText(
		`已批准 ${username}，角色：部门处理员`
	);
	await expect(page.getByRole('row').filter({ hasText: username })).toHaveCount(0);

	await page.getByRole('button', { name: '退出', exact: true }).click();
	await signIn(page, username);
	await expect(page.getByRole('heading', { name: '部门业务' })).toBeVisible();
});

test('F1 sign-in with Enter; the agent ID shows for the remembered user and the desk phone is filled in', async ({
	page,
	request
}) => {
	const username = uniqueName('seat');
	await createUser(request, {
		username,
		roleKey: 'agent',
		agentId: '8' + String(Date.now()).slice(-4)
	});
	const agentId = (
		await (await request.post('/api/session', { data: { username, password: PASSWORD } })).json()
	).user.agentId as string;
	await request.delete('/api/session');

	await page.goto('/login');
	await expect(page.getByLabel('工号')).toHaveText('（无工号）');
	await signIn(page, username, PASSWORD, '6021');
	await expect(page.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
	await expect(page.getByTestId('header-agent-id')).toHaveText(`工号：${agentId}`);
	await expect(page.getByText('座席电话：6021')).toBeVisible();

	await page.getByRole('button', { name: '退出', exact: true }).click();
	await expect(page.getByRole('heading', { name: '登录' })).toBeVisible();
	await expect(page.getByLabel('用户名')).toHaveValue(username);
	await expect(page.getByLabel('电话')).toHaveValue('6021');
	await expect(page.getByLabel('工号')).toHaveText(agentId);
	// Another name typed on this workstation shows no agent ID: nothing is looked up anonymously.
	await page.getByLabel('用户名').fill('someone-else');
	await expect(page.getByLabel('工号')).toHaveText('（无工号）');

	await page.getByLabel('用户名').fill(username);
	await page.getByLabel('密码').fill('wrong-password');
	await page.getByLabel('密码').press('Enter');
	await expect(page.getByRole('alert')).toHaveText('用户名或密码错误。');
});

test('F3 each role lands on its own home screen', async ({ page, request }) => {
	const homes: [string, string, string][] = [
		['agent', 'department:center', '坐席工作台'],
		['leader', 'department:center', '班长工作台'],
		['department', 'department:engineering', '部门业务'],
		['crew', 'department:engineering-install', '施工任务'],
		['admin', 'department:center', '系统管理']
	];
	for (const [roleKey, departmentId, heading] of homes) {
		const username = uniqueName(roleKey);
		await createUser(request, { username, roleKey, departmentId });
		await signIn(page, username);
		await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
		await page.getByRole('button', { name: '退出', exact: true }).click();
		await expect(page).toHaveURL(/\/login/);
	}
});

test('F1 the first administrator signs in with the printed one-time password and must change it', async ({
	page
}) => {
	// A second server with no ADMIN_PASSWORD: its very first start prints a one-time password.
	const { spawn } = await import('node:child_process');
	const { mkdtempSync } = await import('node:fs');
	const { tmpdir } = await import('node:os');
	const { join } = await import('node:path');
	const port = 4180;
	const dataDir = mkdtempSync(join(tmpdir(), 'cc-otp-'));
	const child = spawn('node', ['build/server/index.js'], {
		env: {
			...process.env,
			PORT: String(port),
			HOST: '127.0.0.1',
			DATA_DIR: dataDir,
			ADMIN_PASSWORD: '',
			TELEPHONY: 'off',
			...couchEnv(dataDir)
		}
	});
	try {
		let output = '';
		const password = await new Promise<string>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`no password printed: ${output}`)), 30_000);
			child.stdout.on('data', (chunk: Buffer) => {
				output += chunk.toString();
				const match = /password\s+(\S{12})\s+\(one-time/.exec(output);
				if (match) {
					clearTimeout(timer);
					resolve(match[1]!);
				}
			});
		});
		expect(output).toContain(`http://127.0.0.1:${port}/`);
		// npm run test:couchdb: the Apache CouchDB of COUCHDB_URL instead of the embedded store.
		expect(output).toMatch(
			process.env.COUCHDB_URL ? /Store:\s+Apache CouchDB/ : /Store:\s+embedded/
		);

		await page.goto(`http://127.0.0.1:${port}/login`);
		await page.getByLabel('用户名').fill('admin');
		await page.getByLabel('密码').fill(password);
		await page.getByLabel('密码').press('Enter');
		await expect(page.getByRole('heading', { name: '修改密码' })).toBeVisible();
		await page.goto(`http://127.0.0.1:${port}/admin`);
		await expect(page.getByRole('heading', { name: '修改密码' })).toBeVisible();
		await page.getByLabel('当前密码').fill(password);
		await page.getByRole('textbox', { name: '新密码', exact: true }).fill('brand-new-pass');
		await page.getByLabel('确认新密码').fill('brand-new-pass');
		await page.getByLabel('确认新密码').press('Enter');
		await expect(page.getByRole('heading', { name: '系统管理' })).toBeVisible();
	} finally {
		child.kill('SIGTERM');
	}
});

test('F9 退出所有设备 ends the sign-in on every other browser, which goes to the sign-in page and says why', async ({
	browser,
	request
}) => {
	const username = uniqueName('everywhere');
	await createUser(request, {
		username,
		roleKey: 'department',
		departmentId: 'department:engineering'
	});
	const tablet = await browser.newContext();
	const office = await browser.newContext();
	const onTablet = await tablet.newPage();
	const inOffice = await office.newPage();
	await signIn(onTablet, username);
	await expect(onTablet.getByRole('heading', { level: 1 })).toBeVisible();
	await signIn(inOffice, username);
	await expect(inOffice.getByRole('heading', { level: 1 })).toBeVisible();

	inOffice.once('dialog', (dialog) => void dialog.accept());
	await inOffice.getByRole('button', { name: '退出所有设备' }).click();
	await expect(inOffice).toHaveURL(/\/login$/);
	// The tablet learns it from the server (its replication is refused) and goes to the sign-in page.
	await expect(onTablet).toHaveURL(/\/login$/, { timeout: 20_000 });
	await expect(onTablet.getByRole('status').filter({ hasText: '您的登录已结束' })).toBeVisible();
	const session = await onTablet.request.get('/api/session');
	expect(session.status()).toBe(401);
	await tablet.close();
	await office.close();
});

test('F27 a sign-in the server ended keeps its tickets on the browser for that user only: the next user of the browser cannot open them', async ({
	page,
	request
}) => {
	const agent = uniqueName('agprv');
	const clerk = uniqueName('clprv');
	await createUser(request, { username: agent, roleKey: 'agent' });
	await createUser(request, {
		username: clerk,
		roleKey: 'department',
		departmentId: 'department:engineering'
	});
	await signIn(page, agent);
	await expect(page.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
	await page.goto('/agent?caller=0571-88885555');
	const entry = page.getByRole('region', { name: '业务记录' });
	await entry.getByLabel('服务类型').selectOption({ label: '咨询' });
	await entry.getByLabel('服务内容').fill('咨询套餐价格（仅本人可见）');
	await entry.getByRole('button', { name: '中心处理' }).click();
	const done = page.getByRole('status').filter({ hasText: '已由中心处理完毕' });
	const number = /业务 (\S+) 已由/.exec((await done.textContent()) ?? '')![1]!;

	// An administrator ends the agent's sign-in; the browser is left as it was, not signed out.
	await request.post('/api/session', { data: { username: 'admin', password: E2E_ADMIN_PASSWORD } });
	let ticketId = '';
	await expect
		.poll(async () => {
			const list = (await (await request.get('/api/tickets/list')).json()) as {
				tickets?: { _id: string; number: string }[];
			};
			ticketId = list.tickets?.find((t) => t.number === number)?._id ?? '';
			return ticketId;
		}, 'the ticket to reach the server')
		.not.toBe('');
	const forced = await request.post(
		`/api/users/${encodeURIComponent(`user:${agent.toLowerCase()}`)}/sign-out`,
		{ data: {} }
	);
	expect(forced.status(), await forced.text()).toBe(200);
	await request.delete('/api/session');
	await expect(page).toHaveURL(/\/login$/, { timeout: 20_000 });

	// The next user of this browser, a department clerk, cannot open the agent's ticket.
	await signIn(page, clerk);
	await expect(page.getByRole('heading', { name: '部门业务' })).toBeVisible();
	await page.goto(`/tickets/${encodeURIComponent(ticketId)}`);
	await expect(page.getByRole('alert')).toBeVisible();
	await expect(page.getByText('咨询套餐价格（仅本人可见）')).toHaveCount(0);
	await page.getByRole('button', { name: '退出', exact: true }).click();
	// Signed out (before that, the sign-in page would send the clerk's session home again).
	await expect(page).toHaveURL(/\/login$/);

	// The agent, back on this browser, still has it.
	await signIn(page, agent);
	await expect(
		page.getByRole('table', { name: '我记录的业务' }).getByRole('row').filter({ hasText: number })
	).toBeVisible();
});
