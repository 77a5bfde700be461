import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { E2E_ADMIN_PASSWORD } from '../../playwright.config';
import { exportChunks } from '../../server/tools/subscribers';
import { createUser, signIn, uniqueName } from './helpers';

const EXPORT = [
	'账号,姓名,联系电话,装机地址,片区,智能卡号,机顶盒号,套餐,状态',
	'E2E100,王建国,+86 138-0013-8000,杭州市西湖区文三路90号翠苑一区3幢2单元301室,西湖区,8571000000000001,STB01A00000001,数字电视基本包;高清频道包,正常',
	'E2E101,李秀英,0571-88886666,杭州市上城区解放路12号,上城区,8571000000000002,,数字电视基本包,欠费停机',
	',无账号,13900002222,某地,,,,,正常',
	'E2E102,张三,12ab,杭州市滨江区江南大道1号,滨江区,,,,正常'
].join('\n');

async function importFile(page: Page, name: string, text: string, source = '数字电视（数）') {
	await page.goto('/admin/customers');
	await page.getByLabel('数据源').selectOption({ label: source });
	await page.getByLabel('数据文件').setInputFiles({
		name,
		mimeType: 'text/csv',
		buffer: Buffer.from(text, 'utf8')
	});
	await page.getByRole('button', { name: '开始导入' }).click();
}

test.describe.configure({ mode: 'serial' });

test('F18 an administrator imports a billing export with a progress bar and a report of rejected rows', async ({
	page
}) => {
	await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
	await expect(page.getByRole('heading', { name: '待审批账号' })).toBeVisible();

	// A realistic export large enough for the progress bar to be seen, then the hand-made rows.
	const generated = [...exportChunks({ count: 6_000, source: 'analog', seed: 3 }, 'csv')].join('');
	// #17 the server's side shows to the end: its answer is held here until the page has said so.
	let release!: () => void;
	const held = new Promise<void>((resolve) => (release = resolve));
	const isImport = (url: URL) => url.pathname === '/api/customers/import';
	await page.route(isImport, async (route) => {
		const response = await route.fetch();
		await held;
		await route.fulfill({ response });
	});
	await importFile(page, 'analog.csv', generated, '模拟电视（模）');
	await expect(page.getByRole('progressbar', { name: '导入进度' })).toBeVisible();
	await expect(page.getByRole('status').filter({ hasText: '正在更新查询索引' })).toHaveText(
		'6000 行已处理，正在更新查询索引…'
	);
	// Later imports pass straight through.
	release();
	const done = page.getByRole('status').filter({ hasText: '导入完成' });
	await expect(done).toContainText('共 6000 行，新增 6000', {
		timeout: 60_000
	});

	await importFile(page, 'digital.csv', EXPORT);
	await expect(done).toHaveText('导入完成：共 4 行，新增 2，更新 0，未变 0，拒绝 2。');
	const rejected = page.getByRole('table', { name: '被拒绝的行' });
	await expect(rejected.getByRole('row').nth(1)).toContainText('4缺少账号');
	await expect(rejected.getByRole('row').nth(2)).toContainText('5E2E102电话号码无法识别');

	// Importing again updates what changed and never duplicates.
	await importFile(page, 'digital.csv', EXPORT.replace('欠费停机', '正常'));
	await expect(done).toHaveText('导入完成：共 4 行，新增 0，更新 1，未变 1，拒绝 2。');
	await expect(page.getByText('已可查询的用户：6002 户')).toBeVisible();
});

test('F16 F17 F18 the caller’s subscribers pop up on the entry screen and the ticket is linked to them', async ({
	page,
	request
}) => {
	const agent = uniqueName('pop');
	await createUser(request, { username: agent, roleKey: 'agent' });
	await signIn(page, agent);
	await expect(page.getByRole('heading', { name: '坐席工作台' })).toBeVisible();

	// The caller number as the telephony link passes it, in yet another format.
	await page.goto(`/agent?caller=${encodeURIComponent('0086 13800138000')}`);
	const panel = page.getByRole('region', { name: '客户信息' });
	const card = panel.getByRole('article', { name: '王建国' });
	await expect(card).toContainText('数');
	await expect(card).toContainText('E2E100');
	await expect(card).toContainText('杭州市西湖区文三路90号');
	await expect(card.getByLabel('本次来电关联此用户')).toBeChecked();

	const entry = page.getByRole('region', { name: '业务记录' });
	await entry.getByLabel('服务类型').selectOption({ label: '报修' });
	await entry.getByLabel('服务内容').fill('<b>电视花屏</b>');
	await entry.getByLabel('处理部门').selectOption({ label: '网络部' });
	await entry.getByRole('button', { name: '移交执行' }).click();
	await expect(page.getByRole('status').filter({ hasText: '已移交' })).toBeVisible();

	// The subscriber's history lists it, whatever number they call from next time.
	await page.goto('/agent?caller=057188886666');
	await expect(panel.getByRole('article', { name: '李秀英' })).toBeVisible();
	await panel.getByText('按其他条件查找用户').click();
	await panel.getByLabel('查询内容').fill('E2E100');
	await panel.getByLabel('查询内容').press('Enter');
	await panel.getByRole('article', { name: '王建国' }).getByLabel('本次来电关联此用户').check();
	const history = page.getByRole('list', { name: '历史业务信息' });
	await expect(history).toContainText('受理内容：<b>电视花屏</b>');

	// An unknown caller: the form still works, with a contact instead.
	await page.goto('/agent?caller=13700009999');
	await expect(panel.getByText('未找到该号码登记的用户')).toBeVisible();
	await panel.getByLabel('联系人').fill('周先生');
	await entry.getByLabel('服务类型').selectOption({ label: '咨询' });
	await entry.getByLabel('服务内容').fill('咨询开户');
	await entry.getByRole('button', { name: '中心处理' }).click();
	await expect(page.getByRole('status').filter({ hasText: '中心处理完毕' })).toBeVisible();

	// F18 search page: partial name across both sources, each result says where it came from.
	await page.getByRole('link', { name: '客户查询' }).click();
	await page.getByLabel('查询内容').fill('建国');
	await page.getByLabel('数据源').selectOption({ label: '数字电视（数）' });
	await page.getByLabel('查询内容').press('Enter');
	const results = page.getByRole('table', { name: /查询结果/ });
	await expect(results.getByRole('row').filter({ hasText: 'E2E100' })).toContainText('数');
	await expect(results.getByRole('row').filter({ hasText: '王建国' })).toHaveCount(1);
	await page.getByLabel('数据源').selectOption({ label: '模拟电视（模）' });
	await page.getByLabel('查询方式').selectOption({ label: '账号' });
	await page.getByLabel('查询内容').fill('A0000000');
	await page.getByLabel('查询内容').press('Enter');
	await expect(page.getByText('符合条件的用户较多')).toBeVisible();
	await expect(results.getByRole('row').nth(1)).toContainText('模');
});

