/**
 * #18 F23 the voice menu in front of the agents, in the product: Kamailio sends the carrier's call to a hotline
 * of IVR_HOTLINES to the app's menu (rtpengine playing the prompts), the caller keys through it, the menu hands
 * the call into the distribution through Kamailio, the ready agent's page gets the screen pop with the menu's
 * path and keys before the phone rings, and the caller and the agent hear each other through rtpengine.
 * The caller's media is a UDP socket of the test; sipp is the carrier's signalling and the agent's phone.
 */
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallStats } from '../../src/lib/shared/wire/telephony';
import type { TicketDoc } from '../../src/lib/shared/tickets/ticket';
import { callbackTicketId } from '../../server/ivr/callback-requests';
import { startTestServer, type TestServer } from '../helpers/server';
import { telephonyClient, until } from '../helpers/telephony';
import { rtpRange } from '../helpers/ivr';
import {
	agentAnswersWithAudioScenario,
	callerMenuScenario,
	registerContactScenario,
	runSipp,
	samplePort,
	tellToHangUp,
	udpBound
} from '../helpers/sipp';

const SIP_PORT = 23_000 + Math.floor(Math.random() * 300) * 10;
const DOMAIN = 'callcenter.local';
const target = `127.0.0.1:${SIP_PORT}`;
let server: TestServer;
let tel: ReturnType<typeof telephonyClient>;
let JANUS_IP = '';
/** The first test's team leader and agent (the last test reads the wallboard with the leader's). */
let leader = '';
let agent = '';

const installed = [
	'/usr/sbin/kamailio',
	'/usr/bin/janus',
	'/usr/bin/sipp',
	'/usr/bin/rtpengine',
	'/usr/bin/espeak-ng'
].every(existsSync);

beforeAll(async () => {
	if (!installed) {
		throw new Error(
			'kamailio, janus, sipp, rtpengine and espeak-ng are needed: npm test installs them as root'
		);
	}
	const rtp = rtpRange(100);
	server = await startTestServer({
		TELEPHONY: 'on',
		SIP_PORT: String(SIP_PORT),
		SIP_TRUNKS: '127.0.0.1',
		HOTLINES: '96000,96001',
		IVR_HOTLINES: '96001',
		JANUS_HTTP_PORT: String(SIP_PORT + 1),
		JANUS_WS_PORT: String(SIP_PORT + 2),
		JANUS_ADMIN_PORT: String(SIP_PORT + 3),
		EVAPI_PORT: String(SIP_PORT + 4),
		IVR_SIP_PORT: String(SIP_PORT + 5),
		IVR_NG_PORT: String(SIP_PORT + 6),
		IVR_DTMF_PORT: String(SIP_PORT + 7),
		IVR_RTP_PORTS: `${rtp.portMin}-${rtp.portMax}`,
		ACD_OFFER_SECONDS: '5',
		ACD_WRAPUP_SECONDS: '1'
	});
	tel = telephonyClient(server);
	JANUS_IP = server.runtime.deps.settings.sip.janusIp;
}, 120_000);
afterAll(async () => {
	await server?.close();
});

/** An RTP packet of PCMA carrying a marker the echo must bring back. */
function marker(n: number): Uint8Array {
	const packet = new Uint8Array(12 + 160).fill(0xd5);
	const header = new DataView(packet.buffer);
	header.setUint8(0, 0x80);
	header.setUint8(1, 8);
	header.setUint16(2, 2000 + n);
	header.setUint32(4, n * 160);
	header.setUint32(8, 0x0badcafe);
	packet.set(new TextEncoder().encode(`MENU-ECHO-${String(n).padStart(3, '0')}`), 12);
	return packet;
}

/**
 * Saves the test's own menu for 96001 (测试导航) with one node `main`: created the first time, changed from its
 * current revision after.
 */
