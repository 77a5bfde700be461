import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../../playwright.config';
import { createUser, pushTickets, signIn, uniqueName } from './helpers';
import { buildTicket } from '../../src/lib/shared/tickets/ticket';

async function asAdmin(page: Page) {
	await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
	await expect(page.getByRole('heading', { name: '系统管理' })).toBeVisible();
}

/** A ticket recorded by `username` (written the way a device does: replicated through /sync). */
async function recordTicket(request: APIRequestContext, username: string) {
	const now = new Date().toISOString();
	const ticket = buildTicket(
		`ticket:${username}-1`,
		[
			{
				id: `${username}-e1`,
				type: 'created',
				at: now,
				by: `user:${username}`,
				number: `${username}-1`,
				callerNumber: '13800000000',
				customerIds: [],
				departmentId: 'department:center',
				serviceTypeId: null,
				contentCategoryId: null,
				content: '无信号',
				callbackRequired: false
			}
		],
		'department:center'
	);
	await pushTickets(request, username, [ticket]);
}

test('F5 the user list searches, filters by department and sorts by clicking a column header', async ({
	page,
	request
}) => {
	const tag = uniqueName('lst');
	for (const [suffix, dept] of [
		['a', 'department:network'],
		['b', 'department:network'],
		['c', 'department:billing']
	] as const) {
		await createUser(request, {
			username: `${tag}${suffix}`,
			roleKey: 'department',
			departmentId: dept
		});
	}
	await asAdmin(page);
	await page
		.getByRole('navigation', { name: '系统管理菜单' })
		.getByRole('link', { name: '用户管理' })
		.click();
	await page.getByLabel('搜索').fill(tag);
	const table = page.getByRole('table', { name: '用户管理' });
	await expect(table.getByRole('row')).toHaveCount(4);
	await page.getByLabel('部门筛选').selectOption({ label: '网络部' });
	await expect(table.getByRole('row')).toHaveCount(3);
	await page.getByLabel('部门筛选').selectOption('');

	const firstCell = () => table.getByRole('row').nth(1).getByRole('cell').first();
	await expect(firstCell()).toHaveText(`${tag}a`);
	await table.getByRole('button', { name: /用户名/ }).click();
	await expect(table.getByRole('columnheader', { name: /用户名/ })).toHaveAttribute(
		'aria-sort',
		'descending'
	);
	await expect(firstCell()).toHaveText(`${tag}c`);
	await table.getByRole('button', { name: /部门/ }).click();
	await expect(firstCell()).toHaveText(`${tag}c`);
	await expect(page.getByText(/共 3 人/)).toBeVisible();
});

