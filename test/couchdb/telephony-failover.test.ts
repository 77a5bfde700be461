/**
 * #16 calls across a failover (needs COUCHDB_URL, haproxy, Kamailio, Janus and sipp; `npm run test:couchdb`):
 * Kamailio and Janus run apart (`server/telephony-node.ts`, as `npm run telephony`), shared by two app
 * servers (TELEPHONY=shared) on one CouchDB behind haproxy, where Kamailio also asks its questions. The ACD
 * runs on the server holding the lease; agents are signed in and 就绪 through the proxy, their pages'
 * `/events` on either server. Hotline calls arrive at 2 a second for a minute (sipp as the carrier; the
 * agents' phones one sipp answering at once), and the lease holder is killed with SIGKILL meanwhile:
 * every call is answered or given the fallback answer, none is offered to two agents, every call is recorded
 * once, the agents stay signed in, and the screen pop reaches a page on the surviving server. Printed: kill →
 * the next call offered.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, expect as expectPage } from '@playwright/test';
import { CHROMIUM_LAUNCH } from '../../playwright.config';
import { couchAdmin } from '../helpers/couch';
import { requireHaproxy } from '../helpers/haproxy';
import { createUserOverHttp, signIn } from '../helpers/child-server';
import { ADMIN_PASSWORD } from '../helpers/server';
import {
	callerAnsweredOrFallbackScenario,
	callerTalksToSoftphoneScenario,
	runSipp
} from '../helpers/sipp';
import { startSharedCenter, type PageEvents, type SharedCenter } from '../helpers/shared-telephony';
import { until } from '../helpers/until';
import { DOMAIN, HOTLINE } from '../bench/hotline-load';

if (!process.env.COUCHDB_URL) {
	throw new Error('the CouchDB tests need COUCHDB_URL (npm run test:couchdb)');
}
requireHaproxy();

const admin = couchAdmin();
const AGENTS = ['5101', '5102', '5103', '5104', '5105', '5106'];
const RATE = 2;
const CALLS = 120;
const TALK_MS = 1_000;
let center: SharedCenter;
/** The simulated agents' sign-ins (their phones are sipp), for the tests after the first. */
const simulated: string[] = [];

beforeAll(async () => {
	center = await startSharedCenter({ root: mkdtempSync(join(tmpdir(), 'cc-phone-failover-')) });
}, 120_000);

afterAll(async () => {
	await center?.stop({ keep: !!process.env.KEEP_FAILOVER });
});

/** sipp's final count of a message row (e.g. `480 <----`), or of a result line. */
const sippCount = (output: string, pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? -1);