async function saveTestMenu(
	admin: string,
	main: { title: string; prompt: string; keys: unknown[] }
) {
	const list = await fetch(`${server.url}/api/admin/config/voiceMenu`, {
		headers: { cookie: admin }
	});
	const items = ((await list.json()) as { items: { _id: string; _rev: string; name: string }[] })
		.items;
	const current = items.find((m) => m.name === '测试导航');
	const res = await fetch(
		`${server.url}/api/admin/config/voiceMenu${current ? `/${encodeURIComponent(current._id)}` : ''}`,
		{
			method: current ? 'PUT' : 'POST',
			headers: { 'content-type': 'application/json', cookie: admin },
			body: JSON.stringify({
				...(current ? { _rev: current._rev } : {}),
				name: '测试导航',
				hotlines: ['96001'],
				fallbackQueue: 'general',
				nodes: [{ id: 'main', ...main }]
			})
		}
	);
	expect(res.status, await res.clone().text()).toBe(current ? 200 : 201);
}

/** The test caller's number (+86 571 8888 6666) belongs to subscriber E900 of 城东片区 (imported once). */
async function callerIsSubscriber(admin: string) {
	const imported = await fetch(`${server.url}/api/customers/import?source=digital&format=csv`, {
		method: 'POST',
		headers: { cookie: admin, origin: server.url, 'content-type': 'text/plain; charset=utf-8' },
		body: '账号,姓名,联系电话,装机地址,片区,状态\nE900,陈东,0571-88886666,城东路1号,城东片区,正常'
	});
	expect(imported.status, await imported.clone().text()).toBe(200);
	await until(async () => {
		const res = await fetch(
			`${server.url}/api/customers/search?q=057188886666&field=phone&match=exact&source=all`,
			{ headers: { cookie: admin, origin: server.url } }
		);
		return ((await res.json()) as { hits: unknown[] }).hits.length > 0;
	}, 'the subscriber in the search index');
}

/**
 * A carrier's caller on the voice-menu hotline (sipp, with a UDP socket of the test as its media): it keys
 * `keys` when told (`signal`), and hangs up when told again (`end: 'caller'`) or waits for the menu's BYE.
 * `answered` resolves once the caller hears the menu; a caller turned away fails it with sipp's account.
 */
async function menuCaller(name: string, keys: string[], end: 'caller' | 'agent') {
	const media = createSocket('udp4');
	let heard = 0;
	media.on('message', () => heard++);
	await new Promise<void>((r) => media.bind(0, '127.0.0.1', () => r()));
	const port = samplePort();
	const id = `menu-${name}-${process.pid}-${Date.now()}-1`;
	const run = runSipp(callerMenuScenario({ mediaPort: media.address().port, keys, end }), target, {
		service: '96001',
		port,
		timeoutS: 90,
		// sipp binds a few media ports from -mp on: apart from every other caller's.
		args: ['-mp', String(port + 5000), '-cid_str', id.replace(/-1$/, '-%u')]
	});
	let ended: { code: number; output: string } | null = null;
	void run.then((r) => (ended = r));
	let open = true;
	const close = () => {
		if (open) media.close();
		open = false;
	};
	return {
		async answered() {
			await until(() => heard >= 20 || ended !== null, `${name}: the menu at the caller`, 20_000);
			expect(ended, name).toBeNull();
		},
		/** The menu call's Call-ID. */
		callId: id,
		signal: () => tellToHangUp(port, id),
		async done() {
			const r = await run;
			close();
			expect(r.code, r.output).toBe(0);
		},
		close,
		/** Hears the menu, keys, and is hung up on by the menu (`end: 'agent'`). */
		async servedByTheMenu() {
			try {
				await this.answered();
				await this.signal();
				await this.done();
			} finally {
				close();
			}
		}
	};
}