test('F4 F6 F7 F9 an administrator adds a user, assigns an agent ID, resets the password and disables the account', async ({
	page,
	browser
}) => {
	const username = uniqueName('add');
	await asAdmin(page);
	await page.goto('/admin/users');
	await page.getByRole('button', { name: '添加用户' }).click();
	const form = page.getByRole('region', { name: '添加用户' });
	await form.getByLabel('用户名').fill(username);
	await form.getByLabel('姓名').fill('赵六');
	await form.getByLabel('部门').selectOption({ label: '客服中心' });
	await form.getByLabel('出生日期').fill('1988-08-08');
	await form.getByLabel('电话').fill('13600000000');
	await form.getByLabel('角色').selectOption({ label: '坐席' });
	await form.getByRole('button', { name: '添加' }).click();
	const created = page.getByRole('status').filter({ hasText: '一次性密码' });
	await expect(created).toContainText(`已添加用户 ${username}`);
	const firstPassword = /一次性密码：(\S+?)（/.exec((await created.textContent()) ?? '')![1]!;

	await page.getByLabel('搜索').fill(username);
	await page.getByRole('link', { name: `详情 ${username}` }).click();
	await expect(page.getByRole('heading', { level: 1 })).toContainText(username);

	// F7: a malformed agent ID is refused, a good one saved.
	await page.getByRole('textbox', { name: '工号', exact: true }).fill('12a');
	await page.getByRole('textbox', { name: '工号', exact: true }).press('Enter');
	await expect(page.getByText('工号为 3–8 位数字')).toBeVisible();
	await page.getByRole('textbox', { name: '工号', exact: true }).fill('7301');
	await page.getByRole('textbox', { name: '工号', exact: true }).press('Enter');
	await expect(page.getByRole('status')).toHaveText('工号已保存。');

	// F6: the reset issues a new one-time password; the old one stops working.
	await page.getByRole('button', { name: '密码重置' }).click();
	const reset = page.getByRole('status');
	await expect(reset).toContainText(`${username} 的新一次性密码`);
	const newPassword = /新一次性密码：(\S+?)（/.exec((await reset.textContent()) ?? '')![1]!;
	expect(newPassword).not.toBe(firstPassword);

	const other = await browser.newContext({ locale: 'zh-CN' });
	const userPage = await other.newPage();
	await signIn(userPage, username, firstPassword);
	await expect(userPage.getByRole('alert')).toHaveText('用户名或密码错误。');
	await signIn(userPage, username, newPassword);
	await expect(userPage.getByRole('heading', { name: '修改密码' })).toBeVisible();
	await userPage.getByLabel('当前密码').fill(newPassword);
	await userPage.getByRole('textbox', { name: '新密码', exact: true }).fill('zhao-liu-pass');
	await userPage.getByLabel('确认新密码').fill('zhao-liu-pass');
	await userPage.getByLabel('确认新密码').press('Enter');
	await expect(userPage.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
	await expect(userPage.getByTestId('header-agent-id')).toHaveText('工号：7301');

	// F9: disabling signs the user out everywhere at once.
	await page.getByRole('button', { name: '禁用' }).click();
	await expect(page.getByRole('status')).toContainText('已禁用');
	await userPage.reload();
	await expect(userPage.getByRole('heading', { name: '登录' })).toBeVisible();
	await signIn(userPage, username, 'zhao-liu-pass');
	await expect(userPage.getByRole('alert')).toHaveText('您的账号已被禁用，请联系管理员。');
	await page.getByRole('button', { name: '启用' }).click();
	await signIn(userPage, username, 'zhao-liu-pass');
	await expect(userPage.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
	await other.close();
});

test('F8 deleting a user who recorded a ticket is refused with the reason; others can be deleted', async ({
	page,
	request
}) => {
	const busy = uniqueName('busy');
	const idle = uniqueName('idle');
	await createUser(request, { username: busy, roleKey: 'agent' });
	await createUser(request, { username: idle, roleKey: 'agent' });
	await recordTicket(request, busy);
	await asAdmin(page);
	page.on('dialog', (dialog) => void dialog.accept());

	await page.goto(`/admin/users/${encodeURIComponent(`user:${busy}`)}`);
	await page.getByRole('button', { name: '删除用户' }).click();
	await expect(page.getByRole('alert')).toHaveText(
		'不能删除：该用户已记录过 1 条业务。可以改为禁用该账号。'
	);

	await page.goto(`/admin/users/${encodeURIComponent(`user:${idle}`)}`);
	await page.getByRole('button', { name: '删除用户' }).click();
	await expect(page).toHaveURL(/\/admin\/users$/);
	await page.getByLabel('搜索').fill(idle);
	await expect(page.getByRole('table', { name: '用户管理' }).getByRole('row')).toHaveCount(1);
});

test('F10 F11 a role is a template: applying it sets the ticks, which can then be changed', async ({
	page,
	request
}) => {
	const username = uniqueName('perm');
	const roleName = `质检${Date.now().toString(36)}`;
	await createUser(request, { username, roleKey: 'crew' });
	await asAdmin(page);
	await page.goto('/admin/roles');
	await page.getByLabel('名称').fill(roleName);
	await page.getByRole('checkbox', { name: '收听录音' }).check();
	await page.getByRole('checkbox', { name: '统计', exact: true }).check();
	await page.getByRole('button', { name: '保存' }).click();
	await expect(page.getByRole('cell', { name: roleName, exact: true })).toBeVisible();
	await page.getByRole('button', { name: `修改 ${roleName}` }).click();
	await expect(page.getByLabel('名称')).toHaveAttribute('readonly', '');

	await page.goto(`/admin/users/${encodeURIComponent(`user:${username}`)}`);
	await expect(page.getByRole('checkbox', { name: '施工队' })).toBeChecked();
	await page.getByLabel('选择角色').selectOption({ label: roleName });
	await page.getByRole('button', { name: '套用角色' }).click();
	await expect(page.getByRole('checkbox', { name: '施工队' })).not.toBeChecked();
	await expect(page.getByRole('checkbox', { name: '收听录音' })).toBeChecked();
	await page.getByRole('checkbox', { name: '客户查询' }).check();
	await page
		.getByRole('region', { name: '权限分配' })
		.getByRole('button', { name: '保存' })
		.click();
	await expect(page.getByRole('status')).toHaveText('权限已保存。');
	await page.reload();
	await expect(page.getByRole('checkbox', { name: '客户查询' })).toBeChecked();
	await expect(page.getByRole('checkbox', { name: '收听录音' })).toBeChecked();
	await expect(page.getByText(`角色: ${roleName}`)).toBeVisible();
});

test('F12 the department tree: add, rename, move never under itself, delete refused while sub-departments or users remain', async ({
	page,
	browser,
	request
}) => {
	const name = `维修${Date.now().toString(36)}`;
	await createUser(request, {
		username: uniqueName('bill'),
		roleKey: 'department',
		departmentId: 'department:billing'
	});
	await asAdmin(page);
	page.on('dialog', (dialog) => void dialog.accept());
	await page.goto('/admin/departments');
	await page.getByRole('button', { name: '选择 工程部' }).click();
	await page.getByLabel('添加下级部门').fill(name);
	await page.getByLabel('添加下级部门').press('Enter');
	await expect(page.getByRole('button', { name: `选择 ${name}` })).toBeVisible();

	// An agent's browser sees the new department through replication within seconds.
	const username = uniqueName('obs');
	await createUser(request, { username, roleKey: 'agent' });
	const other = await browser.newContext({ locale: 'zh-CN' });
	const observer = await other.newPage();
	await signIn(observer, username);
	await observer.getByRole('link', { name: '组织架构' }).click();
	await expect(observer.getByRole('list', { name: '部门' }).getByText(name)).toBeVisible();

	await page.getByRole('button', { name: `选择 ${name}` }).click();
	await expect(page.getByLabel('上级部门').locator('option', { hasText: name })).toHaveCount(0);
	await page.getByRole('textbox', { name: '名称', exact: true }).fill(`${name}改`);
	await page.getByLabel('上级部门').selectOption({ label: '网络部' });
	await page.getByRole('button', { name: '保存' }).first().click();
	await expect(page.getByRole('status')).toHaveText('已保存。');
	await expect(observer.getByRole('list', { name: '部门' }).getByText(`${name}改`)).toBeVisible({
		timeout: 5_000
	});
	await other.close();

	await page.getByRole('button', { name: '选择 网络部' }).click();
	await page.getByRole('button', { name: '删除', exact: true }).click();
	await expect(page.getByRole('alert')).toContainText('不能删除：还有 1 个下级部门');
	await page.getByRole('button', { name: '选择 财务部' }).click();
	await page.getByRole('button', { name: '删除', exact: true }).click();
	await expect(page.getByRole('alert')).toHaveText(/^不能删除：还有 \d+ 个用户。$/);

	await page.getByRole('button', { name: `选择 ${name}改` }).click();
	await page.getByRole('button', { name: '删除', exact: true }).click();
	await expect(page.getByRole('status')).toHaveText('已删除。');
	await expect(page.getByRole('button', { name: `选择 ${name}改` })).toHaveCount(0);
});

test('F13 F14 a department flow and service phrases grouped by call stage, reordered', async ({
	page
}) => {
	const flow = `报修${Date.now().toString(36)}`;
	await asAdmin(page);
	await page.goto('/admin/flows');
	await page.getByLabel('名称').fill(flow);
	await page.getByLabel('第 1 步').selectOption({ label: '客服中心' });
	await page.getByLabel('第 2 步').selectOption({ label: '网络部' });
	await page.getByRole('button', { name: '保存' }).click();
	await expect(page.getByRole('listitem').filter({ hasText: flow })).toContainText(
		'客服中心 → 网络部'
	);

	await page.goto('/admin/phrases');
	const phrases: [string, string][] = [
		['问好', '您好，这里是广电客服中心。'],
		['报号', '请问您的客户编号是多少？']
	];
	for (const [name, text] of phrases) {
		await page.getByLabel('通话阶段').selectOption({ label: '问候' });
		await page.getByLabel('名称').fill(name);
		await page.getByLabel('用语内容').fill(text);
		await page.getByRole('button', { name: '保存' }).click();
		await expect(page.getByRole('status')).toHaveText('已保存。');
	}
	const greeting = page.getByRole('region', { name: '问候' });
	const order = async () =>
		(await greeting.getByRole('listitem').allTextContents())
			.map((text) => (text.includes('问好') ? '问好' : text.includes('报号') ? '报号' : 'other'))
			.filter((x) => x !== 'other');
	await expect(greeting.getByRole('listitem')).toHaveCount(3);
	expect(await order()).toEqual(['问好', '报号']);
	await greeting.getByRole('button', { name: '下移 问好' }).click();
	await expect.poll(order).toEqual(['报号', '问好']);
	await page.reload();
	await expect(greeting.getByRole('listitem')).toHaveCount(3);
	await expect.poll(order).toEqual(['报号', '问好']);
});

test('F33 the audit log shows who changed what, filtered by record', async ({ page, request }) => {
	const username = uniqueName('aud');
	await createUser(request, { username, roleKey: 'agent' });
	await asAdmin(page);
	await page.goto('/admin/audit');
	await page.getByLabel('对象').fill(`user:${username}`);
	await page.getByRole('button', { name: '筛选' }).click();
	const table = page.getByRole('table', { name: '审计日志' });
	await expect(table.getByRole('row')).toHaveCount(3);
	await expect(table.getByRole('cell', { name: 'user.approve' })).toBeVisible();
	await expect(table.getByRole('cell', { name: 'user.register' })).toBeVisible();
	await expect(table.getByRole('row').filter({ hasText: 'user.approve' })).toContainText(
		'user:admin'
	);
});

test('F12 a field crew is a named team of the department’s users, managed beside the tree', async ({
	page,
	request
}) => {
	const fitter = uniqueName('fit');
	const crew = `抢修${Date.now().toString(36)}`;
	await createUser(request, {
		username: fitter,
		roleKey: 'crew',
		departmentId: 'department:engineering-install'
	});
	await asAdmin(page);
	await page.goto('/admin/departments');
	await page.getByRole('button', { name: '选择 安装维修队' }).click();
	await page.getByLabel('施工队名称').fill(crew);
	await page.getByRole('checkbox', { name: new RegExp(`\\(${fitter}\\)`) }).check();
	await page.getByRole('button', { name: '添加施工队' }).click();
	await expect(page.getByRole('listitem').filter({ hasText: crew })).toContainText(`${crew} (1)`);
	// The crew now holds the department: it cannot be deleted while the crew exists.
	page.on('dialog', (dialog) => void dialog.accept());
	await page.getByRole('button', { name: '删除', exact: true }).click();
	await expect(page.getByRole('alert')).toContainText('个施工队');
});

test('F12 a stale edit is refused with a message instead of overwriting someone else’s change', async ({
	page,
	browser
}) => {
	const name = `客服${Date.now().toString(36)}`;
	await asAdmin(page);
	await page.goto('/admin/departments');
	await page.getByLabel('添加顶级部门').fill(name);
	await page.getByLabel('添加顶级部门').press('Enter');
	await page.getByRole('button', { name: `选择 ${name}` }).click();

	const other = await browser.newContext({ locale: 'zh-CN' });
	const second = await other.newPage();
	await signIn(second, 'admin', E2E_ADMIN_PASSWORD);
	await expect(second.getByRole('heading', { name: '系统管理' })).toBeVisible();
	await second.goto('/admin/departments');
	await second.getByRole('button', { name: `选择 ${name}` }).click();
	await second.getByRole('textbox', { name: '名称', exact: true }).fill(`${name}甲`);
	await second.getByRole('button', { name: '保存' }).first().click();
	await expect(second.getByRole('status')).toHaveText('已保存。');
	await other.close();

	await page.getByRole('textbox', { name: '名称', exact: true }).fill(`${name}乙`);
	await page.getByRole('button', { name: '保存' }).first().click();
	await expect(page.getByRole('alert')).toHaveText('该记录已被他人修改，请刷新后重试。');
	await expect(page.getByRole('button', { name: `选择 ${name}甲` })).toBeVisible();
});

test('F34 the administration screens speak English too', async ({ page }) => {
	await asAdmin(page);
	await page.getByLabel('语言').selectOption('en');
	await page
		.getByRole('navigation', { name: 'Administration menu' })
		.getByRole('link', { name: 'Users' })
		.click();
	await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
	await expect(page.getByRole('columnheader', { name: /User name/ })).toBeVisible();
	await page.goto('/admin/departments');
	await expect(page.getByRole('heading', { name: 'Departments', level: 1 })).toBeVisible();
	await page.getByRole('button', { name: 'Select 客服中心' }).click();
	page.on('dialog', (dialog) => void dialog.accept());
	await page.getByRole('button', { name: 'Delete', exact: true }).click();
	await expect(page.getByRole('alert')).toContainText('Cannot delete:');
	await expect(page.getByRole('alert')).toContainText('the service center cannot be deleted');
	await page.getByLabel('Language').selectOption('zh-CN');
});

test('#14 integrators read the API reference: every route with what it requires, served by this server', async ({
	page
}) => {
	await asAdmin(page);
	await page.goto('/api/reference');
	await expect(page.getByRole('heading', { name: /广电呼叫中心 API/ })).toBeVisible();
	// Swagger UI lists the operations; the user administration's routes are among them.
	await expect(page.getByText('/api/users/{id}/sign-out').first()).toBeVisible();
	const requests: string[] = [];
	page.on('request', (r) => requests.push(new URL(r.url()).origin));
	await page.reload();
	await expect(page.getByRole('heading', { name: /广电呼叫中心 API/ })).toBeVisible();
	expect(new Set(requests)).toEqual(new Set([new URL(page.url()).origin]));
});

test('F23 语音导航: an administrator builds a menu of nodes and keys, is told which field is wrong, saves and edits it', async ({
	page
}) => {
	const name = `宽带热线${Date.now().toString(36)}`;
	const hotline = `9${String(Date.now()).slice(-6)}`;
	await asAdmin(page);
	await page
		.getByRole('navigation', { name: '系统管理菜单' })
		.getByRole('link', { name: '语音导航' })
		.click();
	await expect(page.getByRole('heading', { name: '语音导航', level: 1 })).toBeVisible();
	await expect(page.getByTestId('ivr-hotlines')).toHaveText('本服务器的语音导航热线：96001');
	const list = page.getByRole('region', { name: '语音导航列表' });
	await expect(list.getByRole('row', { name: /默认语音导航/ })).toContainText(
		'其余语音导航热线（默认）'
	);

	const editor = page.getByRole('region', { name: '新建语音导航' });
	await editor.getByRole('textbox', { name: '名称', exact: true }).fill(name);
	await editor.getByLabel('热线号码').fill(hotline);
	const main = editor.getByRole('group', { name: /^节点 1（来电从这里开始）/ });
	await main.getByLabel('节点名称').fill('宽带主菜单');
	await main
		.getByRole('textbox', { name: '提示语', exact: true })
		.fill('宽带业务请按1，人工服务请按0。');
	await expect(main.getByLabel('按 0 转入的业务队列')).toHaveValue('general');
	await main.getByRole('button', { name: '添加按键' }).click();
	await main.getByLabel('按 1 的动作').selectOption({ label: '进入下一级' });
	await editor.getByRole('button', { name: '添加节点' }).click();
	const repair = editor.getByRole('group', { name: /^节点 2/ });
	await repair.getByLabel('节点名称').fill('宽带报修');
	await main.getByLabel('按 1 进入的节点').selectOption({ label: '宽带报修' });

	// A key used twice is caught before sending, beside the key.
	await main.getByLabel('第 2 个按键').selectOption('0');
	await editor.getByRole('button', { name: '保存' }).click();
	await expect(main.getByRole('alert')).toHaveText('本节点已有这个按键');
	await main.getByLabel('第 2 个按键').selectOption('1');
	await main.getByLabel('按 1 进入的节点').selectOption({ label: '宽带报修' });

	// Node 2 has no prompt: the server says so beside it, and the cursor goes there.
	await editor.getByRole('button', { name: '保存' }).click();
	await expect(repair.getByRole('alert')).toHaveText('此项为必填项');
	await expect(repair.getByRole('textbox', { name: '提示语', exact: true })).toBeFocused();
	await repair
		.getByRole('textbox', { name: '提示语', exact: true })
		.fill('故障报修请按1，返回上一级请按星号。');
	// Enter in a field saves, as everywhere in the product.
	await editor.getByRole('textbox', { name: '名称', exact: true }).press('Enter');
	await expect(page.getByRole('status')).toHaveText('已保存。');
	const row = list.getByRole('row', { name: new RegExp(name) });
	await expect(row).toContainText(hotline);
	await expect(row).toContainText('宽带主菜单、宽带报修');

	// Edited: the form comes back filled; the change shows in the list.
	await row.getByRole('button', { name: `修改 ${name}` }).click();
	const editing = page.getByRole('region', { name: `编辑“${name}”` });
	await expect(editing.getByRole('group', { name: /^节点 2/ }).getByLabel('节点名称')).toHaveValue(
		'宽带报修'
	);
	await expect(
		editing.getByRole('group', { name: /^节点 1/ }).getByLabel('按 1 进入的节点')
	).toHaveValue('node2');
	await editing
		.getByRole('group', { name: /^节点 2/ })
		.getByLabel('节点名称')
		.fill('宽带故障报修');
	await editing.getByRole('button', { name: '保存' }).click();
	await expect(page.getByRole('status')).toHaveText('已保存。');
	await expect(row).toContainText('宽带主菜单、宽带故障报修');

	// The default menu answers every other voice-menu hotline: it cannot be deleted.
	page.once('dialog', (dialog) => void dialog.accept());
	await list.getByRole('button', { name: '删除 默认语音导航' }).click();
	await expect(page.getByRole('alert').filter({ hasText: '不能删除' })).toHaveText(
		'不能删除：默认语音导航用于其余所有语音导航热线。'
	);
});
