import { expect, test, type APIRequestContext } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../../playwright.config';
import { createUser, signIn, uniqueName } from './helpers';

/** A real 8×8 PNG (red), as a camera would hand the page a file. */
const PHOTO = Buffer.from(
	'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEklEQVR4nGP4z8CAFTEMLQkAVb8/wZXw/rQAAAAASUVORK5CYII=',
	'base64'
);

async function createCrew(request: APIRequestContext, name: string, memberIds: string[]) {
	expect(
		(
			await request.post('/api/session', {
				data: { username: 'admin', password: E2E_ADMIN_PASSWORD }
			})
		).ok()
	).toBe(true);
	const res = await request.post('/api/admin/config/crew', {
		data: { name, departmentId: 'department:engineering-install', memberIds }
	});
	expect(res.status()).toBe(201);
	await request.delete('/api/session');
}

test('F28 F22 a dispatched work order reaches the crew tablet, is worked offline with a photo, survives a reload, syncs on reconnect and leaves the tablet a week after it is done', async ({
	page,
	browser,
	request
}) => {
	test.setTimeout(120_000);
	const agent = uniqueName('fa');
	const clerk = uniqueName('fd');
	const fitter = uniqueName('fc');
	const crew = `抢修${uniqueName('')}`;
	await createUser(request, { username: agent, roleKey: 'agent' });
	for (const [username, roleKey] of [
		[clerk, 'department'],
		[fitter, 'crew']
	] as const) {
		await createUser(request, {
			username,
			roleKey,
			departmentId: 'department:engineering-install'
		});
	}
	await createCrew(request, crew, [`user:${fitter}`]);

	// The center records a repair and transfers it to the installation team.
	await signIn(page, agent);
	await expect(page.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
	const entry = page.getByRole('region', { name: '业务记录' });
	await entry.getByLabel('来电号码').fill('13912345678');
	await entry.getByLabel('处理部门').selectOption({ label: '安装维修队' });
	await entry.getByLabel('服务内容').fill('电视无信号，需上门检修');
	await entry.getByRole('button', { name: '移交执行' }).click();
	const done = page.getByRole('status').filter({ hasText: '已移交' });
	const number = /业务 (\S+) 已移交/.exec((await done.textContent()) ?? '')![1]!;

	// The crew's tablet is open and waiting.
	const tablet = await browser.newContext({
		locale: 'zh-CN',
		viewport: { width: 1024, height: 768 }
	});
	const crewPage = await tablet.newPage();
	await signIn(crewPage, fitter);
	await expect(crewPage.getByRole('heading', { name: '施工任务' })).toBeVisible();
	await crewPage.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, {
		timeout: 20_000
	});

	// The department dispatches it to the crew.
	const office = await browser.newContext({ locale: 'zh-CN' });
	const dept = await office.newPage();
	await signIn(dept, clerk);
	await dept.getByRole('button', { name: `处理 ${number}` }).click({ timeout: 10_000 });
	await dept.getByLabel('施工队').selectOption({ label: `${crew} · 安装维修队` });
	await dept.getByLabel('派工说明').fill('带分支器');
	await dept.getByRole('button', { name: '派工', exact: true }).click();
	await expect(dept.getByRole('status')).toHaveText(`业务 ${number} 已派给 ${crew}。`);

	// Within seconds the work order is on the tablet.
	const order = crewPage.getByRole('button', { name: new RegExp(number) });
	await expect(order).toBeVisible({ timeout: 5_000 });

	// From here the tablet has no network at all.
	await tablet.setOffline(true);
	await order.click();
	const detail = crewPage.getByRole('region', { name: number });
	await expect(detail).toContainText('电视无信号，需上门检修');
	await expect(detail).toContainText('带分支器');
	for (const [act, step] of [
		['接单', '已接单'],
		['出发', '在途'],
		['到达现场', '到达现场']
	] as const) {
		await detail.getByRole('button', { name: act, exact: true }).click();
		await expect(crewPage.getByTestId('work-order-step')).toHaveText(step);
	}
	await detail.getByLabel('拍照 / 上传照片').setInputFiles({
		name: 'site.png',
		mimeType: 'image/png',
		buffer: PHOTO
	});
	await expect(crewPage.getByRole('status').filter({ hasText: '照片已保存在本机' })).toBeVisible();
	await detail.getByLabel('处理说明').fill('更换分支器，信号恢复');
	await detail.getByLabel('使用材料').fill('分支器 × 1');
	await detail.getByLabel('客户确认（签名）').fill('王先生');
	await detail.getByRole('button', { name: '完工', exact: true }).click();
	await expect(crewPage.getByTestId('work-order-step')).toHaveText('完工');
	// Steps and photo wait on the device, and it says so.
	await expect(crewPage.getByTestId('field-sync')).toContainText(/\d+ 项记录保存在本机/);

	// A reload with no network: the shell comes from the service worker, the work from IndexedDB.
	await crewPage.reload();
	await expect(crewPage.getByRole('heading', { name: '施工任务' })).toBeVisible();
	await expect(crewPage.getByTestId('field-sync')).toContainText(/\d+ 项记录保存在本机/);
	const finished = crewPage.getByRole('region', { name: '已完成' });
	await finished.getByRole('button', { name: new RegExp(number) }).click();
	const history = crewPage.getByRole('list', { name: '处理经过' });
	await expect(history).toContainText('更换分支器，信号恢复');
	await expect(history).toContainText('王先生');
	await expect(history.getByRole('img')).toHaveCount(1);

	// Back online: everything reaches the server.
	await tablet.setOffline(false);
	await expect(crewPage.getByTestId('field-sync')).toHaveText('所有记录都已同步到服务器。', {
		timeout: 20_000
	});

	// The department sees the finished work order, the crew's notes and the photo (served by the server).
	await expect(dept.getByTestId('work-order-line')).toContainText(`${crew} · 完工`, {
		timeout: 10_000
	});
	const deptHistory = dept.getByRole('list', { name: '处理经过' });
	await expect(deptHistory).toContainText('分支器 × 1');
	const photo = deptHistory.getByRole('img');
	await expect(photo).toBeVisible();
	await expect
		.poll(() => photo.evaluate((img) => (img as HTMLImageElement).naturalWidth))
		.toBeGreaterThan(0);

	// The administrator sees the tablet among the devices: who uses it, nothing waiting, what it holds.
	const adminContext = await browser.newContext({ locale: 'zh-CN' });
	const admin = await adminContext.newPage();
	await signIn(admin, 'admin', E2E_ADMIN_PASSWORD);
	await expect(admin.getByRole('heading', { name: '系统管理' })).toBeVisible();
	await admin.goto('/admin/sync');
	const row = admin
		.getByRole('table', { name: '终端设备' })
		.getByRole('row')
		.filter({ hasText: fitter });
	// The tablet reports once a minute and a few seconds after the network returns.
	await expect(async () => {
		await admin.reload();
		// Device, user, heard from, synced, waiting, refused, held.
		const cells = row.getByRole('cell');
		await expect(cells.nth(4)).toHaveText('0', { timeout: 5_000 });
		await expect(cells.nth(5)).toHaveText('0');
		// The ticket and the photo at least.
		expect(Number(await cells.nth(6).textContent())).toBeGreaterThanOrEqual(2);
	}).toPass({ timeout: 30_000 });

	// A week later the finished, synced work order has left the tablet (purged, not deleted: the server and
	// the department keep it).
	await crewPage.clock.setFixedTime(Date.now() + 8 * 86_400_000);
	await crewPage.reload();
	await expect(crewPage.getByRole('heading', { name: '施工任务' })).toBeVisible();
	await expect(finished.getByText('暂无工单。')).toBeVisible();
	await expect(crewPage.getByRole('button', { name: new RegExp(number) })).toHaveCount(0);
	await dept.reload();
	await dept.getByRole('button', { name: `处理 ${number}` }).click();
	await expect(dept.getByTestId('work-order-line')).toContainText(`${crew} · 完工`);
	await Promise.all([tablet.close(), office.close(), adminContext.close()]);
});