describe('F23 the voice menu in front of the agents', () => {
	it('says in /api/health that the menu runs, and on which hotlines', async () => {
		const health = (await (await fetch(`${server.url}/api/health`)).json()) as {
			telephony: { state: string; detail: string };
		};
		expect(health.telephony.state).toBe('running');
		expect(health.telephony.detail).toContain('voice menu (rtpengine) on 96001');
	});

	it('F23 F16 a caller keys through the menu and is handed to the ready agent: the screen pop shows the menu path and keys, and both hear each other', async () => {
		leader = await server.createUser({ username: 'menuleader', roleKey: 'leader' });
		agent = await server.createUser({
			username: 'menuagent',
			roleKey: 'agent',
			agentId: '2301'
		});
		const page = await tel.events(agent);
		const { body } = await tel.credentials(agent);
		const phonePort = samplePort();
		// The agent's phone (registered from Janus's address, as the softphone is) rings 1.5 s, answers, echoes.
		const phone = runSipp(agentAnswersWithAudioScenario({ ringMs: 1500, viaProxy: true }), target, {
			service: '2301',
			port: phonePort,
			localIp: JANUS_IP,
			timeoutS: 60,
			args: ['-mi', JANUS_IP, '-mp', String(samplePort() + 4000), '-rtp_echo']
		});
		await udpBound(JANUS_IP, phonePort);
		const reg = await runSipp(registerContactScenario(DOMAIN, phonePort), target, {
			service: '2301',
			localIp: JANUS_IP,
			args: ['-au', '2301', '-ap', body.password]
		});
		expect(reg.code, reg.output).toBe(0);
		expect((await tel.setState(agent, 'ready')).body.state).toBe('ready');

		const media = createSocket('udp4');
		const packets: { from: number; data: Buffer }[] = [];
		media.on('message', (data, from) => packets.push({ from: from.port, data }));
		await new Promise<void>((r) => media.bind(0, '127.0.0.1', () => r()));
		const callerPort = samplePort();
		const callId = `menu-${process.pid}-${Date.now()}`;
		const caller = runSipp(
			callerMenuScenario({ mediaPort: media.address().port, keys: ['1', '1'], end: 'caller' }),
			target,
			{
				service: '96001',
				port: callerPort,
				timeoutS: 90,
				args: ['-mp', String(samplePort() + 4000), '-cid_str', `${callId}-%u`]
			}
		);
		const id = `${callId}-1`;
		try {
			// The menu answers and its greeting plays (the agent's page has heard of no call yet).
			await until(() => packets.length >= 20, 'the greeting’s audio at the caller', 20_000);
			expect(page.received.some((e) => e.event === 'offer')).toBe(false);
			const rtpengine = { host: '127.0.0.1', port: packets[0]!.from };

			// 1: 业务咨询和故障报修; 1: 数字电视 — queued to the agents.
			await tellToHangUp(callerPort, id);
			const offer = await page.next('offer', 20_000);
			expect(offer.data).toMatchObject({
				caller: '+8657188886666',
				hotline: '96001',
				ivr: {
					queue: 'tv',
					path: [
						{ id: 'main', title: '主菜单' },
						{ id: 'service', title: '业务咨询和故障报修' }
					],
					keys: ['1', '1'],
					reason: 'key'
				}
			});
			expect(page.misread).toEqual([]);
			// While the phone rings the caller hears the waiting prompt (转接人工服务，请稍候).
			const atOffer = packets.length;
			await until(() => packets.length >= atOffer + 20, 'the waiting prompt at the caller');

			// Answered: the caller's audio reaches the agent's phone and its echo comes back.
			const echoed = () =>
				new Set(
					packets
						.map((p) => /MENU-ECHO-(\d{3})/.exec(p.data.subarray(12).toString('latin1'))?.[1])
						.filter(Boolean)
				);
			for (let n = 0; n < 200 && echoed().size < 20; n++) {
				await new Promise<void>((r) =>
					media.send(marker(n), rtpengine.port, rtpengine.host, () => r())
				);
				// 20 ms of audio per packet: the media's pace, not a wait for an event.
				await new Promise((r) => setTimeout(r, 20));
			}
			expect(echoed().size).toBeGreaterThanOrEqual(20);

			// The caller hangs up: the agent's phone hears BYE; the call is recorded as answered by 2301.
			await tellToHangUp(callerPort, id);
			const [c, p] = await Promise.all([caller, phone]);
			expect(c.code, c.output).toBe(0);
			expect(p.code, p.output).toBe(0);
			await until(
				async () =>
					(await tel.calls(leader).catch(() => [])).some(
						(r) => r.agentId === '2301' && r.outcome === 'completed'
					),
				'the call record'
			);
		} finally {
			media.close();
			page.close();
		}
	});

	it('F23 an administrator’s saved menu answers the next call, while a call already in the menu keeps the version it started with', async () => {
		expect(leader, 'the first test signed the team leader in').not.toBe('');
		// Nobody takes the calls: they wait in the distribution, where the wallboard shows their menu choice.
		expect((await tel.setState(agent, 'notReady')).body.state).toBe('notReady');
		const admin = await server.signIn('admin', 'integration-admin');
		const save = async (version: string, rev?: string) => {
			const res = await fetch(
				`${server.url}/api/admin/config/voiceMenu${rev ? `/voiceMenu%3A${id}` : ''}`,
				{
					method: rev ? 'PUT' : 'POST',
					headers: { 'content-type': 'application/json', cookie: admin },
					body: JSON.stringify({
						name: '测试导航',
						hotlines: ['96001'],
						fallbackQueue: 'general',
						nodes: [
							{
								id: 'main',
								title: `${version}主菜单`,
								prompt: `${version}：缴费请按3。`,
								keys: [{ key: '3', action: 'queue', queue: `billing-${version}` }]
							}
						],
						...(rev ? { _rev: rev } : {})
					})
				}
			);
			expect(res.status, await res.clone().text()).toBe(rev ? 200 : 201);
			return ((await res.json()) as { item: { _id: string; _rev: string } }).item;
		};
		let id = '';
		const first = await save('v1');
		id = first._id.slice('voiceMenu:'.length);

		const callers: Awaited<ReturnType<typeof menuCaller>>[] = [];
		const call = async (n: number) => {
			const caller = await menuCaller(`v${n}`, ['3'], 'caller');
			callers.push(caller);
			await caller.answered();
		};
		try {
			await call(1);
			// Changed while caller 1 is in the menu: caller 2 gets the new version.
			await save('v2', first._rev);
			await call(2);
			for (const c of callers) await c.signal();
			let rows: { queue: string; title: string; keys: string[] }[] = [];
			await until(async () => {
				const board = await tel.board(leader);
				rows = board.queue.flatMap((q) =>
					q.ivr ? [{ queue: q.ivr.queue, title: q.ivr.path[0]!.title, keys: q.ivr.keys }] : []
				);
				return rows.length === 2;
			}, 'both callers waiting for an agent on the wallboard');
			expect(rows).toEqual(
				expect.arrayContaining([
					{ queue: 'billing-v1', title: 'v1主菜单', keys: ['3'] },
					{ queue: 'billing-v2', title: 'v2主菜单', keys: ['3'] }
				])
			);
			for (const c of callers) await c.signal();
			for (const c of callers) await c.done();
			await until(
				async () => (await tel.board(leader)).queue.length === 0,
				'the callers who hung up gone from the queue'
			);
		} finally {
			for (const c of callers) c.close();
		}
	});

	it('F23 a caller whose subscriber lies in an area with a fault notice hears it before the menu, and the agents see they did', async () => {
		const admin = await server.signIn('admin', 'integration-admin');
		await callerIsSubscriber(admin);
		const publish = async (name: string, areas: string[]) => {
			const res = await fetch(`${server.url}/api/admin/config/notice`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', cookie: leader },
				body: JSON.stringify({
					name,
					text: `${name}，预计十八点恢复。`,
					areas,
					startsAt: new Date(Date.now() - 60_000).toISOString(),
					endsAt: new Date(Date.now() + 3_600_000).toISOString()
				})
			});
			expect(res.status, await res.clone().text()).toBe(201);
		};
		await publish('城东片区停电检修', ['城东片区']);
		await publish('城西片区光缆抢修', ['城西片区']);

		const caller = await menuCaller('notice', ['3'], 'caller');
		try {
			await caller.answered();
			// A key during the notice stops it and counts at the menu's first node (3: the billing queue).
			await caller.signal();
			let row: { notices?: string[]; queue: string } | undefined;
			await until(async () => {
				row = (await tel.board(leader)).queue.find((q) => q.ivr)?.ivr;
				return !!row;
			}, 'the caller waiting on the wallboard');
			expect(row).toMatchObject({ notices: ['城东片区停电检修'], queue: 'billing-v2' });
			await caller.signal();
			await caller.done();
		} finally {
			caller.close();
		}
	});

	it('F23 F25 each menu call is recorded with where it ended: the statistics count the menu’s self-service and the nodes callers used', async () => {
		const admin = await server.signIn('admin', 'integration-admin');
		const day = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
		const menuStats = async () => {
			const res = await fetch(`${server.url}/api/telephony/stats?from=${day}&to=${day}`, {
				headers: { cookie: leader }
			});
			return v.parse(CallStats, await res.json()).menu;
		};
		// The calls of the tests before this one (handed to the agents) are on record already.
		await until(async () => ((await menuStats())?.toAgents ?? 0) >= 4, 'the earlier menu calls');
		const before = (await menuStats())!;

		// Key 2 is now an announcement after which the menu hangs up: the caller is served by the menu.
		await saveTestMenu(admin, {
			title: 'v3主菜单',
			prompt: '查询营业时间请按2。',
			keys: [
				{
					key: '2',
					action: 'announcement',
					text: '营业时间为每天八点至十八点，再见。',
					hangup: true
				}
			]
		});

		// The menu says its piece and hangs up.
		await (await menuCaller('self', ['2'], 'agent')).servedByTheMenu();
		await until(
			async () => (await menuStats())?.calls === before.calls + 1,
			'the self-served call on record'
		);
		const after = (await menuStats())!;
		expect(after).toMatchObject({
			selfService: before.selfService + 1,
			toAgents: before.toAgents,
			abandoned: before.abandoned
		});
		expect(after.containment).toBeCloseTo((after.selfService + after.callbacks) / after.calls);
		expect(after.nodes).toContainEqual({ title: 'v3主菜单', calls: 1 });
	});

	it('F23 F22 a caller who asks to be called back leaves a ticket due for a callback at once, with their subscriber', async () => {
		const admin = await server.signIn('admin', 'integration-admin');
		await callerIsSubscriber(admin);
		await saveTestMenu(admin, {
			title: 'v4主菜单',
			prompt: '需要回电请按4。',
			keys: [{ key: '4', action: 'callback', text: '我们会尽快给您回电，再见。' }]
		});

		// The menu confirms and hangs up.
		const caller = await menuCaller('callback', ['4'], 'agent');
		await caller.servedByTheMenu();
		const ticket = (await server.runtime.store
			.db('tickets')
			.get(callbackTicketId(caller.callId))) as unknown as TicketDoc;
		expect(ticket).toMatchObject({
			status: 'callback',
			callerNumber: '+8657188886666',
			customerIds: ['digital:E900'],
			departmentId: 'department:center'
		});
		expect(ticket.events[0]).toMatchObject({
			type: 'created',
			by: 'system:ivr',
			callbackRequired: true,
			content: '语音导航回电请求（热线 96001）：v4主菜单 · 按键 4'
		});
		// An agent's device receives it with the center's tickets: on the desk's 待回访 list.
		const desk = await server.createUser({ username: 'menucallbacks', roleKey: 'agent' });
		const agentFeed = await fetch(`${server.url}/sync/tickets/_changes?since=0`, {
			headers: { cookie: desk }
		});
		const feed = (await agentFeed.json()) as { results?: { id: string }[] };
		expect(agentFeed.status, JSON.stringify(feed)).toBe(200);
		expect(feed.results!.map((r) => r.id)).toContain(ticket._id);
	});
});