test('F22 F33 业务管理 filters tickets, shows one with its whole history and prints a scannable 派工单', async ({
	page,
	request
}) => {
	const leader = uniqueName('lead');
	await createUser(request, { username: leader, roleKey: 'leader' });
	await signIn(page, leader);
	await expect(page.getByRole('heading', { name: '班长工作台' })).toBeVisible();
	await page.getByRole('link', { name: '业务管理' }).click();
	await page.getByLabel('服务类型').selectOption({ label: '报修' });
	await page.getByLabel('状态', { exact: true }).selectOption({ label: '处理中' });
	await page.getByRole('button', { name: '查询' }).click();
	const list = page.getByRole('table', { name: /业务列表/ });
	const row = list.getByRole('row').filter({ hasText: '<b>电视花屏</b>' });
	await expect(row).toContainText('网络部');
	await expect(list.getByRole('row').filter({ hasText: '咨询开户' })).toHaveCount(0);

	await row.getByRole('link').click();
	await expect(page.getByRole('heading', { name: /^业务 / })).toBeVisible();
	await expect(page.getByRole('list', { name: '处理经过' })).toContainText('移交 网络部');
	await expect(page.getByRole('article', { name: '王建国' })).toBeVisible();
	const number = ((await page.getByRole('heading', { name: /^业务 / }).textContent()) ?? '')
		.replace('业务 ', '')
		.trim();

	await page.getByRole('link', { name: '打印派工单' }).click();
	const order = page.getByRole('article', { name: '派工单' });
	await expect(order.getByTestId('work-order-number')).toHaveText(number);
	await expect(order).toContainText('杭州市西湖区文三路90号');
	await expect(order).toContainText('网络部');
	// The code on the page scans back to the ticket number.
	const png = PNG.sync.read(await order.getByRole('figure').screenshot());
	const scanned = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
	expect(scanned?.data).toBe(number);
	// Printed, only the work order remains.
	await page.emulateMedia({ media: 'print' });
	await expect(page.getByRole('button', { name: '打印' })).toBeHidden();
	await expect(page.getByRole('navigation', { name: '主导航' })).toBeHidden();
});

test('F25 F35 statistics by service type as a chart and a table, exported as CSV and Excel', async ({
	page,
	request
}) => {
	const leader = uniqueName('stat');
	await createUser(request, { username: leader, roleKey: 'leader' });
	await signIn(page, leader);
	await expect(page.getByRole('heading', { name: '班长工作台' })).toBeVisible();
	await page.getByRole('link', { name: '统计报表' }).click();
	await page.getByLabel('统计方式').selectOption({ label: '服务类型' });
	await page.getByRole('button', { name: '查询' }).click();
	await expect(page.getByRole('img', { name: '按服务类型统计的业务量柱状图' })).toBeVisible();
	const table = page.getByRole('table', { name: '按服务类型统计' });
	const repair = table.getByRole('row').filter({ hasText: '报修' });
	await expect(repair).toBeVisible();
	const repairs = Number((await repair.getByRole('cell').nth(1).textContent())?.trim());
	expect(repairs).toBeGreaterThanOrEqual(1);

	const [csv] = await Promise.all([
		page.waitForEvent('download'),
		page.getByRole('button', { name: '导出 CSV' }).click()
	]);
	expect(csv.suggestedFilename()).toMatch(/^统计报表-服务类型-.*\.csv$/);
	const text = readFileSync(await csv.path(), 'utf8');
	expect(text.startsWith('\uFEFF服务类型,业务量,未完结,已完结')).toBe(true);
	expect(text).toContain(`报修,${repairs},`);

	const [xlsx] = await Promise.all([
		page.waitForEvent('download'),
		page.getByRole('button', { name: '导出 Excel' }).click()
	]);
	expect(xlsx.suggestedFilename()).toMatch(/\.xlsx$/);
	const bytes = readFileSync(await xlsx.path());
	expect(bytes.subarray(0, 2).toString()).toBe('PK'); // an Office Open XML (zip) workbook

	// By agent: the agents who recorded tickets, each counted.
	await page.getByLabel('统计方式').selectOption({ label: '坐席' });
	await page.getByRole('button', { name: '查询' }).click();
	await expect(page.getByRole('table', { name: '按坐席统计' }).getByRole('row')).not.toHaveCount(1);
});