describe('#16 calls across a failover of the app server routing them', () => {
	it('F15 F16 the lease holder killed under hotline load: every call answered or given the fallback, none offered twice, none lost', async () => {
		const { apps, proxyUrl, prefix } = center;
		await until(async () => (await center.leaseHolder()) !== null, 'a lease holder', 15_000);
		const holderId = await center.leaseHolder();
		const victim = apps.find((a) => a.instanceId === holderId);
		expect(victim, `the lease holder ${holderId} is one of the two servers`).toBeDefined();
		const survivor = apps.find((a) => a !== victim)!;
		// Both serve telephony: the holder routes calls, the other is linked to it.
		for (const a of apps) {
			await until(() => center.running(a), `telephony running on ${a.name}`, 20_000);
		}

		// Agents signed in and 就绪 through the proxy; each one's page pinned to one of the servers.
		const pages: PageEvents[] = [];
		for (const [i, agentId] of AGENTS.entries()) {
			const cookie = await createUserOverHttp(proxyUrl, `fo${agentId}`, 'role:agent', agentId);
			simulated.push(cookie);
			pages.push(await center.agent(cookie, i % 2 === 0 ? victim! : survivor));
		}
		const offers = () => pages.flatMap((p, i) => p.offers.map((o) => ({ ...o, agent: AGENTS[i] })));

		// The carrier calls at 2 a second; a quarter of the way in, the holder is killed.
		const load = runSipp(callerAnsweredOrFallbackScenario(DOMAIN, TALK_MS), center.sipTarget, {
			service: HOTLINE,
			timeoutS: CALLS / RATE + 90,
			args: [
				'-m',
				String(CALLS),
				'-l',
				String(CALLS),
				'-r',
				String(RATE),
				'-default_behaviors',
				'all,-abortunexp'
			]
		});
		await until(() => offers().length >= CALLS / 4, 'a quarter of the calls offered', 60_000);
		const killedAt = Date.now();
		victim!.server.proc.kill('SIGKILL');
		const result = await load;
		const answered = sippCount(result.output, /200 <-+\s+(\d+)/);
		const fallback = sippCount(result.output, /480 <-+\s+(\d+)/);
		const successful = sippCount(result.output, /Successful call\s*\|\s*\d+\s*\|\s*(\d+)/);
		const failed = sippCount(result.output, /Failed call\s*\|\s*\d+\s*\|\s*(\d+)/);
		const after = offers()
			.filter((o) => o.at > killedAt)
			.sort((a, b) => a.at - b.at);
		console.log(
			`#16 failover under load: ${CALLS} calls at ${RATE}/s: ${answered} answered, ${fallback} given the fallback, ` +
				`${failed} failed; kill → next call offered ${after[0] ? after[0].at - killedAt : '—'} ms`
		);
		expect({ successful, failed }, result.output.slice(-3000)).toEqual({
			successful: CALLS,
			failed: 0
		});
		expect(answered + fallback).toBe(CALLS);
		expect(after.length, 'calls offered after the kill').toBeGreaterThan(0);
		// The screen pop reached the pages through the surviving server.
		expect(new Set(after.map((o) => o.by))).toEqual(new Set([survivor.name]));

		// None offered to two agents: each call popped up on one agent's page.
		const byCall = new Map<string, Set<string>>();
		for (const o of offers()) {
			byCall.set(o.callId, (byCall.get(o.callId) ?? new Set()).add(o.agent!));
		}
		const twice = [...byCall].filter(([, agents]) => agents.size > 1);
		expect(twice).toEqual([]);

		// Every call recorded once (by whichever server finished it), answered or not.
		await until(
			async () => {
				const rows = (await (
					await admin(`/${prefix}calls/_all_docs?include_docs=true`)
				).json()) as { rows: { doc: { callId: string; hotline: string } }[] };
				return rows.rows.filter((r) => r.doc.hotline === HOTLINE).length >= CALLS;
			},
			'every call recorded',
			30_000
		);
		const rows = (await (await admin(`/${prefix}calls/_all_docs?include_docs=true`)).json()) as {
			rows: { doc: { callId: string; hotline: string; outcome: string } }[];
		};
		const records = rows.rows.map((r) => r.doc).filter((d) => d.hotline === HOTLINE);
		expect(new Set(records.map((r) => r.callId)).size).toBe(records.length);
		expect(records).toHaveLength(CALLS);
		const outcomes = records.reduce<Record<string, number>>(
			(m, r) => ({ ...m, [r.outcome]: (m[r.outcome] ?? 0) + 1 }),
			{}
		);
		expect(outcomes).toEqual({
			completed: answered,
			...(fallback > 0 ? { timeout: fallback } : {})
		});

		// The agents are still signed in, on the server that routes calls now.
		const leader = await signIn(proxyUrl, 'admin', ADMIN_PASSWORD);
		const board = (await (
			await fetch(`${proxyUrl}/api/telephony/board`, { headers: { cookie: leader } })
		).json()) as { agents: { agentId: string; state: string }[] };
		expect(
			board.agents
				.filter((a) => AGENTS.includes(a.agentId))
				.map((a) => a.state)
				.filter((st) => st === 'signedOut')
		).toEqual([]);
		expect(await center.leaseHolder()).toBe(survivor.instanceId);
		// Kamailio delivered each call once (the phones answer at once: no call went on to another agent).
		const deliveries = [...center.kamailioLog().matchAll(/ACD (\S+) to /g)].map((m) => m[1]);
		expect(deliveries.length).toBe(new Set(deliveries).size);
	}, 300_000);

	it('F16 F30 an agent working in Chromium behind the proxy goes on across a failover: signed in, the screen pop, the softphone rings and answers', async () => {
		const { apps, proxyUrl } = center;
		for (const a of apps) {
			if (a.server.proc.exitCode !== null || a.server.proc.signalCode !== null) {
				await center.restart(a);
			}
			await until(() => center.running(a), `telephony running on ${a.name}`, 30_000);
		}
		// The simulated agents take a break: the calls are for the browser.
		for (const cookie of simulated) {
			const res = await fetch(`${proxyUrl}/api/telephony/state`, {
				method: 'POST',
				headers: { cookie, origin: proxyUrl, 'content-type': 'application/json' },
				body: JSON.stringify({ state: 'notReady', reason: '休息' })
			});
			expect(res.status).toBe(200);
		}
		const holderId = await center.leaseHolder();
		const holder = apps.find((a) => a.instanceId === holderId)!;

		await createUserOverHttp(proxyUrl, 'fobrowser', 'role:agent', '5199');
		const browser = await chromium.launch(CHROMIUM_LAUNCH);
		try {
			const context = await browser.newContext({ locale: 'zh-CN', baseURL: proxyUrl });
			// The page works through the server that routes calls — the one to be killed.
			await context.addCookies([{ name: 'ccsrv', value: holder.name, url: proxyUrl }]);
			const page = await context.newPage();
			await page.goto('/login');
			await page.getByLabel('用户名').fill('fobrowser');
			const password = page.getByRole('textbox', { name: '密码', exact: true });
			await password.fill('password-123');
			await password.press('Enter');
			const softphone = page.getByRole('region', { name: '网页电话' });
			const registered = softphone.getByTestId('line-state');
			await expectPage(registered).toHaveText('已登录，可以通话', { timeout: 20_000 });
			const panel = page.getByRole('region', { name: '话务状态' });
			await panel.getByRole('button', { name: '就绪' }).click();
			await expectPage(panel.getByTestId('agent-state')).toHaveText('就绪');

			/** A hotline call the agent answers in the browser; the caller hangs up shortly after. */
			async function answerOne() {
				const caller = runSipp(callerTalksToSoftphoneScenario(DOMAIN, 1_500), center.sipTarget, {
					service: HOTLINE,
					timeoutS: 40
				});
				const call = softphone.getByRole('group', { name: '当前通话' });
				await expectPage(call.getByTestId('call-state')).toContainText('来电', { timeout: 20_000 });
				await expectPage(
					page.getByRole('region', { name: '业务记录' }).getByLabel('来电号码')
				).toHaveValue('+8657188887777');
				await call.getByRole('button', { name: '接听' }).click();
				await expectPage(panel.getByTestId('agent-state')).toHaveText('通话中');
				const result = await caller;
				expect(result.code, result.output.slice(-1500)).toBe(0);
				await expectPage(panel.getByTestId('agent-state')).toHaveText('就绪', { timeout: 10_000 });
			}
			await answerOne();

			holder.server.proc.kill('SIGKILL');
			await until(
				async () => {
					const now = await center.leaseHolder();
					return now !== null && now !== holder.instanceId;
				},
				'the other server holding the lease',
				30_000
			);
			// The page reconnects by itself through the proxy: still signed in, its phone registered, 就绪.
			await expectPage(registered).toHaveText('已登录，可以通话', { timeout: 30_000 });
			await expectPage(panel.getByTestId('agent-state')).toHaveText('就绪', { timeout: 15_000 });
			await expectPage(page).toHaveURL(/\/agent/);
			await answerOne();
			await context.close();
		} finally {
			await browser.close();
		}
	}, 180_000);
});
