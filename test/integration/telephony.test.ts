/**
 * #5 groundwork with the real Kamailio and Janus (Debian packages) as children of the app: they start with
 * it and report in /api/health; only signed-in agents get a SIP identity, issued per sign-in; Kamailio
 * refuses REGISTER without those credentials, and calls from anywhere but the trunks (sipp plays both).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { WebSocket, type RawData } from 'ws';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server';
import { telephonyClient, until } from '../helpers/telephony';
import { sipOptions } from '../../server/telephony/supervisor';
import * as v from 'valibot';
import { buildTicket } from '../../src/lib/shared/tickets/ticket';
import { CallStats } from '../../src/lib/shared/wire/telephony';
import {
	answerScenario,
	callerAnsweredScenario,
	callerCancelScenario,
	inviteScenario,
	registerContactScenario,
	registerScenario,
	runSipp,
	samplePort,
	STRANGER_IP,
	udpBound
} from '../helpers/sipp';

// Ports of this run: SIP, then Janus HTTP, WebSocket and admin.
const SIP_PORT = 27_200 + Math.floor(Math.random() * 300) * 6;
const DOMAIN = 'callcenter.local';
const target = `127.0.0.1:${SIP_PORT}`;
let server: TestServer;
/**
 * Janus's SIP address (JANUS_SIP_IP, by default this machine's LAN address): a sipp playing an agent's
 * phone registers from there, as Janus does for the browser.
 */
let JANUS_IP = '';
let tel: ReturnType<typeof telephonyClient>;

const installed = ['/usr/sbin/kamailio', '/usr/bin/janus', '/usr/bin/sipp'].every(existsSync);

beforeAll(async () => {
	if (!installed) {
		throw new Error(
			'kamailio, janus and sipp are needed: npm test installs them as root (apt-get install kamailio janus sip-tester)'
		);
	}
	server = await startTestServer({
		TELEPHONY: 'on',
		SIP_PORT: String(SIP_PORT),
		SIP_TRUNKS: '127.0.0.1',
		HOTLINES: '96000',
		JANUS_HTTP_PORT: String(SIP_PORT + 1),
		JANUS_WS_PORT: String(SIP_PORT + 2),
		JANUS_ADMIN_PORT: String(SIP_PORT + 3),
		EVAPI_PORT: String(SIP_PORT + 4),
		ACD_OFFER_SECONDS: '2',
		ACD_MAX_WAIT_SECONDS: '3',
		ACD_WRAPUP_SECONDS: '1',
		AGENT_GONE_SECONDS: '2',
		DESK_PHONES: '127.0.0.3',
		TURN_URLS: 'turn:127.0.0.1:3478',
		TURN_SECRET: 'turn-secret'
	});
	tel = telephonyClient(server);
	JANUS_IP = server.runtime.deps.settings.sip.janusIp;
}, 30_000);
afterAll(async () => {
	await server?.close();
});

const credentials = (cookie: string) => tel.credentials(cookie);

describe('#5 Kamailio and Janus run with the app', () => {
	it('start with it and say so in /api/health', async () => {
		const health = (await (await fetch(`${server.url}/api/health`)).json()) as {
			telephony: { state: string; detail: string };
		};
		expect(health.telephony.state).toBe('running');
		expect(health.telephony.detail).toContain(`udp 127.0.0.1:${SIP_PORT}`);
		const janus = await fetch(`http://127.0.0.1:${SIP_PORT + 1}/janus/info`);
		expect(((await janus.json()) as { name: string }).name).toContain('Janus');
	});

	it('issue a SIP identity only to signed-in agents with an agent ID and call.take', async () => {
		const agent = await server.createUser({
			username: 'sipagent',
			roleKey: 'agent',
			agentId: '1001'
		});
		const noId = await server.createUser({ username: 'sipnoid', roleKey: 'agent' });
		const crew = await server.createUser({ username: 'sipcrew', roleKey: 'crew' });
		const issued = await credentials(agent);
		expect(issued.status).toBe(200);
		expect(issued.body).toMatchObject({ username: '1001', uri: `sip:1001@${DOMAIN}` });
		expect(issued.body.password.length).toBeGreaterThanOrEqual(20);
		// TURN for browsers behind NAT: time-limited credentials bound to this agent.
		const [turn, ...more] = issued.body.iceServers;
		expect(more).toEqual([]);
		expect(turn?.urls).toEqual(['turn:127.0.0.1:3478']);
		const [expiry, who] = (turn?.username ?? '').split(':');
		expect(who).toBe('1001');
		expect(Number(expiry) * 1000).toBeGreaterThan(Date.now() + 3_600_000);
		expect((await credentials(noId)).status).toBe(409);
		expect((await credentials(crew)).status).toBe(403);
		const anonymous = await fetch(`${server.url}/api/telephony/credentials`, {
			method: 'POST',
			headers: { origin: server.url }
		});
		expect(anonymous.status).toBe(401);
	});
});