test('F28 the crew page fits a tablet: lists beside the work order in landscape (1280×800), above it in portrait (800×1280)', async ({
	page,
	request
}) => {
	const fitter = uniqueName('tab');
	await createUser(request, {
		username: fitter,
		roleKey: 'crew',
		departmentId: 'department:engineering-install'
	});
	await createCrew(request, `平板${uniqueName('')}`, [`user:${fitter}`]);
	await page.setViewportSize({ width: 1280, height: 800 });
	await signIn(page, fitter);
	await expect(page.getByRole('heading', { name: '施工任务' })).toBeVisible();
	const lists = page.getByRole('region', { name: '今日工单' });
	const detail = page.getByRole('region', { name: '工单详情' });
	await expect(detail).toContainText('选择一张工单');
	const box = async () => ({
		lists: (await lists.boundingBox())!,
		detail: (await detail.boundingBox())!
	});

	let b = await box();
	expect(b.detail.x).toBeGreaterThanOrEqual(b.lists.x + b.lists.width);
	// The pending-sync state is on screen above the fold.
	expect((await page.getByTestId('field-sync').boundingBox())!.y).toBeLessThan(800);

	await page.setViewportSize({ width: 800, height: 1280 });
	await expect(async () => {
		b = await box();
		expect(b.detail.y).toBeGreaterThanOrEqual(b.lists.y + b.lists.height);
		expect(b.lists.width).toBeGreaterThan(600);
	}).toPass();
});
