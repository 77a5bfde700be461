import { expect, test } from '@playwright/test';
import { E2E_ADMIN_PASSWORD, E2E_GATEWAY_PORT, E2E_SIP_PORT } from '../../playwright.config';
import {
	answerScenario,
	callerAnsweredScenario,
	deskPhoneDialsScenario,
	gatewayAnswerScenario,
	registerContactScenario,
	registerOpenScenario,
	runSipp,
	samplePort,
	tellToHangUp,
	udpBound
} from '../helpers/sipp';
import { createUser, signIn, uniqueName } from './helpers';

const target = `127.0.0.1:${E2E_SIP_PORT}`;
const DOMAIN = 'callcenter.local';
/** Desk phones' network in the e2e server's DESK_PHONES. */
const DESK_IP = '127.0.0.3';

test('F1 F15 F16 F31 a ready agent working with the desk phone gets the hotline call: the phone under the remembered extension rings, the entry screen pops up and the ticket records the call', async ({
	page,
	browser,
	request
}) => {
	const health = (await (await request.get('/api/health')).json()) as {
		telephony: { state: string; detail: string };
	};
	expect(health.telephony.state, health.telephony.detail).toBe('running');
	const agent = uniqueName('call');
	await createUser(request, { username: agent, roleKey: 'agent', agentId: '3001' });
	// The desk phone's extension is typed at sign-in (remembered on this computer).
	await signIn(page, agent, undefined, '8301');
	await expect(page.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
	const panel = page.getByRole('region', { name: '话务状态' });
	await expect(panel.getByTestId('agent-state')).toHaveText('未签入');
	await expect(panel.getByText('接听话机：8301')).toBeVisible();
	// The browser is not the phone this time.
	await expect(page.getByRole('region', { name: '网页电话' })).toHaveCount(0);

	// #13 The administrator issues the desk phone's SIP account on 话机管理; the password shows once.
	const adminContext = await browser.newContext({ locale: 'zh-CN' });
	const admin = await adminContext.newPage();
	await signIn(admin, 'admin', E2E_ADMIN_PASSWORD);
	await expect(admin.getByRole('navigation', { name: '主导航' })).toBeVisible();
	await admin.goto('/admin');
	await admin
		.getByRole('navigation', { name: '系统管理菜单' })
		.getByRole('link', { name: '话机管理' })
		.click();
	await expect(admin.getByRole('heading', { name: '话机管理' })).toBeVisible();
	const issue = admin.getByRole('region', { name: '发放话机账号' });
	await issue.getByLabel('位置（可选）').fill('一号座席');
	await issue.getByLabel('分机号').fill('8301');
	await issue.getByLabel('分机号').press('Enter');
	const issued = admin.getByRole('status').filter({ hasText: '话机 8301' });
	await expect(issued).toBeVisible();
	const password = /密码 (\S+)（/.exec((await issued.textContent()) ?? '')?.[1] ?? '';
	expect(password.length).toBeGreaterThanOrEqual(16);
	await expect(
		admin.getByRole('table', { name: '已发放的话机' }).getByRole('row').filter({ hasText: '8301' })
	).toContainText('一号座席');
	await adminContext.close();

	// The desk phone (a sipp endpoint on the call center's network) registers its extension with that
	// account; without it, it is only challenged.
	const port = samplePort();
	const phone = runSipp(answerScenario(), target, {
		service: '8301',
		port,
		localIp: DESK_IP,
		timeoutS: 30
	});
	await udpBound(DESK_IP, port);
	const anonymous = await runSipp(registerOpenScenario(DOMAIN, port, 401), target, {
		service: '8301',
		localIp: DESK_IP
	});
	expect(anonymous.code, anonymous.output).toBe(0);
	const registered = await runSipp(registerContactScenario(DOMAIN, port), target, {
		service: '8301',
		localIp: DESK_IP,
		args: ['-au', '8301', '-ap', password]
	});
	expect(registered.code, registered.output).toBe(0);

	await panel.getByRole('button', { name: '就绪' }).click();
	await expect(panel.getByTestId('agent-state')).toHaveText('就绪');

	const [caller, answered] = await Promise.all([
		runSipp(callerAnsweredScenario(DOMAIN), target, { service: '96000', timeoutS: 20 }),
		phone
	]);
	expect(answered.code, answered.output).toBe(0);
	expect(caller.code, caller.output).toBe(0);

	// The screen pop opened the entry for this caller; the address holds only the call's id.
	await expect(page).toHaveURL(/\/agent\?call=[^&]+$/);
	const callId = new URL(page.url()).searchParams.get('call')!;
	const entry = page.getByRole('region', { name: '业务记录' });
	await expect(entry.getByLabel('来电号码')).toHaveValue('+8657188886666');
	// After the call: wrap-up, then ready again by itself.
	await expect(panel.getByTestId('agent-state')).toHaveText('就绪', { timeout: 10_000 });

	await entry.getByLabel('服务类型').selectOption({ label: '咨询' });
	await entry.getByLabel('服务内容').fill('来电咨询套餐');
	await entry.getByRole('button', { name: '中心处理' }).click();
	await expect(page.getByRole('status').filter({ hasText: '中心处理完毕' })).toBeVisible();
	// Saved on the device at once; on the server once replicated.
	let ticketId = '';
	await expect
		.poll(async () => {
			const list = (await (await page.request.get('/api/tickets/list')).json()) as {
				tickets: { _id: string; content: string }[];
			};
			ticketId = list.tickets.find((x) => x.content === '来电咨询套餐')?._id ?? '';
			return ticketId;
		})
		.not.toBe('');
	const doc = (await (
		await page.request.get(`/api/tickets/${encodeURIComponent(ticketId)}`)
	).json()) as {
		events: { type: string; callId?: string }[];
	};
	expect(doc.events.find((e) => e.type === 'created')?.callId).toBe(callId);

	// Not ready with a reason: no calls until ready again.
	await panel.getByLabel('示忙原因').selectOption({ label: '用餐' });
	await panel.getByRole('button', { name: '示忙' }).click();
	await expect(panel.getByTestId('agent-state')).toHaveText('示忙（用餐）');
});

test('F1 F30 F31 an agent working with a desk phone dials out from it: through the carrier, busy for the hotline meanwhile, and a phone nobody works with may not call out', async ({
	page,
	request
}) => {
	const agent = uniqueName('dial');
	await createUser(request, { username: agent, roleKey: 'agent', agentId: '3006' });
	expect(
		(
			await request.post('/api/session', {
				data: { username: 'admin', password: E2E_ADMIN_PASSWORD }
			})
		).ok()
	).toBe(true);
	const passwords: Record<string, string> = {};
	for (const extension of ['8306', '8307']) {
		const res = await request.post('/api/desk-phones', {
			data: { extension, location: '外呼座席' }
		});
		expect(res.status()).toBe(201);
		passwords[extension] = ((await res.json()) as { password: string }).password;
	}
	await request.delete('/api/session');
	await signIn(page, agent, undefined, '8306');
	const panel = page.getByRole('region', { name: '话务状态' });
	await panel.getByRole('button', { name: '就绪' }).click();
	await expect(panel.getByTestId('agent-state')).toHaveText('就绪');

	// A desk phone with the right account, but no signed-in agent works with it: refused.
	const idle = await runSipp(deskPhoneDialsScenario(DOMAIN, '8307', 403), target, {
		service: '057188881234',
		localIp: DESK_IP,
		args: ['-au', '8307', '-ap', passwords['8307']!]
	});
	expect(idle.code, idle.output).toBe(0);
	// The agent's phone with a wrong password: challenged again, never through.
	const wrong = await runSipp(deskPhoneDialsScenario(DOMAIN, '8306', 407), target, {
		service: '057188881234',
		localIp: DESK_IP,
		args: ['-au', '8306', '-ap', 'not-the-password']
	});
	expect(wrong.code, wrong.output).toBe(0);

	const gateway = runSipp(gatewayAnswerScenario(), target, {
		port: E2E_GATEWAY_PORT,
		timeoutS: 40
	});
	await udpBound('127.0.0.1', E2E_GATEWAY_PORT);
	const port = samplePort();
	const phone = runSipp(deskPhoneDialsScenario(DOMAIN, '8306'), target, {
		service: '057188881234',
		localIp: DESK_IP,
		port,
		timeoutS: 40,
		args: ['-au', '8306', '-ap', passwords['8306']!, '-cid_str', `${agent}-%u`]
	});
	// Answered by the carrier: the agent is in a call, so the distribution offers them nothing.
	await expect(panel.getByTestId('agent-state')).toHaveText('通话中（外呼）', { timeout: 15_000 });
	await tellToHangUp(port, `${agent}-1`, DESK_IP);
	const [dialled, answered] = await Promise.all([phone, gateway]);
	expect(dialled.code, dialled.output).toBe(0);
	expect(answered.code, answered.output).toBe(0);
	await expect(panel.getByTestId('agent-state')).toHaveText('就绪', { timeout: 10_000 });
});

test('F31 the team leader’s wallboard shows agents by state and today’s calls, live', async ({
	page,
	browser,
	request
}) => {
	const leader = uniqueName('wall');
	const agent = uniqueName('wag');
	await createUser(request, { username: leader, roleKey: 'leader' });
	await createUser(request, { username: agent, roleKey: 'agent', agentId: '3002' });
	await signIn(page, leader);
	await expect(page.getByRole('heading', { name: '班长工作台' })).toBeVisible();
	const board = page.getByRole('region', { name: '实时监控' });
	await expect(board.getByText('今日来电')).toBeVisible();

	const agentContext = await browser.newContext({ locale: 'zh-CN' });
	const agentPage = await agentContext.newPage();
	await signIn(agentPage, agent);
	const panel = agentPage.getByRole('region', { name: '话务状态' });
	await panel.getByLabel('示忙原因').selectOption({ label: '培训' });
	await panel.getByRole('button', { name: '示忙' }).click();
	await expect(panel.getByTestId('agent-state')).toHaveText('示忙（培训）');

	// Within a refresh the leader sees the agent and the reason.
	const row = board
		.getByRole('table', { name: '坐席状态' })
		.getByRole('row')
		.filter({ hasText: '3002' });
	await expect(row).toContainText('示忙（培训）', { timeout: 5_000 });
	await panel.getByRole('button', { name: '就绪' }).click();
	await expect(row).toContainText('就绪', { timeout: 5_000 });
	await agentContext.close();
});