/** The status line Janus's WebSocket door answers an upgrade with (101 = the softphone is through). */
function upgradeStatus(headers: Record<string, string>): Promise<number> {
	return new Promise((resolve, reject) => {
		const req = request(`${server.url}/janus`, {
			agent: false,
			headers: {
				connection: 'Upgrade',
				upgrade: 'websocket',
				'sec-websocket-version': '13',
				'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
				'sec-websocket-protocol': 'janus-protocol',
				...headers
			}
		});
		req.on('upgrade', (res, socket) => {
			socket.destroy();
			resolve(res.statusCode ?? 0);
		});
		req.on('response', (res) => {
			res.resume();
			resolve(res.statusCode ?? 0);
		});
		req.on('error', reject);
		req.end();
	});
}

describe('F30 the softphone reaches Janus only through the app', () => {
	it('lets signed-in agents through, and nobody else, nor another site’s page', async () => {
		const agent = await server.createUser({
			username: 'wsagent',
			roleKey: 'agent',
			agentId: '1009'
		});
		const crew = await server.createUser({ username: 'wscrew', roleKey: 'crew' });
		expect(await upgradeStatus({})).toBe(401);
		expect(await upgradeStatus({ cookie: crew })).toBe(403);
		expect(await upgradeStatus({ cookie: agent, origin: 'http://evil.example' })).toBe(403);
		expect(await upgradeStatus({ cookie: agent, origin: server.url })).toBe(101);
	});

	it('relays only what an agent may ask: the SIP plugin, its own identity at Kamailio, no recordings', async () => {
		const agent = await server.createUser({
			username: 'wsagent2',
			roleKey: 'agent',
			agentId: '1010'
		});
		const ws = new WebSocket(`${server.url.replace('http', 'ws')}/janus`, 'janus-protocol', {
			headers: { cookie: agent, origin: server.url }
		});
		const replies = new Map<string, Record<string, unknown>>();
		ws.on('message', (d: RawData) => {
			const msg = JSON.parse(String(d)) as Record<string, unknown>;
			if (typeof msg.transaction === 'string' && msg.janus !== 'ack') {
				replies.set(msg.transaction, msg);
			}
		});
		await new Promise((r) => ws.once('open', r));
		let n = 0;
		const ask = async (msg: Record<string, unknown>) => {
			const transaction = `t${n++}`;
			ws.send(JSON.stringify({ ...msg, transaction }));
			await until(
				() => Promise.resolve(replies.has(transaction)),
				`reply to ${transaction}`,
				5_000
			);
			return replies.get(transaction)!;
		};
		const session = ((await ask({ janus: 'create' })).data as { id: number }).id;
		expect(
			(
				(await ask({ janus: 'attach', session_id: session, plugin: 'janus.plugin.videoroom' }))
					.error as { code: number }
			).code
		).toBe(403);
		const attached = await ask({
			janus: 'attach',
			session_id: session,
			plugin: 'janus.plugin.sip'
		});
		const handle = (attached.data as { id: number }).id;
		const message = (body: object) =>
			ask({ janus: 'message', session_id: session, handle_id: handle, body });
		const proxy = `sip:127.0.0.1:${SIP_PORT}`;
		// Someone else's identity, or another registrar: refused before Janus sees it.
		for (const body of [
			{ request: 'register', username: `sip:1001@${DOMAIN}`, secret: 'x', proxy },
			{
				request: 'register',
				username: `sip:1010@${DOMAIN}`,
				secret: 'x',
				proxy: 'sip:203.0.113.9'
			},
			{ request: 'recording', action: 'start', audio: true, filename: '/etc/evil' }
		]) {
			expect(((await message(body)).error as { code: number }).code).toBe(403);
		}
		// Its own identity at Kamailio goes through (Janus acknowledges and registers).
		const own = await message({
			request: 'register',
			username: `sip:1010@${DOMAIN}`,
			secret: 'wrong',
			proxy
		});
		expect(own.janus).toBe('event');
		ws.close();
	});
});

