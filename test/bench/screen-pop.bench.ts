/**
 * #5 screen pop: from the INVITE leaving the carrier to the customer card with its ticket history on the
 * agent's screen, beside the INVITE → Janus `incomingcall` (the softphone ringing) in the same page and
 * run. Real Kamailio, Janus and Chromium (fake microphone) on loopback; the INVITE is sent from this
 * process over UDP so its departure time is exact (no sipp start-up in the figure). The caller gives up
 * (CANCEL) once both are on screen. Prints p50/p95 over BENCH_CALLS calls.
 *
 * BENCH_POP_FIXTURE=1 (#15): on a copy of the capacity benchmark's fixture (1,000,000 subscribers and their
 * search index, 270,000 tickets; `test/bench/capacity/`, built once) with a different caller each call,
 * numbers as the carrier sends them (digits only, whatever the billing export wrote); the card is the
 * caller's subscriber by name. Otherwise one subscriber and the same caller every call, with an earlier ticket.
 */
import { telephonyPorts } from '../helpers/telephony';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { startTestServer } from '../helpers/server';
import { ensureFixture, prepareRun } from './capacity/fixture';
import { ensureHubSnapshot } from './capacity/warm';
import { benchSettings } from './capacity/settings';

const CALLS = Number(process.env.BENCH_CALLS ?? 30);
/** Between calls: the softphone has settled after the previous caller gave up. */
const PAUSE_MS = Number(process.env.BENCH_PAUSE_MS ?? 1000);
const SIP_PORT = 36_000 + Math.floor(Math.random() * 500) * 8;
const DOMAIN = 'callcenter.local';
const CALLER = '+8657188887777';
const FIXTURE = process.env.BENCH_POP_FIXTURE === '1';
/** Every fixture user's password (`BENCH_PASSWORD` of test/bench/capacity/fixture.ts, whose text keys the cache). */
const FIXTURE_PASSWORD = 'bench-password-15';
const p = (xs: number[], q: number) =>
	[...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

const fixtureRun = FIXTURE
	? await (async () => {
			const s = benchSettings();
			const fixture = await ensureFixture(s.sizes, s.cacheRoot, s.cacheMaxAgeDays);
			await ensureHubSnapshot(fixture, console.log);
			const runDir = mkdtempSync(join(tmpdir(), 'screen-pop-'));
			const prepared = await prepareRun(fixture, runDir);
			const adminCookie = prepared.cookies.get('user:admin')!;
			return { fixture, runDir, dataDir: prepared.dataDir, adminCookie };
		})()
	: null;
const server = await startTestServer({
	...(fixtureRun ? { DATA_DIR: fixtureRun.dataDir } : {}),
	TELEPHONY: 'on',
	...telephonyPorts(SIP_PORT),
	JANUS_PUBLIC_IP: '127.0.0.1',
	ACD_WRAPUP_SECONDS: '0'
});
const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	args: [
		'--no-sandbox',
		'--disable-gpu',
		'--use-fake-device-for-media-stream',
		'--use-fake-ui-for-media-stream',
		'--allow-loopback-in-peer-connection'
	]
});

/** A carrier leg over UDP: INVITE now (returns its send time), CANCEL later. */
function carrier() {
	const socket = createSocket('udp4');
	socket.bind(0, '127.0.0.1');
	socket.on('message', () => {}); // 100/180/487: not needed here
	let n = 0;
	return {
		invite(caller = CALLER) {
			const callId = `bench-${randomBytes(6).toString('hex')}-${n++}`;
			const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
			const tag = randomBytes(4).toString('hex');
			const { port } = socket.address();
			const sdp = [
				'v=0',
				'o=carrier 1 1 IN IP4 127.0.0.1',
				's=-',
				'c=IN IP4 127.0.0.1',
				't=0 0',
				'm=audio 6999 RTP/AVP 8',
				'a=rtpmap:8 PCMA/8000',
				''
			].join('\r\n');
			const head = (method: string, br: string) =>
				[
					`${method} sip:96000@${DOMAIN} SIP/2.0`,
					`Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${br}`,
					`From: <sip:${caller}@carrier.example>;tag=${tag}`,
					`To: <sip:96000@${DOMAIN}>`,
					`Call-ID: ${callId}`,
					`CSeq: 1 ${method}`,
					`Contact: <sip:carrier@127.0.0.1:${port}>`,
					'Max-Forwards: 70'
				].join('\r\n');
			const invite = `${head('INVITE', branch)}\r\nContent-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(sdp)}\r\n\r\n${sdp}`;
			const sentAt = Date.now();
			socket.send(invite, SIP_PORT, '127.0.0.1');
			return {
				sentAt,
				cancel: () =>
					socket.send(
						`${head('CANCEL', branch)}\r\nContent-Length: 0\r\n\r\n`,
						SIP_PORT,
						'127.0.0.1'
					)
			};
		},
		close: () => socket.close()
	};
}

