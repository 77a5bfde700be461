import { expect, test } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../../playwright.config';
import { createUser, pushTickets, signIn, uniqueName } from './helpers';
import { buildTicket } from '../../src/lib/shared/tickets/ticket';
import { recordedTicket } from '../helpers/tickets';

test('F19 F20 F21 an agent transfers a ticket; the department sees it within seconds and returns it to the center', async ({
	page,
	browser,
	request
}) => {
	const agent = uniqueName('ag');
	const net = uniqueName('net');
	await createUser(request, { username: agent, roleKey: 'agent' });
	await createUser(request, {
		username: net,
		roleKey: 'department',
		departmentId: 'department:network'
	});

	const deptContext = await browser.newContext({ locale: 'zh-CN' });
	const dept = await deptContext.newPage();
	await signIn(dept, net);
	await expect(dept.getByRole('heading', { name: '部门业务' })).toBeVisible();
	const inbox = dept.getByRole('region', { name: '移交到本部门的业务' });
	await expect(inbox).toBeVisible();

	await signIn(page, agent);
	await expect(page.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
	await page.goto('/agent?caller=0571-88886666');
	const entry = page.getByRole('region', { name: '业务记录' });
	await expect(entry.getByLabel('来电号码')).toHaveValue('0571-88886666');
	await entry.getByLabel('处理部门').selectOption({ label: '网络部' });
	await expect(entry.getByRole('button', { name: '中心处理' })).toBeDisabled();
	await entry.getByLabel('服务类型').selectOption({ label: '报修' });
	await entry.getByLabel('内容选择').selectOption({ label: '数字电视' });
	await entry.getByLabel('服务内容').fill('机顶盒无信号，已重启无效');
	await entry.getByRole('button', { name: '移交执行' }).click();
	const done = page.getByRole('status').filter({ hasText: '已移交' });
	await expect(done).toContainText('已移交 网络部');
	const number = /业务 (\S+) 已移交/.exec((await done.textContent()) ?? '')![1]!;
	expect(number).toMatch(/^\d{8}-[0-9A-Z]{3,}-0001$/);

	// The department's open page receives it through replication, within seconds, saying what it is about.
	const received = inbox.getByRole('row').filter({ hasText: number });
	await expect(received).toContainText('机顶盒无信号，已重启无效', { timeout: 5_000 });
	await expect(received).toContainText('报修');
	await dept.getByRole('button', { name: `处理 ${number}` }).click();
	await expect(dept.getByRole('list', { name: '处理经过' })).toContainText('机顶盒无信号');
	await dept.getByLabel('处理内容').fill('更换分支器，信号恢复');
	await dept.getByRole('button', { name: '提交处理' }).click();
	await expect(dept.getByRole('status')).toHaveText(`业务 ${number} 已处理。`);
	// Handled: it leaves the inbox (other tests' tickets may still wait there).
	await expect(inbox.getByRole('button', { name: `处理 ${number}` })).toHaveCount(0);
	await deptContext.close();

	// Back at the center; 报修 needs a callback (回访) before it closes.
	const row = page
		.getByRole('table', { name: '我记录的业务' })
		.getByRole('row')
		.filter({ hasText: number });
	await expect(row).toContainText('待回访', { timeout: 5_000 });
	await expect(row).toContainText('客服中心');
});

test('F21 a department whose computer clock runs ten minutes behind still records its handling, and the center sees it', async ({
	page,
	browser,
	request
}) => {
	const agent = uniqueName('ag');
	const net = uniqueName('net');
	await createUser(request, { username: agent, roleKey: 'agent' });
	await createUser(request, {
		username: net,
		roleKey: 'department',
		departmentId: 'department:network'
	});
	const deptContext = await browser.newContext({ locale: 'zh-CN' });
	const dept = await deptContext.newPage();
	// The department's computer believes it is ten minutes earlier than the center's.
	await dept.clock.setFixedTime(new Date(Date.now() - 10 * 60_000));
	await signIn(dept, net);
	await expect(dept.getByRole('heading', { name: '部门业务' })).toBeVisible();

	await signIn(page, agent);
	await expect(page.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
	await page.goto('/agent?caller=0571-88881234');
	const entry = page.getByRole('region', { name: '业务记录' });
	await entry.getByLabel('处理部门').selectOption({ label: '网络部' });
	await entry.getByLabel('服务类型').selectOption({ label: '报修' });
	await entry.getByLabel('服务内容').fill('信号时有时无');
	await entry.getByRole('button', { name: '移交执行' }).click();
	const done = page.getByRole('status').filter({ hasText: '已移交' });
	const number = /业务 (\S+) 已移交/.exec((await done.textContent()) ?? '')![1]!;

	await dept.getByRole('button', { name: `处理 ${number}` }).click({ timeout: 10_000 });
	await dept.getByLabel('处理内容').fill('调整放大器，信号稳定');
	await dept.getByRole('button', { name: '提交处理' }).click();
	await expect(dept.getByRole('status')).toHaveText(`业务 ${number} 已处理。`);
	// The server took the handling (it follows the transfer, whatever the clock said): back at the center.
	const row = page
		.getByRole('table', { name: '我记录的业务' })
		.getByRole('row')
		.filter({ hasText: number });
	await expect(row).toContainText('待回访', { timeout: 10_000 });
	await deptContext.close();
});

test('F20 中心处理 closes at the center, keyboard only, and works offline', async ({
	page,
	context,
	request
}) => {
	const agent = uniqueName('kb');
	await createUser(request, { username: agent, roleKey: 'agent' });
	await signIn(page, agent);
	await expect(page.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
	await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, {
		timeout: 20_000
	});

	await context.setOffline(true);
	const entry = page.getByRole('region', { name: '业务记录' });
	await entry.getByLabel('来电号码').fill('13912345678');
	await entry.getByLabel('来电号码').press('Enter');
	await expect(entry.getByLabel('处理部门')).toBeFocused();
	await page.keyboard.press('Enter');
	await expect(entry.getByLabel('服务类型')).toBeFocused();
	await entry.getByLabel('服务类型').selectOption({ label: '咨询' });
	await entry.getByLabel('服务类型').press('Enter');
	await page.keyboard.press('Enter');
	await expect(entry.getByLabel('服务内容')).toBeFocused();
	await page.keyboard.type('咨询套餐价格');
	await page.keyboard.press('Control+Enter');
	await expect(page.getByRole('status').filter({ hasText: '中心处理完毕' })).toBeVisible();
	const table = page.getByRole('table', { name: '我记录的业务' });
	await expect(table.getByRole('row').filter({ hasText: '13912345678' })).toContainText('已完结');

	// Still there after a reload without network, and on the server once it is back.
	await page.reload();
	await expect(table.getByRole('row').filter({ hasText: '13912345678' })).toContainText('已完结');
	await context.setOffline(false);
	await expect
		.poll(
			async () => {
				const res = await page.request.get('/sync/tickets/_changes');
				return JSON.stringify(await res.json());
			},
			{ timeout: 15_000 }
		)
		.toContain('ticket:');
});

test('F17 the caller’s earlier tickets show beside the entry form, whatever the number’s format', async ({
	page,
	request
}) => {
	const agent = uniqueName('hist');
	await createUser(request, { username: agent, roleKey: 'agent' });
	await signIn(page, agent);
	await expect(page.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
	const entry = page.getByRole('region', { name: '业务记录' });
	await entry.getByLabel('来电号码').fill('0571-8765 4321');
	await entry.getByLabel('服务类型').selectOption({ label: '咨询' });
	await entry.getByLabel('服务内容').fill('询问宽带套餐');
	await entry.getByRole('button', { name: '中心处理' }).click();
	await expect(page.getByRole('status').filter({ hasText: '中心处理完毕' })).toBeVisible();

	await page.goto(`/agent?caller=${encodeURIComponent('+86 571 87654321')}`);
	const history = page.getByRole('list', { name: '历史业务信息' });
	await expect(history.getByRole('listitem')).toHaveCount(1);
	await expect(history).toContainText('受理内容：询问宽带套餐');
	await expect(history).toContainText('已完结');
	await page.getByRole('region', { name: '业务记录' }).getByLabel('来电号码').fill('13000000000');
	await expect(page.getByText('该号码没有历史业务。')).toBeVisible();
});

test('F21 F27 two browsers process the same ticket offline; after syncing both keep both handlings', async ({
	page,
	browser,
	request
}) => {
	const agent = uniqueName('two');
	const clerks = [uniqueName('fa'), uniqueName('fb')];
	await createUser(request, { username: agent, roleKey: 'agent' });
	for (const clerk of clerks) {
		await createUser(request, {
			username: clerk,
			roleKey: 'department',
			departmentId: 'department:billing'
		});
	}
	await signIn(page, agent);
	await expect(page.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
	const entry = page.getByRole('region', { name: '业务记录' });
	await entry.getByLabel('来电号码').fill('13055556666');
	await entry.getByLabel('处理部门').selectOption({ label: '财务部' });
	await entry.getByLabel('服务内容').fill('重复扣费');
	await entry.getByRole('button', { name: '移交执行' }).click();
	const done = page.getByRole('status').filter({ hasText: '已移交' });
	const number = /业务 (\S+) 已移交/.exec((await done.textContent()) ?? '')![1]!;

	const devices = [];
	for (const clerk of clerks) {
		const context = await browser.newContext({ locale: 'zh-CN' });
		const tab = await context.newPage();
		await signIn(tab, clerk);
		await expect(tab.getByRole('heading', { name: '部门业务' })).toBeVisible();
		await tab.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, {
			timeout: 20_000
		});
		await expect(tab.getByRole('button', { name: `处理 ${number}` })).toBeVisible({
			timeout: 10_000
		});
		devices.push({ context, tab, clerk });
	}
	// Both go offline and each records its own handling of the same ticket.
	for (const [i, { context, tab }] of devices.entries()) {
		await context.setOffline(true);
		await tab.getByRole('button', { name: `处理 ${number}` }).click();
		await tab.getByLabel('处理内容').fill(`离线处理${i}`);
		await tab.getByRole('button', { name: '提交处理' }).click();
		await expect(tab.getByRole('status')).toHaveText(`业务 ${number} 已处理。`);
	}
	for (const { context } of devices) await context.setOffline(false);

	// Every browser ends with both handlings in the ticket's history.
	for (const { tab } of devices) {
		await expect(async () => {
			const item = tab
				.getByRole('region', { name: '本部门处理过的业务' })
				.getByRole('listitem')
				.filter({ hasText: number });
			if (
				(await item.getByRole('button', { name: number }).getAttribute('aria-expanded')) !== 'true'
			) {
				await item.getByRole('button', { name: number }).click();
			}
			await expect(item.getByRole('list', { name: '处理经过' })).toContainText('离线处理0', {
				timeout: 1_000
			});
			await expect(item.getByRole('list', { name: '处理经过' })).toContainText('离线处理1', {
				timeout: 1_000
			});
		}).toPass({ timeout: 30_000 });
	}
	for (const { context } of devices) await context.close();
	await page.goto(`/agent?caller=13055556666`);
	await expect(page.getByRole('list', { name: '历史业务信息' })).toContainText(
		'处理情况：离线处理'
	);
});

test('F22 a ticket whose service type needs a callback closes once the callback is recorded', async ({
	page,
	request
}) => {
	const agent = uniqueName('cb');
	await createUser(request, { username: agent, roleKey: 'agent' });
	await signIn(page, agent);
	await expect(page.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
	const entry = page.getByRole('region', { name: '业务记录' });
	await entry.getByLabel('来电号码').fill('13177778888');
	await entry.getByLabel('服务类型').selectOption({ label: '报修' });
	await entry.getByLabel('服务内容').fill('遥控器失灵');
	await entry.getByRole('button', { name: '中心处理' }).click();
	const done = page.getByRole('status').filter({ hasText: '中心处理完毕' });
	const number = /业务 (\S+) 已由中心/.exec((await done.textContent()) ?? '')![1]!;
	const mine = page
		.getByRole('table', { name: '我记录的业务' })
		.getByRole('row')
		.filter({ hasText: number });
	await expect(mine).toContainText('待回访');

	// Other tests' callbacks may be due too: the agent finds this caller's.
	await page.getByLabel('按业务编号或来电号码查找').fill(number);
	const callback = page.getByRole('form', { name: `回访 ${number}` });
	await callback.getByLabel('满意度').selectOption({ label: '满意' });
	await callback.getByLabel('回访记录').fill('已恢复正常');
	await callback.getByRole('button', { name: '记录回访' }).click();
	await expect(page.getByRole('status').filter({ hasText: '已回访' })).toHaveText(
		`业务 ${number} 已回访并完结。`
	);
	await expect(mine).toContainText('已完结');
	await expect(page.getByRole('form', { name: `回访 ${number}` })).toHaveCount(0);
});

test('F20 a transfer to a department deleted meanwhile gets a clear message and nothing is lost', async ({
	page,
	request
}) => {
	const agent = uniqueName('gone');
	await createUser(request, { username: agent, roleKey: 'agent' });
	await request.post('/api/session', { data: { username: 'admin', password: E2E_ADMIN_PASSWORD } });
	const created = await request.post('/api/admin/config/department', {
		data: { name: uniqueName('临时部'), parentId: null }
	});
	expect(created.status()).toBe(201);
	const { item } = (await created.json()) as { item: { _id: string; _rev: string; name: string } };

	await signIn(page, agent);
	await expect(page.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
	const entry = page.getByRole('region', { name: '业务记录' });
	await entry.getByLabel('来电号码').fill('13811112222');
	await entry.getByLabel('处理部门').selectOption({ label: item.name });
	await entry.getByLabel('服务内容').fill('线路检修预约');

	// Deleted by the administrator while the agent is still typing.
	const removed = await request.delete(
		`/api/admin/config/department/${encodeURIComponent(item._id)}?rev=${item._rev}`
	);
	expect(removed.status()).toBe(200);
	await expect(entry.getByLabel('处理部门').locator('option', { hasText: item.name })).toHaveCount(
		0
	);
	await entry.getByRole('button', { name: '移交执行' }).click();
	await expect(entry.getByText('该部门已被删除，请重新选择')).toBeVisible();
	await expect(entry.getByLabel('服务内容')).toHaveValue('线路检修预约');
	await entry.getByLabel('处理部门').selectOption({ label: '网络部' });
	await entry.getByRole('button', { name: '移交执行' }).click();
	await expect(page.getByRole('status').filter({ hasText: '已移交 网络部' })).toBeVisible();
});

test('F22 a center with many callbacks due lists them a page at a time and finds one by caller number', async ({
	page,
	request
}) => {
	const agent = uniqueName('cbp');
	await createUser(request, { username: agent, roleKey: 'agent' });
	// 23 callbacks due, recorded and closed at the center by this agent as a device writes them.
	const start = Date.now() - 3_600_000;
	const docs = Array.from({ length: 23 }, (_, i) => {
		const at = (minutes: number) => new Date(start + i * 60_000 + minutes * 1_000).toISOString();
		const ticket = buildTicket(
			`ticket:${agent}-${i}`,
			[
				{
					id: `${agent}-${i}-a`,
					type: 'created',
					at: at(0),
					by: `user:${agent}`,
					number: `${agent}-${String(i).padStart(2, '0')}`,
					callerNumber: `1390000${String(i).padStart(4, '0')}`,
					customerIds: [],
					departmentId: 'department:center',
					serviceTypeId: null,
					contentCategoryId: null,
					content: '回访分页',
					callbackRequired: true
				},
				{ id: `${agent}-${i}-b`, type: 'closedAtCenter', at: at(1), by: `user:${agent}`, note: '' }
			],
			'department:center'
		);
		return ticket;
	});
	await pushTickets(request, agent, docs);

	await signIn(page, agent);
	const list = page.getByRole('region', { name: '待回访' });
	await list.getByLabel('按业务编号或来电号码查找').fill(agent);
	// Oldest first, ten to a page.
	const pager = list.getByRole('navigation', { name: /第 1 \/ 3 页，共 23 条待回访/ });
	await expect(pager).toBeVisible({ timeout: 15_000 });
	await expect(list.getByRole('form')).toHaveCount(10);
	await expect(list.getByRole('form').first()).toHaveAccessibleName(`回访 ${agent}-00`);
	const next = list.getByRole('navigation').getByRole('button', { name: '下一页' });
	await next.click();
	await expect(list.getByRole('navigation')).toHaveAccessibleName('第 2 / 3 页，共 23 条待回访');
	await next.click();
	await expect(list.getByRole('navigation')).toHaveAccessibleName('第 3 / 3 页，共 23 条待回访');
	await expect(list.getByRole('form')).toHaveCount(3);
	await expect(list.getByRole('button', { name: '下一页' })).toBeDisabled();

	// One caller's: found by number, and recording it closes it.
	await list.getByLabel('按业务编号或来电号码查找').fill('13900000017');
	await expect(list.getByRole('form')).toHaveCount(1);
	const one = list.getByRole('form', { name: `回访 ${agent}-17` });
	await one.getByLabel('满意度').selectOption({ label: '满意' });
	await one.getByRole('button', { name: '记录回访' }).click();
	await expect(list.getByRole('status')).toHaveText(`业务 ${agent}-17 已回访并完结。`);
	await expect(list.getByRole('form')).toHaveCount(0);
	await list.getByLabel('按业务编号或来电号码查找').fill(agent);
	await expect(list.getByRole('navigation')).toHaveAccessibleName('第 1 / 3 页，共 22 条待回访');
});

test('F27 F3 a device’s first sync shows its progress in the header: the tickets received so far, then 已同步', async ({
	browser,
	request
}) => {
	const agent = uniqueName('first');
	await createUser(request, { username: agent, roleKey: 'agent' });
	// 600 tickets of this agent already on the server (recorded on another device): two pull batches.
	await pushTickets(
		request,
		agent,
		Array.from({ length: 600 }, (_, i) => recordedTicket(`${agent}-${i}`, `user:${agent}`))
	);

	// A new browser: once it has been given 500 changes (the server may still be taking in the pushed
	// tickets when the device first asks), its next request for changes waits until the header was seen.
	const context = await browser.newContext({ locale: 'zh-CN' });
	const page = await context.newPage();
	let release!: () => void;
	const held = new Promise<void>((resolve) => (release = resolve));
	let given = 0;
	await page.route(
		(url) => url.pathname === '/sync/tickets/_changes',
		async (route) => {
			if (given >= 500) await held;
			const response = await route.fetch();
			const body = (await response.json()) as { results?: unknown[] };
			given += body.results?.length ?? 0;
			await route.fulfill({ response, json: body });
		}
	);
	await signIn(page, agent);
	const status = page.getByTestId('sync-status');
	// The first batch (500 documents, the device's batch size) counted while the rest is still to come.
	await expect(status).toHaveText(/^同步中 · 已接收 \d+ 条$/, { timeout: 20_000 });
	const received = Number(/\d+/.exec((await status.textContent()) ?? '')?.[0]);
	expect(received).toBeGreaterThanOrEqual(500);
	await expect(status).not.toHaveText('已同步');
	release();
	await expect(status).toHaveText('已同步', { timeout: 20_000 });
	// The device's live feed is still being relayed: let it go with the page.
	await page.unrouteAll({ behavior: 'ignoreErrors' });
	await context.close();
});