describe('#5 Kamailio refuses what is not an agent or a trunk', () => {
	it('registers an agent with the issued password, and refuses a wrong one or another agent’s number', async () => {
		const agent = await server.createUser({
			username: 'sipreg',
			roleKey: 'agent',
			agentId: '1002'
		});
		const { body } = await credentials(agent);
		// Registered from Janus's SIP address, as the browser's phone is.
		const ok = await runSipp(registerScenario(DOMAIN, 200), target, {
			service: '1002',
			localIp: JANUS_IP,
			args: ['-au', '1002', '-ap', body.password]
		});
		expect(ok.code, ok.output).toBe(0);
		const wrong = await runSipp(registerScenario(DOMAIN, 401), target, {
			service: '1002',
			localIp: JANUS_IP,
			args: ['-au', '1002', '-ap', 'not-the-password']
		});
		expect(wrong.code, wrong.output).toBe(0);
		const other = await runSipp(registerScenario(DOMAIN, 403), target, {
			service: '1001',
			localIp: JANUS_IP,
			args: ['-au', '1002', '-ap', body.password]
		});
		expect(other.code, other.output).toBe(0);
	});

	it('forgets the SIP identity when the agent signs out', async () => {
		const agent = await server.createUser({
			username: 'sipout',
			roleKey: 'agent',
			agentId: '1003'
		});
		const { body } = await credentials(agent);
		await fetch(`${server.url}/api/session`, { method: 'DELETE', headers: { cookie: agent } });
		const after = await runSipp(registerScenario(DOMAIN, 401), target, {
			service: '1003',
			localIp: JANUS_IP,
			args: ['-au', '1003', '-ap', body.password]
		});
		expect(after.code, after.output).toBe(0);
	});

	it('takes hotline calls from the trunk only, and no call to other numbers from it', async () => {
		// From the trunk to the hotline: accepted for distribution (nobody is ready: 480 after the maximum wait).
		const hotline = await runSipp(inviteScenario(DOMAIN, 480), target, { service: '96000' });
		expect(hotline.code, hotline.output).toBe(0);
		// From the trunk to any other number: not found, so the trunk cannot be used to call out.
		const relay = await runSipp(inviteScenario(DOMAIN, 404), target, {
			service: '008613800138000'
		});
		expect(relay.code, relay.output).toBe(0);
		// From an address that is neither a trunk nor the gateway: refused outright.
		const stranger = await runSipp(inviteScenario(DOMAIN, 403), target, {
			service: '96000',
			localIp: STRANGER_IP
		});
		expect(stranger.code, stranger.output).toBe(0);
		// From the gateway: only a signed-in agent, who must authenticate first.
		const gateway = await runSipp(inviteScenario(DOMAIN, 407), target, {
			service: '96000',
			localIp: JANUS_IP
		});
		expect(gateway.code, gateway.output).toBe(0);
	});
});

const events = (cookie: string) => tel.events(cookie);
const setState = (cookie: string, state: string, reason = '', deskPhone = '') =>
	tel.setState(cookie, state, reason, deskPhone);
const board = (cookie: string) => tel.board(cookie);
const calls = (cookie: string) => tel.calls(cookie);

/**
 * An agent's phone in place of the browser: a sipp answering in server mode on Janus's address (where the
 * agent's identity may register), registered there with the agent's credentials.
 */
async function agentPhone(cookie: string, agentId: string) {
	const { body } = await credentials(cookie);
	const port = samplePort();
	const done = runSipp(answerScenario(), target, {
		service: agentId,
		port,
		localIp: JANUS_IP,
		timeoutS: 20
	});
	await udpBound(JANUS_IP, port);
	const reg = await runSipp(registerContactScenario(DOMAIN, port), target, {
		service: agentId,
		localIp: JANUS_IP,
		args: ['-au', agentId, '-ap', body.password]
	});
	expect(reg.code, reg.output).toBe(0);
	// Wrapped: an async function returning a promise would wait for the phone's whole scenario.
	return { done };
}