/**
 * Marks in the page (page clock = this host's clock): the softphone rings, the card shows — the caller,
 * the subscriber's `name` and, when given, the earlier ticket's `history` text.
 */
async function watch(page: Page, caller: string, name: string, history: string | null) {
	// As text: tsx's helpers (keepNames) do not exist in the page.
	await page.evaluate(`(() => {
		const caller = ${JSON.stringify(caller)};
		const name = ${JSON.stringify(name)};
		const history = ${JSON.stringify(history)};
		window.marks = {};
		new MutationObserver(() => {
			const m = window.marks;
			const now = Date.now();
			const state = document.querySelector('[data-testid="call-state"]')?.textContent ?? '';
			if (!m.ring && state.includes('来电')) m.ring = now;
			const main = document.querySelector('main')?.textContent ?? '';
			if (!m.card && main.includes(caller) && main.includes(name) && (history === null || main.includes(history))) {
				m.card = now;
			}
		}).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
	})()`);
}

try {
	/** Who calls, and what the card then shows. */
	let calls: { caller: string; name: string; history: string | null }[];
	let username = 'popagent';
	let password = 'password-123';
	if (fixtureRun) {
		const { dir, manifest } = fixtureRun.fixture;
		const lines = readFileSync(join(dir, manifest.phonesFile), 'utf8').trim().split('\n');
		const picked = new Set<string>();
		while (picked.size < Math.min(CALLS, lines.length)) {
			picked.add(lines[Math.floor(Math.random() * lines.length)]!);
		}
		const rows = [...picked].map((line) => line.split('\t') as [string, string]);
		const docs = await server.runtime.store
			.db<{ _id: string; name: string }>('customers')
			.getMany(rows.map(([, id]) => id));
		calls = rows.map(([phone, id]) => ({
			caller: phone.replace(/\D/g, ''),
			name: docs.get(id)!.name,
			history: null
		}));
		username = manifest.users.find((u) => u.kind === 'spare')!.username;
		password = FIXTURE_PASSWORD;
	} else {
		// A subscriber under the caller's number, with earlier tickets (history).
		await server.runtime.store.db('customers').insert({
			_id: 'digital:BENCH1',
			type: 'customer',
			source: 'digital',
			account: 'BENCH1',
			name: '基准用户',
			phones: ['057188887777'],
			address: '杭州市西湖区文三路1号',
			area: '',
			smartCard: '',
			stbSerial: '',
			products: [],
			status: '正常',
			importedAt: new Date().toISOString()
		} as never);
		await server.runtime.deps.customers.indexer.caughtUp();
		await server.createUser({ username, roleKey: 'agent', agentId: '4001' });
		calls = Array.from({ length: CALLS }, () => ({
			caller: CALLER,
			name: '基准用户',
			history: '宽带报修基准'
		}));
	}
	const context = await browser.newContext({ baseURL: server.url, locale: 'zh-CN' });
	const page = await context.newPage();
	await page.goto('/login');
	await page.getByLabel('用户名').fill(username);
	await page.getByRole('textbox', { name: '密码', exact: true }).fill(password);
	await page.getByRole('textbox', { name: '密码', exact: true }).press('Enter');
	await page.getByRole('heading', { name: '坐席工作台' }).waitFor();
	if (!fixtureRun) {
		// One earlier ticket of this caller, entered through the UI so it is everywhere.
		const entry = page.getByRole('region', { name: '业务记录' });
		await entry.getByLabel('来电号码').fill(CALLER);
		await entry.getByLabel('服务类型').selectOption({ label: '咨询' });
		await entry.getByLabel('服务内容').fill('宽带报修基准');
		await entry.getByRole('button', { name: '中心处理' }).click();
		await page.getByRole('status').filter({ hasText: '中心处理完毕' }).waitFor();
	}
	await page
		.getByRole('region', { name: '网页电话' })
		.getByText('已登录，可以通话')
		.waitFor({ timeout: 20_000 });
	const panel = page.getByRole('region', { name: '话务状态' });
	await panel.getByRole('button', { name: '就绪' }).click();
	await panel.getByTestId('agent-state').getByText('就绪').waitFor();
	if (fixtureRun) {
		// The agent's device has its first listing and waits on a long-poll: the calls start on a quiet page.
		const t = performance.now();
		const admin = fixtureRun.adminCookie;
		for (;;) {
			const res = await fetch(`${server.url}/api/metrics`, { headers: { cookie: admin } });
			const m = (await res.json()) as { feeds?: { tickets?: { waiters?: number } } };
			if ((m.feeds?.tickets?.waiters ?? 0) > 0) break;
			if (performance.now() - t > 600_000) throw new Error('the agent device never caught up');
			await new Promise((r) => setTimeout(r, 1000));
		}
		console.log(
			`the agent's device caught up ${Math.round(performance.now() - t)} ms after sign-in`
		);
	} else {
		await page.waitForTimeout(2_000); // the earlier ticket replicates to the server
	}

	const net = carrier();
	const toCard: number[] = [];
	const toRing: number[] = [];
	const cardAfterRing: number[] = [];
	for (const [i, { caller, name, history }] of calls.entries()) {
		const previous = i > 0 ? calls[i - 1]!.name : null;
		// An empty desk (in-app navigation: the softphone stays registered).
		await page.evaluate((n) => {
			const a = document.createElement('a');
			a.href = `/agent?round=${n}`;
			document.body.append(a);
			a.click();
			a.remove();
		}, i);
		await page.waitForURL(`**/agent?round=${i}`);
		const cleared = await page
			.waitForFunction(
				(prev) => prev === null || !document.querySelector('main')?.textContent?.includes(prev),
				previous,
				{
					timeout: 5_000
				}
			)
			.then(() => true)
			.catch(() => false);
		if (!cleared) {
			console.log((await page.locator('main').textContent())?.slice(0, 2000));
			throw new Error('the desk did not clear');
		}
		await panel.getByTestId('agent-state').getByText('就绪').waitFor();
		await page.getByRole('region', { name: '网页电话' }).getByText('已登录，可以通话').waitFor();
		await page.waitForTimeout(PAUSE_MS);
		await watch(page, caller, name, history);
		const call = net.invite(caller);
		const shown = await page
			.waitForFunction(
				() => {
					const m = (window as unknown as { marks: Record<string, number> }).marks;
					return Boolean(m.ring && m.card);
				},
				undefined,
				{
					timeout: 15_000,
					polling: 50
				}
			)
			.then(() => true)
			.catch((err: unknown) => (console.log(String(err)), false));
		if (!shown) {
			console.log(
				page.url(),
				await page.evaluate('JSON.stringify(window.marks)'),
				await panel.getByTestId('agent-state').textContent()
			);
			console.log((await page.locator('main').textContent())?.slice(0, 1500));
			console.log(
				await page.evaluate(
					"fetch('/api/customers/search?q=%2B8657188887777&field=phone&match=exact').then(r => r.text())"
				)
			);
			console.log('caller field:', await page.getByLabel('来电号码').inputValue());
			throw new Error('no screen pop');
		}
		const marks = await page.evaluate(
			() => (window as unknown as { marks: Record<string, number> }).marks
		);
		toCard.push(marks.card! - call.sentAt);
		toRing.push(marks.ring! - call.sentAt);
		cardAfterRing.push(marks.card! - marks.ring!);
		call.cancel();
		await panel.getByTestId('agent-state').getByText('就绪').waitFor();
	}
	net.close();
	const line = (name: string, xs: number[]) =>
		`${name.padEnd(44)} p50 ${String(p(xs, 0.5)).padStart(5)} ms   p95 ${String(p(xs, 0.95)).padStart(5)} ms   max ${String(Math.max(...xs)).padStart(5)} ms`;
	console.log(
		`screen pop over ${calls.length} calls (Kamailio + Janus + Chromium on loopback)` +
			(fixtureRun
				? `, ${fixtureRun.fixture.manifest.counts.customers} subscribers, a different caller each call`
				: ', one subscriber, the same caller each call')
	);
	console.log(line('INVITE → customer card with history on screen', toCard));
	console.log(line('INVITE → Janus incomingcall (softphone rings)', toRing));
	console.log(line('card on screen after incomingcall (− = before)', cardAfterRing));
} finally {
	await browser.close();
	await server.close();
	if (fixtureRun) rmSync(fixtureRun.runDir, { recursive: true, force: true });
}
