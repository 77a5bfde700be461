/**
 * The README's pictures, taken from the running product (#17) so they stay true: the built server on a fresh
 * embedded store with telephony when installed, a few subscribers and tickets, a hotline call from sipp
 * popping on the agent console, the team leader's wallboard, the department inbox, the crew tablet, the
 * statistics and the sign-in page — in Debian's Chromium.
 *   npm run screenshots            (builds first; writes .github/screenshots/*.png)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from '@playwright/test';
import { PASSWORD, startProduct } from '../helpers/product';
import { callerEchoScenario, runSipp, samplePort } from '../helpers/sipp';
import { buildTicket } from '../../src/lib/shared/tickets/ticket';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, '.github/screenshots');
const CALLER = '+8657188887777';
const SUBSCRIBERS = [
	'账号,姓名,联系电话,装机地址,片区,智能卡号,机顶盒号,套餐,状态',
	`HZ0012345,王建国,${CALLER},杭州市西湖区文三路90号翠苑一区3幢2单元301室,西湖区,8571000000000001,STB01A00000001,数字电视基本包;高清频道包;宽带100M,正常`,
	'HZ0012346,李秀英,0571-88886666,杭州市上城区解放路12号,上城区,8571000000000002,STB01A00000002,数字电视基本包,欠费停机'
].join('\n');

const product = await startProduct('screenshots');
const { base, api, user, signIn } = product;
const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	args: [
		'--no-sandbox',
		'--use-fake-device-for-media-stream',
		'--use-fake-ui-for-media-stream',
		'--allow-loopback-in-peer-connection'
	]
});

async function shoot(page: Page, name: string) {
	await page.screenshot({ path: join(OUT, `${name}.png`) });
	console.log(`» ${name}.png`);
}

try {
	mkdirSync(OUT, { recursive: true });
	const admin = await api();
	const imported = await admin.post('/api/customers/import?source=digital', {
		data: Buffer.from(SUBSCRIBERS),
		headers: { 'content-type': 'text/csv' }
	});
	if (!imported.ok()) throw new Error(`import: ${await imported.text()}`);
	await user('zhangli', '张丽', 'agent', { agentId: '1001' });
	await user('chenjing', '陈静', 'leader');
	await user('liuqiang', '刘强', 'department', { departmentId: 'department:engineering-install' });
	await user('zhaolei', '赵磊', 'crew', { departmentId: 'department:engineering-install' });
	const crew = await admin.post('/api/admin/config/crew', {
		data: {
			name: '抢修一队',
			departmentId: 'department:engineering-install',
			memberIds: ['user:zhaolei']
		}
	});
	if (!crew.ok()) throw new Error(`crew: ${await crew.text()}`);

	// Earlier tickets: the caller's history, and repairs waiting at the installation team.
	const agentApi = await api('zhangli', PASSWORD);
	const day = 86_400_000;
	const earlier = [
		['1', CALLER, 'department:center', 'inquiry', '询问高清频道包的资费', 9],
		['2', CALLER, 'department:engineering-install', 'repair', '电视无信号，机顶盒指示灯红色', 3],
		['3', '13912345678', 'department:engineering-install', 'repair', '宽带频繁掉线', 1],
		[
			'4',
			'13900001111',
			'department:engineering-install',
			'repair',
			'新装数字电视，预约周六上午',
			0.2
		]
	] as const;
	const docs = earlier.map(([n, caller, departmentId, type, content, daysAgo]) => {
		const at = Date.now() - daysAgo * day;
		const finish = {
			id: `shot-${n}-done`,
			at: new Date(at + 60_000).toISOString(),
			by: 'user:zhangli'
		};
		return buildTicket(
			`ticket:shot-${n}`,
			[
				{
					id: `shot-${n}-created`,
					type: 'created',
					at: new Date(at).toISOString(),
					by: 'user:zhangli',
					number: `2026120${n}0001`,
					callerNumber: caller,
					customerIds: caller === CALLER ? ['customer:digital:HZ0012345'] : [],
					departmentId,
					serviceTypeId: `serviceType:${type}`,
					contentCategoryId: 'contentCategory:digital',
					content,
					callbackRequired: type === 'repair'
				},
				departmentId === 'department:center'
					? { ...finish, type: 'closedAtCenter', note: '已告知资费' }
					: { ...finish, type: 'transferred', toDepartmentId: departmentId, flowId: null, note: '' }
			],
			'department:center'
		);
	});
	const pushed = await agentApi.post('/sync/tickets/_bulk_docs', {
		data: { new_edits: false, docs: docs.map((d) => ({ ...d, _rev: '1-a1' })) }
	});
	if (!pushed.ok()) throw new Error(`tickets: ${await pushed.text()}`);

	const signInPage = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
	await signInPage.setViewportSize({ width: 1366, height: 768 });
	await signInPage.goto(`${base}/login`);
	await signInPage.getByLabel('用户名').waitFor();
	await shoot(signInPage, 'sign-in');

	// The agent console at 1366×768 with a hotline call popping, then talking.
	const agent = await (
		await browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 768 } })
	).newPage();
	await signIn(agent, 'zhangli');
	const telephony = agent.getByRole('region', { name: '网页电话' });
	if (await telephony.isVisible()) {
		await telephony.getByText('已登录，可以通话').waitFor({ timeout: 20_000 });
		await agent.keyboard.press('Alt+8');
		const call = runSipp(callerEchoScenario('callcenter.local'), product.sipTarget, {
			service: '96000',
			timeoutS: 120,
			args: ['-rtp_echo', '-mp', String(samplePort() + 4000)]
		});
		await agent.getByRole('list', { name: '历史业务信息' }).getByText('询问高清频道包').waitFor();
		await shoot(agent, 'agent-console-ringing');
		await agent.keyboard.press('Alt+1');
		await agent.getByTestId('call-state').getByText('通话中').waitFor();
		const entry = agent.getByRole('region', { name: '业务记录' });
		await entry.getByLabel('服务类型').selectOption({ label: '报修' });
		await entry.getByLabel('服务内容').fill('机顶盒重启后仍无信号，要求上门检修');
		await agent.getByTestId('call-state').getByText('00:03').waitFor();
		await shoot(agent, 'agent-console');
		await agent.keyboard.press('Alt+2');
		await call;
	} else {
		await shoot(agent, 'agent-console');
	}

	// The department inbox and a dispatch to the crew.
	const office = await (
		await browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 768 } })
	).newPage();
	await signIn(office, 'liuqiang');
	await office
		.getByRole('button', { name: /^处理 / })
		.first()
		.waitFor();
	await shoot(office, 'department-inbox');
	for (const number of ['202612030001', '202612040001']) {
		await office.getByRole('button', { name: `处理 ${number}` }).click();
		await office.getByLabel('施工队').selectOption({ label: '抢修一队 · 安装维修队' });
		await office.getByLabel('派工说明').fill('带分支器和备用机顶盒');
		await office.getByRole('button', { name: '派工', exact: true }).click();
		await office.getByRole('status').getByText('已派给').waitFor();
	}

	// The crew tablet, landscape.
	const tablet = await (
		await browser.newContext({
			locale: 'zh-CN',
			viewport: { width: 1280, height: 800 },
			hasTouch: true
		})
	).newPage();
	await signIn(tablet, 'zhaolei');
	await tablet.getByText('202612040001').first().waitFor({ timeout: 30_000 });
	await shoot(tablet, 'crew-tablet');

	// The team leader: the wallboard on a large screen, and the statistics.
	const leader = await (
		await browser.newContext({ locale: 'zh-CN', viewport: { width: 1920, height: 1080 } })
	).newPage();
	await signIn(leader, 'chenjing');
	await leader.getByRole('heading', { name: '班长工作台' }).waitFor();
	await leader
		.getByText(/张丽|话务未启用|telephony/)
		.first()
		.waitFor();
	await shoot(leader, 'wallboard');
	await leader.setViewportSize({ width: 1366, height: 768 });
	await leader.goto(`${base}/stats`);
	await leader.getByRole('heading', { name: '统计报表' }).waitFor();
	await leader.locator('canvas').first().waitFor();
	await shoot(leader, 'statistics');
} catch (err) {
	// What the page showed when a step failed, to see why.
	for (const context of browser.contexts()) {
		for (const [i, page] of context.pages().entries()) {
			await page.screenshot({ path: join(product.dataDir, `failed-${i}.png`) }).catch(() => {});
		}
	}
	console.error(`Failed; the pages as they were: ${product.dataDir}/failed-*.png`);
	process.exitCode = 1;
	throw err;
} finally {
	await browser.close();
	await product.stop(process.exitCode !== undefined);
}