describe('F15 F16 F31 automatic distribution with the screen pop', () => {
	it('F16 a hotline call pops up on the ready agent’s page, rings the agent’s phone and is answered', async () => {
		const leader = await server.createUser({ username: 'acdleader', roleKey: 'leader' });
		const agent = await server.createUser({
			username: 'acdagent',
			roleKey: 'agent',
			agentId: '2001'
		});
		await server.runtime.store.db('customers').insert({
			_id: 'digital:POP1',
			type: 'customer',
			source: 'digital',
			account: 'POP1',
			name: '来电用户',
			phones: ['057188886666'],
			address: '杭州市西湖区',
			area: '',
			smartCard: '',
			stbSerial: '',
			products: [],
			status: '正常',
			importedAt: new Date().toISOString()
		} as never);
		await server.runtime.deps.customers.indexer.caughtUp();
		// An earlier ticket of this caller (F17): it comes with the screen pop.
		await server.runtime.store.db('tickets').insert(
			buildTicket(
				'ticket:pop-history',
				[
					{
						id: 'pop-e0',
						type: 'created',
						at: new Date(Date.now() - 86_400_000).toISOString(),
						by: 'user:admin',
						number: '20261125-001-0042',
						callerNumber: '0571-88886666',
						customerIds: [],
						departmentId: 'department:center',
						serviceTypeId: 'serviceType:repair',
						contentCategoryId: null,
						content: '机顶盒无信号',
						callbackRequired: false
					}
				],
				'department:center'
			) as never
		);
		const before = (await board(leader)).today;
		const page = await events(agent);
		const phone = await agentPhone(agent, '2001');
		expect((await setState(agent, 'ready')).body.state).toBe('ready');

		const [caller, answered] = await Promise.all([
			runSipp(callerAnsweredScenario(DOMAIN), target, { service: '96000' }),
			phone.done
		]);
		expect(answered.code, answered.output).toBe(0);
		expect(caller.code, caller.output).toBe(0);
		const offer = await page.next('offer');
		expect(offer.data).toMatchObject({ caller: '+8657188886666', hotline: '96000' });
		// #14 every event the page received is of the shape the browser reads it with.
		expect(page.misread).toEqual([]);
		expect((offer.data.customers as { account: string }[]).map((c) => c.account)).toEqual(['POP1']);
		expect((offer.data.history as { number: string }[]).map((t) => t.number)).toEqual([
			'20261125-001-0042'
		]);

		const b = await board(leader);
		expect(b.today).toMatchObject({
			offered: before.offered + 1,
			answered: before.answered + 1,
			abandoned: before.abandoned
		});
		const record = (
			(await (
				await fetch(`${server.url}/api/telephony/calls`, { headers: { cookie: leader } })
			).json()) as {
				calls: { outcome: string; agentId: string }[];
			}
		).calls.find((c) => c.agentId === '2001');
		expect(record).toMatchObject({ outcome: 'completed', agentId: '2001' });
		// Call records are stored (they feed statistics and outlive a restart).
		await until(async () => {
			const stored = await server.runtime.store
				.db<{ agentId: string; outcome: string }>('calls')
				.allDocs({ include_docs: true });
			return stored.rows.some((r) => r.doc?.agentId === '2001' && r.doc.outcome === 'completed');
		}, 'the call record stored');
		// F25 the stored records feed the period's call statistics.
		const day = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
		const stats = v.parse(
			CallStats,
			await (
				await fetch(`${server.url}/api/telephony/stats?from=${day}&to=${day}`, {
					headers: { cookie: leader }
				})
			).json()
		);
		expect(stats.answered).toBeGreaterThanOrEqual(1);
		expect(stats.agents.find((a) => a.agentId === '2001')?.answered).toBe(1);
		expect(
			(
				await fetch(`${server.url}/api/telephony/stats?from=${day}&to=${day}`, {
					headers: { cookie: agent }
				})
			).status
		).toBe(403);
		// Wrap-up, then ready again by itself.
		expect((await board(leader)).agents.find((a) => a.agentId === '2001')?.state).toBe('wrapUp');
		await until(
			async () => (await board(leader)).agents.find((a) => a.agentId === '2001')?.state === 'ready',
			'ready again after wrap-up'
		);
		await setState(agent, 'notReady', 'break');
		page.close();
	});

	it('F15 with nobody ready the caller waits hearing ringing, and hanging up is recorded as abandoned', async () => {
		const leader = await server.createUser({ username: 'acdleader2', roleKey: 'leader' });
		const caller = await runSipp(callerCancelScenario(DOMAIN, 500), target, { service: '96000' });
		expect(caller.code, caller.output).toBe(0);
		const b = await board(leader);
		expect(b.queue).toEqual([]);
		expect(b.today.abandoned).toBeGreaterThanOrEqual(1);
	});

	it('F31 only agents change their own state; the wallboard is for team leaders', async () => {
		const agent = await server.createUser({
			username: 'acdagent3',
			roleKey: 'agent',
			agentId: '2003'
		});
		const res = await setState(agent, 'notReady', 'meal');
		expect(res.body).toMatchObject({ state: 'notReady', reason: 'meal' });
		expect(
			(await fetch(`${server.url}/api/telephony/board`, { headers: { cookie: agent } })).status
		).toBe(403);
		expect((await setState(agent, 'dancing')).status).toBe(400);
	});

	it('#15 F31 an agent’s pages hear of their own state when it changes and when they connect, not of colleagues’', async () => {
		const { events, setState } = tel;
		const one = await server.createUser({
			username: 'acdagent4',
			roleKey: 'agent',
			agentId: '2004'
		});
		const two = await server.createUser({
			username: 'acdagent5',
			roleKey: 'agent',
			agentId: '2005'
		});
		await setState(one, 'notReady', 'training');
		await setState(two, 'notReady', 'break');
		// A page that connects is told at once (before, it waited for some change in the center).
		const first = await events(one);
		expect((await first.next('state')).data).toMatchObject({
			state: 'notReady',
			reason: 'training'
		});
		const other = await events(two);
		await other.next('state');
		const told = () => first.received.filter((e) => e.event === 'state').length;
		const toldBefore = told();
		// A colleague's changes are not news to this agent's page…
		await setState(two, 'ready');
		await setState(two, 'notReady', 'meal');
		await until(
			() => other.received.filter((e) => e.event === 'state').length >= 3,
			'the colleague told twice'
		);
		// …its own is, once.
		await setState(one, 'ready');
		await until(() => told() === toldBefore + 1, 'its own change');
		expect(first.received.filter((e) => e.event === 'state').at(-1)?.data).toMatchObject({
			state: 'ready'
		});
		expect(first.received.filter((e) => e.event === 'state')).toHaveLength(toldBefore + 1);
		first.close();
		other.close();
		await setState(one, 'signedOut');
		await setState(two, 'signedOut');
	});
});

