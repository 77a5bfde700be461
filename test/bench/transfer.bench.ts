/**
 * #4: time from 移交执行 in an agent's browser to the ticket showing in the department's open browser
 * (replication agent → server → department, through the per-user `/sync` endpoint). Real Chromium, the built
 * PWA (`npm run build` first), the embedded store. Prints p50/p95 over BENCH_TRANSFERS transfers.
 */
import { chromium, type Page } from 'playwright-core';
import { startTestServer } from '../helpers/server';

const TRANSFERS = Number(process.env.BENCH_TRANSFERS ?? 30);
const p = (times: number[], q: number) =>
	[...times].sort((a, b) => a - b)[Math.min(times.length - 1, Math.floor(q * times.length))]!;

async function signIn(page: Page, username: string, heading: string) {
	await page.goto('/login');
	await page.getByLabel('用户名').fill(username);
	await page.getByRole('textbox', { name: '密码', exact: true }).fill('password-123');
	await page.getByRole('textbox', { name: '密码', exact: true }).press('Enter');
	await page.getByRole('heading', { name: heading }).waitFor();
}

const server = await startTestServer();
const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	args: ['--no-sandbox', '--disable-gpu']
});
try {
	await server.createUser({ username: 'benchagent', roleKey: 'agent' });
	await server.createUser({
		username: 'benchnet',
		roleKey: 'department',
		departmentId: 'department:network'
	});
	const open = async () =>
		(await browser.newContext({ baseURL: server.url, locale: 'zh-CN' })).newPage();
	const agent = await open();
	const dept = await open();
	await signIn(agent, 'benchagent', '坐席工作台');
	await signIn(dept, 'benchnet', '部门业务');
	const entry = agent.getByRole('region', { name: '业务记录' });
	const inboxCount = () =>
		dept.evaluate(
			() =>
				[...document.querySelectorAll('button')].filter((b) => b.textContent?.startsWith('处理 '))
					.length
		);

	const times: number[] = [];
	for (let i = 0; i < TRANSFERS; i++) {
		await entry.getByLabel('来电号码').fill(`1380000${String(i).padStart(4, '0')}`);
		await entry.getByLabel('处理部门').selectOption({ label: '网络部' });
		await entry.getByLabel('服务内容').fill(`基准测试 ${i}`);
		const before = await inboxCount();
		const t0 = Date.now();
		await entry.getByRole('button', { name: '移交执行' }).click();
		await dept.waitForFunction(
			(n) =>
				[...document.querySelectorAll('button')].filter((b) => b.textContent?.startsWith('处理 '))
					.length > n,
			before,
			{ polling: 'raf', timeout: 30_000 }
		);
		times.push(Date.now() - t0);
	}
	console.log(
		`移交执行 → shown in the department's open browser, ${TRANSFERS} transfers: ` +
			`p50 ${p(times, 0.5)} ms, p95 ${p(times, 0.95)} ms, max ${Math.max(...times)} ms`
	);
} finally {
	await browser.close();
	await server.close();
}
