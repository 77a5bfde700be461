/**
 * #18 F23 the voice menu in front of a hotline, with a browser agent: sipp plays the carrier's caller, who hears
 * the menu (rtpengine), keys through it by SIP INFO and is handed to the distribution; Chromium (fake
 * microphone) is the agent's softphone through Janus. The caller echoes the audio it hears, so the page's own
 * WebRTC statistics prove audio both ways across rtpengine, Kamailio and Janus.
 */
import { expect, test } from '@playwright/test';
import { E2E_SIP_PORT } from '../../playwright.config';
import { callerMenuScenario, runSipp, samplePort } from '../helpers/sipp';
import { count, createUser, signIn, uniqueName } from './helpers';

const target = `127.0.0.1:${E2E_SIP_PORT}`;

test('F23 F16 F30 F25 a caller keys through the voice menu and reaches the browser agent: the menus and keys pop up before the phone rings, audio both ways, and the menu’s statistics count it', async ({
	page,
	browser,
	request
}) => {
	const agent = uniqueName('ivr');
	await createUser(request, { username: agent, roleKey: 'agent', agentId: '3110' });
	await signIn(page, agent);
	const softphone = page.getByRole('region', { name: '网页电话' });
	await expect(softphone.getByTestId('line-state')).toHaveText('已登录，可以通话', {
		timeout: 15_000
	});
	await page.keyboard.press('Alt+8');
	await expect(
		page.getByRole('region', { name: '话务状态' }).getByTestId('agent-state')
	).toHaveText('就绪');

	// The caller listens to the greeting for a moment, then presses 1 (业务咨询和故障报修) and 1 (数字电视).
	const caller = runSipp(
		callerMenuScenario({ mediaPort: null, keys: ['1', '1'], afterMs: 1500, end: 'agent' }),
		target,
		{
			service: '96001',
			timeoutS: 60,
			args: ['-rtp_echo', '-mp', String(samplePort() + 4000)]
		}
	);
	const call = softphone.getByRole('group', { name: '当前通话' });
	await expect(call.getByTestId('call-state')).toContainText('来电', { timeout: 30_000 });
	await expect(call.getByTestId('call-state')).toContainText('+8657188886666');
	const callInfo = page.getByRole('region', { name: '本次来电' });
	await expect(callInfo.getByTestId('call-menu')).toHaveText(
		'主菜单 › 业务咨询和故障报修 · 按键 1 1'
	);
	await expect(callInfo).toContainText('96001');

	await page.keyboard.press('Alt+1');
	await expect(call.getByTestId('call-state')).toContainText('通话中');
	// The browser's audio reaches the caller through rtpengine and comes back.
	await expect.poll(() => count(page, 'packets-received'), { timeout: 15_000 }).toBeGreaterThan(50);
	expect(await count(page, 'packets-sent')).toBeGreaterThan(50);

	// The agent hangs up: the menu ends the caller's call too.
	await page.keyboard.press('Alt+2');
	await expect(call).toBeHidden();
	const result = await caller;
	expect(result.code, result.output).toBe(0);

	// F25: the team leader's statistics count the call among the menu's, with the nodes it went through.
	const leader = uniqueName('ivrl');
	await createUser(request, { username: leader, roleKey: 'leader' });
	const stats = await browser.newPage();
	await signIn(stats, leader);
	await stats.goto('/stats');
	const menu = stats.getByRole('region', { name: '语音导航统计' });
	await expect(menu.getByTestId('menu-stats')).toContainText(
		/进入语音导航 \d+ 个，转人工 [1-9]\d* 个/
	);
	await expect(menu.getByRole('row', { name: /业务咨询和故障报修/ })).toBeVisible();
	await stats.close();
});