describe('F1 F15 desk phones and what goes wrong', () => {
	it('rings the desk phone under the remembered extension while the screen pop reaches the agent’s page', async () => {
		const agent = await server.createUser({
			username: 'deskagent',
			roleKey: 'agent',
			agentId: '2101'
		});
		const other = await server.createUser({
			username: 'deskother',
			roleKey: 'agent',
			agentId: '2102'
		});
		const page = await events(agent);
		// The administrator issued the desk phone's credentials; it registers its extension with them.
		const admin = await server.signIn('admin', ADMIN_PASSWORD);
		const issued = await tel.issueDeskPhone(admin, '8201', '一号座席');
		expect(issued.status).toBe(201);
		const port = samplePort();
		const deskPhone = runSipp(answerScenario(), target, {
			service: '8201',
			port,
			localIp: '127.0.0.3',
			timeoutS: 20
		});
		await udpBound('127.0.0.3', port);
		const reg = await runSipp(registerContactScenario(DOMAIN, port), target, {
			service: '8201',
			localIp: '127.0.0.3',
			args: ['-au', '8201', '-ap', issued.body.password]
		});
		expect(reg.code, reg.output).toBe(0);
		// The same phone cannot ring for two agents, nor may an agent name another agent's number.
		expect((await setState(agent, 'ready', '', '8201')).body.state).toBe('ready');
		expect((await setState(other, 'ready', '', '8201')).status).toBe(409);
		// Another agent's number is no desk phone; nor is a number nobody issued.
		for (const extension of ['2101', '8299']) {
			const refused = await setState(other, 'ready', '', extension);
			expect(refused.status).toBe(400);
			expect(refused.body).toMatchObject({ issues: { deskPhone: 'desk_phone_unknown' } });
		}

		const [caller, answered] = await Promise.all([
			runSipp(callerAnsweredScenario(DOMAIN), target, { service: '96000' }),
			deskPhone
		]);
		expect(answered.code, answered.output).toBe(0);
		expect(caller.code, caller.output).toBe(0);
		expect((await page.next('offer')).data).toMatchObject({ caller: '+8657188886666' });
		await setState(agent, 'notReady', 'break');
		page.close();
	});

	it('signs out an agent whose pages are all gone, so calls are not offered to nobody', async () => {
		const leader = await server.createUser({ username: 'goneleader', roleKey: 'leader' });
		const agent = await server.createUser({
			username: 'goneagent',
			roleKey: 'agent',
			agentId: '2103'
		});
		// A second agent closes the browser just after and does not come back: once that one is signed
		// out, the grace period is over for both.
		const witness = await server.createUser({
			username: 'gonewitness',
			roleKey: 'agent',
			agentId: '2106'
		});
		const page = await events(agent);
		const witnessPage = await events(witness);
		expect((await setState(agent, 'ready')).body.state).toBe('ready');
		expect((await setState(witness, 'ready')).body.state).toBe('ready');
		const state = async (agentId = '2103') =>
			(await board(leader)).agents.find((a) => a.agentId === agentId);
		// A reload within the grace period keeps the agent ready.
		page.close();
		const { hub } = server.runtime.deps;
		await until(() => !hub.connected('user:goneagent'), 'the page gone');
		witnessPage.close();
		const again = await events(agent);
		await until(async () => (await state('2106'))?.state === 'signedOut', 'the witness signed out');
		expect((await state())?.state).toBe('ready');
		// The browser closed for good: signed out.
		again.close();
		await until(async () => (await state())?.state === 'signedOut', 'the agent signed out');
		expect((await state())?.reason).toBe('disconnected');
	});

	it('ends a call the agent’s browser reports as over, even when Kamailio never said so', async () => {
		const leader = await server.createUser({ username: 'hupleader', roleKey: 'leader' });
		const agent = await server.createUser({
			username: 'hupagent',
			roleKey: 'agent',
			agentId: '2104'
		});
		const page = await events(agent);
		const acd = server.runtime.deps.phone()!.acd!;
		await setState(agent, 'ready');
		// A call answered by this agent whose BYE was lost (e.g. during a Kamailio restart).
		acd.arrived({
			callid: 'lost-bye-1',
			ftag: 'caller-tag',
			from: '13900000000',
			to: '96000',
			tindex: 1,
			tlabel: 1
		});
		acd.answered({ callid: 'lost-bye-1', ftag: 'caller-tag', ttag: 'agent-tag' });
		expect(acd.agent('2104')?.state).toBe('talking');
		const ended = await fetch(`${server.url}/api/telephony/call-ended`, {
			method: 'POST',
			headers: { cookie: agent, origin: server.url, 'content-type': 'application/json' },
			body: JSON.stringify({ callId: 'lost-bye-1' })
		});
		expect(ended.status).toBe(200);
		expect(acd.agent('2104')?.state).toBe('wrapUp');
		expect((await calls(leader)).find((c) => c.callId === 'lost-bye-1')?.outcome).toBe('completed');
		await setState(agent, 'notReady', 'break');
		page.close();
	});

	it('starts Kamailio again when it dies; waiting calls are recorded as lost, agents are not stuck', async () => {
		const leader = await server.createUser({ username: 'killleader', roleKey: 'leader' });
		const running = server.runtime.deps.phone()!;
		const pid = server.runtime.telephonyProcesses()!.pid('kamailio')!;
		// A caller waits in the queue (nobody is ready)…
		const caller = runSipp(inviteScenario(DOMAIN, 480), target, { service: '96000', timeoutS: 4 });
		await until(() => Promise.resolve(running.acd!.queue().length === 1), 'the call queued');
		const callId = running.acd!.queue()[0]!.callId;
		// …when Kamailio is killed.
		process.kill(pid, 'SIGKILL');
		await until(
			async () => (await calls(leader)).find((c) => c.callId === callId)?.outcome === 'lost',
			'the call recorded as lost'
		);
		expect(running.acd!.queue()).toEqual([]);
		await caller;
		// Back by itself, and taking registrations again.
		await until(
			async () => (await sipOptions('127.0.0.1', SIP_PORT)) === 200,
			'Kamailio answering again'
		);
		const agent = await server.createUser({
			username: 'killagent',
			roleKey: 'agent',
			agentId: '2105'
		});
		const { body } = await credentials(agent);
		const reg = await runSipp(registerScenario(DOMAIN, 200), target, {
			service: '2105',
			localIp: JANUS_IP,
			args: ['-au', '2105', '-ap', body.password]
		});
		expect(reg.code, reg.output).toBe(0);
	}, 30_000);
});
