/**
 * #13 Kamailio against a hostile SIP peer, with the real Kamailio and Janus as children of the app: each
 * test sends what an attacker would (raw UDP from node:dgram, or sipp) and proves it is refused with the
 * state unchanged — no open relay, no forged call events, no call ended by a stranger, no identity bound
 * to a foreign contact, no carrier impersonated from another port — and that what is legitimate still works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server';
import { telephonyClient, until } from '../helpers/telephony';
import { sipOptions } from '../../server/telephony/supervisor';
import {
	answerScenario,
	callerAnsweredScenario,
	callerCancelScenario,
	callerHangsUpWhenToldScenario,
	tellToHangUp,
	inviteScenario,
	newBranch,
	registerContactScenario,
	registerOpenScenario,
	runSipp,
	samplePort,
	sendSip,
	sipMessage,
	STRANGER_IP,
	udpBound,
	udpListener
} from '../helpers/sipp';

const SIP_PORT = 31_700 + Math.floor(Math.random() * 100) * 6;
/** The second carrier's fixed source port (SIP_TRUNKS entry `127.0.0.6:<port>`). */
const TRUNK_PORT = SIP_PORT + 5;
const TRUNK2_IP = '127.0.0.6';
const DESK_NET = '127.0.0.3';
/** Where a stranger would like Kamailio to send things. */
const FOREIGN_IP = '127.0.0.5';
const DOMAIN = 'callcenter.local';
const kamailio = { host: '127.0.0.1', port: SIP_PORT };
const target = `127.0.0.1:${SIP_PORT}`;

let server: TestServer;
/**
 * Janus's SIP address (JANUS_SIP_IP, by default this machine's LAN address): a sipp playing an agent's
 * phone registers from there, as Janus does for the browser.
 */
let JANUS_IP = '';
let tel: ReturnType<typeof telephonyClient>;
let admin: string;
let leader: string;

beforeAll(async () => {
	if (!['/usr/sbin/kamailio', '/usr/bin/janus', '/usr/bin/sipp'].every(existsSync)) {
		throw new Error(
			'kamailio, janus and sipp are needed (apt-get install kamailio janus sip-tester)'
		);
	}
	server = await startTestServer({
		TELEPHONY: 'on',
		SIP_PORT: String(SIP_PORT),
		SIP_TRUNKS: `127.0.0.1, ${TRUNK2_IP}:${TRUNK_PORT}`,
		HOTLINES: '96000',
		JANUS_HTTP_PORT: String(SIP_PORT + 1),
		JANUS_WS_PORT: String(SIP_PORT + 2),
		JANUS_ADMIN_PORT: String(SIP_PORT + 3),
		EVAPI_PORT: String(SIP_PORT + 4),
		ACD_OFFER_SECONDS: '2',
		ACD_MAX_WAIT_SECONDS: '4',
		ACD_WRAPUP_SECONDS: '1',
		AGENT_GONE_SECONDS: '60',
		DESK_PHONES: DESK_NET
	});
	tel = telephonyClient(server);
	JANUS_IP = server.runtime.deps.settings.sip.janusIp;
	admin = await server.signIn('admin', ADMIN_PASSWORD);
	leader = await server.createUser({ username: 'secleader', roleKey: 'leader' });
}, 30_000);
afterAll(async () => {
	await server?.close();
});

const acd = () => server.runtime.deps.phone()!.acd!;

/** A snapshot of every agent's state and every call record: what an attack must leave unchanged. */
const snapshot = () =>
	JSON.stringify({
		agents: acd()
			.agents()
			.map((a) => [a.agentId, a.state, a.reason, a.since, a.callId]),
		records: acd()
			.records()
			.map((r) => [r.callId, r.outcome, r.agentId, r.answeredAt, r.endedAt])
	});

/** An agent's phone answering one call, registered from Janus's address with the agent's credentials. */
async function agentPhone(cookie: string, agentId: string) {
	const { body } = await tel.credentials(cookie);
	const port = samplePort();
	const done = runSipp(answerScenario(), target, {
		service: agentId,
		port,
		localIp: JANUS_IP,
		timeoutS: 30
	});
	await udpBound(JANUS_IP, port);
	const reg = await runSipp(registerContactScenario(DOMAIN, port), target, {
		service: agentId,
		localIp: JANUS_IP,
		args: ['-au', agentId, '-ap', body.password]
	});
	expect(reg.code, reg.output).toBe(0);
	return { done, port };
}

/** A request from `fromIp` within a dialog that does not exist (made-up tags), through `route`. */
const inDialog = (
	method: string,
	requestUri: string,
	{
		callId,
		route,
		fromTag = 'made-up-from',
		toTag = 'made-up-to'
	}: {
		callId: string;
		route?: string;
		fromTag?: string;
		toTag?: string;
	}
) =>
	((l: { ip: string; port: number; branch: string }) =>
		sipMessage(`${method} ${requestUri} SIP/2.0`, [
			`Via: SIP/2.0/UDP ${l.ip}:${l.port};branch=${l.branch};rport`,
			...(route ? [`Route: ${route}`] : []),
			`From: <sip:+8613911112222@carrier.example>;tag=${fromTag}`,
			`To: <sip:96000@${DOMAIN}>;tag=${toTag}`,
			`Call-ID: ${callId}`,
			`CSeq: 7 ${method}`,
			`Contact: <sip:x@${l.ip}:${l.port}>`
		])) satisfies Parameters<typeof sendSip>[1];

/** A CANCEL out of the blue (its own branch) for `callId`. */
const cancel =
	(callId: string) =>
	(l: { ip: string; port: number; branch: string }): string =>
		sipMessage(`CANCEL sip:96000@${DOMAIN} SIP/2.0`, [
			`Via: SIP/2.0/UDP ${l.ip}:${l.port};branch=${l.branch};rport`,
			`From: <sip:+8613900001111@carrier.example>;tag=forged`,
			`To: <sip:96000@${DOMAIN}>`,
			`Call-ID: ${callId}`,
			'CSeq: 1 CANCEL'
		]);

/** Call-IDs that would have written their own event into the old hand-built JSON. */
const CRAFTED_CALL_IDS = [
	'x","event":"offer","tindex":0,"tlabel":0,"callid":"forged-offer","from":"13800000000","to":"96000',
	'x"}{"event":"ended","callid":"whatever","cancelled":true',
	'{"}\\'
];

describe('#13 in-dialog requests are relayed only within dialogs Kamailio knows', () => {
	it('an in-dialog INVITE from a stranger with a foreign Route and a made-up To-tag is not relayed', async () => {
		const foreign = await udpListener(FOREIGN_IP);
		const foreignUri = `sip:9999@${FOREIGN_IP}:${foreign.port}`;
		const before = snapshot();
		try {
			for (const [from, route] of [
				// The open relay of old: a Route to anywhere.
				[STRANGER_IP, `<${`sip:${FOREIGN_IP}:${foreign.port}`};lr>`],
				// Kamailio's own Route with a made-up dialog id: still no dialog.
				[STRANGER_IP, `<sip:127.0.0.1:${SIP_PORT};lr=on;did=123.456>`],
				// Even from the carrier's address, a foreign Route is no dialog of Kamailio's.
				['127.0.0.1', `<sip:${FOREIGN_IP}:${foreign.port};lr>`]
			] as const) {
				const reply = await sendSip(
					kamailio,
					inDialog('INVITE', foreignUri, { callId: `relay-${from}-${Date.now()}`, route }),
					{ fromIp: from }
				);
				expect(reply.final?.status, `${from} via ${route}`).toBe(403);
			}
			expect(foreign.received).toEqual([]);
			expect(snapshot()).toBe(before);

			// What keeps answered calls alive across a Kamailio restart: the carrier's in-dialog request through
			// Kamailio's own Record-Route is relayed (and this listener does see what gets relayed).
			const relayed = sendSip(
				kamailio,
				inDialog('INVITE', foreignUri, {
					callId: `carrier-${Date.now()}`,
					route: `<sip:127.0.0.1:${SIP_PORT};lr=on>`
				}),
				{ fromIp: '127.0.0.1' }
			);
			await until(() => foreign.received.length > 0, 'the relayed INVITE');
			expect(foreign.received[0]).toMatch(/^INVITE sip:9999@127\.0\.0\.5/);
			foreign.reply(foreign.received[0]!, '486 Busy Here');
			expect((await relayed).final?.status).toBe(486);
		} finally {
			foreign.close();
		}
	});
});

describe('#13 only a call’s own parties end it', () => {
	it('a CANCEL or BYE with a crafted Call-ID, or the Call-ID of a real call, from a stranger ends nothing and changes no agent', async () => {
		const agent = await server.createUser({
			username: 'secagent1',
			roleKey: 'agent',
			agentId: '4001'
		});
		const page = await tel.events(agent);
		const phone = await agentPhone(agent, '4001');
		expect((await tel.setState(agent, 'ready')).body.state).toBe('ready');
		// A real call, answered by the agent; its caller hangs up only when the test says so.
		const callerPort = samplePort();
		const answeredCaller = runSipp(callerHangsUpWhenToldScenario(DOMAIN), target, {
			service: '96000',
			port: callerPort,
			timeoutS: 60
		});
		await until(() => acd().agent('4001')?.state === 'talking', 'the call answered');
		const answeredId = acd().agent('4001')!.callId!;
		// A second real call, waiting in the queue (the only agent is busy).
		const queuedCaller = runSipp(inviteScenario(DOMAIN, 480), target, {
			service: '96000',
			timeoutS: 30
		});
		await until(() => acd().queue().length === 1, 'the second call queued');
		const queuedId = acd().queue()[0]!.callId;
		const before = snapshot();

		// CANCELs out of the blue: the queued call's Call-ID from a stranger and from the carrier's own
		// address, and Call-IDs crafted to forge events. None matches the INVITE's transaction.
		for (const [from, callId] of [
			[STRANGER_IP, queuedId],
			['127.0.0.1', queuedId],
			[STRANGER_IP, answeredId],
			...CRAFTED_CALL_IDS.map((id) => [STRANGER_IP, id] as const)
		] as const) {
			const reply = await sendSip(kamailio, cancel(callId), { fromIp: from });
			expect(reply.final?.status, `CANCEL ${callId} from ${from}`).toBe(481);
		}
		// BYEs in dialogs that do not exist: the answered call's Call-ID with made-up tags, crafted Call-IDs.
		for (const callId of [answeredId, queuedId, ...CRAFTED_CALL_IDS]) {
			const reply = await sendSip(
				kamailio,
				inDialog('BYE', `sip:4001@${JANUS_IP}:${phone.port}`, {
					callId,
					route: `<sip:127.0.0.1:${SIP_PORT};lr=on;did=abc.def>`
				}),
				{ fromIp: STRANGER_IP }
			);
			expect(reply.final?.status, `BYE ${callId}`).toBe(403);
		}
		expect(snapshot()).toBe(before);
		expect(
			acd()
				.queue()
				.map((q) => q.callId)
		).toEqual([queuedId]);
		expect(acd().agent('4001')).toMatchObject({ state: 'talking', callId: answeredId });

		// The real caller hangs up: that ends the answered call, now and not before.
		const hangUpAt = Date.now();
		await tellToHangUp(callerPort, answeredId);
		expect((await answeredCaller).code).toBe(0);
		expect((await phone.done).code).toBe(0);
		await until(
			async () =>
				(await tel.calls(leader)).some((c) => c.callId === answeredId && c.endedAt !== null),
			'the answered call ended'
		);
		const ended = (await tel.calls(leader)).find((c) => c.callId === answeredId)!;
		expect(ended).toMatchObject({ outcome: 'completed', agentId: '4001' });
		expect(ended.endedAt!).toBeGreaterThanOrEqual(hangUpAt);
		// The agent goes through wrap-up; make the agent not ready so the queued call stays unoffered.
		await tel.setState(agent, 'notReady', 'break');
		// The queued call was never cancelled: it waited out the maximum wait and got the fallback answer.
		const queued = await queuedCaller;
		expect(queued.code, queued.output).toBe(0);
		expect((await tel.calls(leader)).find((c) => c.callId === queuedId)?.outcome).toBe('timeout');
		// The agent was offered the one real call only; no forged offer reached the page.
		expect(page.received.filter((e) => e.event === 'offer').map((e) => e.data.callId)).toEqual([
			answeredId
		]);
		page.close();
	}, 60_000);

	it('a Call-ID with quotes, braces and backslashes reaches the app as one call, exactly as sent', async () => {
		const callId = `q"u{o}t\\e:[${Date.now()}]`;
		const branch = newBranch();
		const caller = await udpListener('127.0.0.1');
		const headers = [
			`Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=${branch};rport`,
			`From: <sip:+8613700001111@carrier.example>;tag=crafted`,
			`To: <sip:96000@${DOMAIN}>`,
			`Call-ID: ${callId}`
		];
		try {
			// The carrier (nobody is ready) calls with this Call-ID, then cancels its own call.
			await caller.send(
				kamailio,
				sipMessage(`INVITE sip:96000@${DOMAIN} SIP/2.0`, [
					...headers,
					'CSeq: 1 INVITE',
					`Contact: <sip:carrier@127.0.0.1:${caller.port}>`
				])
			);
			await until(() => acd().queue().length > 0, 'the call queued');
			expect(
				acd()
					.queue()
					.map((q) => q.callId)
			).toEqual([callId]);
			expect(acd().queue()[0]).toMatchObject({ caller: '+8613700001111', hotline: '96000' });
			await caller.send(
				kamailio,
				sipMessage(`CANCEL sip:96000@${DOMAIN} SIP/2.0`, [...headers, 'CSeq: 1 CANCEL'])
			);
			let final = '';
			await until(
				() => !!(final = caller.received.find((m) => m.startsWith('SIP/2.0 487')) ?? ''),
				'the 487'
			);
			const [via, from, to, callIdHeader] = headers as [string, string, string, string];
			const toTag = /^To:.*;tag=([^;\r\n]+)/m.exec(final)?.[1];
			await caller.send(
				kamailio,
				sipMessage(`ACK sip:96000@${DOMAIN} SIP/2.0`, [
					via,
					from,
					`${to};tag=${toTag}`,
					callIdHeader,
					'CSeq: 1 ACK'
				])
			);
			await until(
				async () =>
					(await tel.calls(leader)).find((c) => c.callId === callId)?.outcome === 'abandoned',
				'the call recorded as abandoned'
			);
			expect(acd().queue()).toEqual([]);
		} finally {
			caller.close();
		}
	});

	it('an answered call survives a Kamailio restart and still ends with its BYE', async () => {
		const agent = await server.createUser({
			username: 'secagent2',
			roleKey: 'agent',
			agentId: '4002'
		});
		const phone = await agentPhone(agent, '4002');
		expect((await tel.setState(agent, 'ready')).body.state).toBe('ready');
		const callerPort = samplePort();
		const caller = runSipp(callerHangsUpWhenToldScenario(DOMAIN), target, {
			service: '96000',
			port: callerPort,
			timeoutS: 60
		});
		await until(() => acd().agent('4002')?.state === 'talking', 'the call answered');
		const callId = acd().agent('4002')!.callId!;
		// Kamailio dies and comes back knowing no dialogs.
		const handling = server.runtime.callHandling()!;
		process.kill(server.runtime.telephonyProcesses()!.pid('kamailio')!, 'SIGKILL');
		await until(() => !handling.linked(), 'the link to Kamailio lost');
		await until(
			async () => (await sipOptions('127.0.0.1', SIP_PORT)) === 200,
			'Kamailio back',
			15_000
		);
		await until(() => handling.linked(), 'the link to Kamailio back');
		expect(acd().agent('4002')).toMatchObject({ state: 'talking', callId });
		// The carrier's BYE through Kamailio's Record-Route still reaches the agent's phone, and ends the call.
		await tellToHangUp(callerPort, callId);
		expect((await caller).code).toBe(0);
		expect((await phone.done).code).toBe(0);
		await until(
			async () =>
				(await tel.calls(leader)).find((c) => c.callId === callId)?.outcome === 'completed',
			'the call completed'
		);
		await until(() => acd().agent('4002')?.state !== 'talking', 'the agent free again');
		await tel.setState(agent, 'notReady', 'break');
	}, 60_000);
});

describe('#13 only the trunks and the gateway send INVITEs', () => {
	it('an INVITE from an address that is neither a trunk nor a registered agent is refused: no offer, nothing relayed', async () => {
		const agent = await server.createUser({
			username: 'secagent3',
			roleKey: 'agent',
			agentId: '4003'
		});
		const page = await tel.events(agent);
		const phone = await agentPhone(agent, '4003');
		expect((await tel.setState(agent, 'ready')).body.state).toBe('ready');
		const before = snapshot();
		for (const number of ['96000', '4003', '008613800138000']) {
			const reply = await sendSip(
				kamailio,
				(l) =>
					sipMessage(`INVITE sip:${number}@${DOMAIN} SIP/2.0`, [
						`Via: SIP/2.0/UDP ${l.ip}:${l.port};branch=${l.branch};rport`,
						`From: <sip:+8613600001111@carrier.example>;tag=stranger`,
						`To: <sip:${number}@${DOMAIN}>`,
						`Call-ID: stranger-${number}-${Date.now()}`,
						'CSeq: 1 INVITE',
						`Contact: <sip:x@${l.ip}:${l.port}>`
					]),
				{ fromIp: STRANGER_IP }
			);
			expect(reply.final?.status, number).toBe(403);
			expect(reply.replies.map((r) => r.status)).toEqual([403]);
		}
		expect(snapshot()).toBe(before);
		// The carrier's call after them is the first and only one to reach the agent's phone and page.
		const caller = await runSipp(callerAnsweredScenario(DOMAIN), target, { service: '96000' });
		expect(caller.code, caller.output).toBe(0);
		expect((await phone.done).code).toBe(0);
		const offers = page.received.filter((e) => e.event === 'offer');
		expect(offers.map((e) => e.data.caller)).toEqual(['+8657188886666']);
		await tel.setState(agent, 'notReady', 'break');
		page.close();
	});

	it('an INVITE from a trunk’s address on another port than the configured one is refused', async () => {
		const before = snapshot();
		const known = new Set(
			acd()
				.records()
				.map((r) => r.callId)
		);
		const reply = await sendSip(
			kamailio,
			(l) =>
				sipMessage(`INVITE sip:96000@${DOMAIN} SIP/2.0`, [
					`Via: SIP/2.0/UDP ${l.ip}:${l.port};branch=${l.branch};rport`,
					`From: <sip:+8613500001111@carrier.example>;tag=otherport`,
					`To: <sip:96000@${DOMAIN}>`,
					`Call-ID: other-port-${Date.now()}`,
					'CSeq: 1 INVITE',
					`Contact: <sip:x@${l.ip}:${l.port}>`
				]),
			{ fromIp: TRUNK2_IP, fromPort: TRUNK_PORT + 100 }
		);
		expect(reply.final?.status).toBe(403);
		expect(snapshot()).toBe(before);
		// From its configured port the same carrier is taken: the call waits, and hanging up is recorded.
		const caller = await runSipp(callerCancelScenario(DOMAIN, 200), target, {
			service: '96000',
			localIp: TRUNK2_IP,
			port: TRUNK_PORT
		});
		expect(caller.code, caller.output).toBe(0);
		await until(
			async () =>
				(await tel.calls(leader)).some((c) => c.outcome === 'abandoned' && !known.has(c.callId)),
			'the call recorded as abandoned'
		);
	});
});

/** REGISTER as `user` from `localIp` with a Contact on `port` (or `contact`), expecting `finalCode`. */
function register(
	user: string,
	password: string,
	{
		localIp,
		port = samplePort(),
		contact,
		finalCode
	}: { localIp: string; port?: number; contact?: string; finalCode: number }
) {
	return runSipp(registerContactScenario(DOMAIN, port, 60, { finalCode, contact }), target, {
		service: user,
		localIp,
		args: ['-au', user, '-ap', password]
	});
}

describe('#13 F1 REGISTER binds agents to the gateway and desk phones to their own credentials', () => {
	it('refuses an agent’s REGISTER with a foreign Contact, from outside the gateway, or with two contacts', async () => {
		const agent = await server.createUser({
			username: 'secagent4',
			roleKey: 'agent',
			agentId: '4004'
		});
		const { password } = (await tel.credentials(agent)).body;
		const port = samplePort();
		for (const [localIp, contact] of [
			// The agent's own password, but the next call would go to a foreign address.
			[JANUS_IP, `<sip:4004@${FOREIGN_IP}:5060>`],
			// Not from the gateway: from the carrier's address, from a stranger's.
			['127.0.0.1', undefined],
			[STRANGER_IP, undefined],
			// One Contact for the gateway, another for elsewhere: in one header, or in two.
			[JANUS_IP, `<sip:4004@${JANUS_IP}:${port}>, <sip:4004@${FOREIGN_IP}:5060>`],
			[JANUS_IP, `<sip:4004@${JANUS_IP}:${port}>\nContact: <sip:4004@${FOREIGN_IP}:5060>`]
		] as const) {
			const refused = await register('4004', password, {
				localIp,
				port,
				finalCode: 403,
				...(contact ? { contact } : {})
			});
			expect(refused.code, `${localIp} ${contact}: ${refused.output}`).toBe(0);
		}
		expect(await tel.contacts('4004')).toEqual([]);
		// From the gateway, reached at the gateway: registered there.
		const ok = await register('4004', password, { localIp: JANUS_IP, port, finalCode: 200 });
		expect(ok.code, ok.output).toBe(0);
		expect(await tel.contacts('4004')).toEqual([`sip:4004@${JANUS_IP}:${port}`]);
	});

	it('Janus’s SIP plugin registers an agent from its own address, which is not the carrier’s', async () => {
		const agent = await server.createUser({
			username: 'secagent5',
			roleKey: 'agent',
			agentId: '4005'
		});
		const { password } = (await tel.credentials(agent)).body;
		const janus = `http://127.0.0.1:${SIP_PORT + 1}/janus`;
		let n = 0;
		const post = async (path: string, body: object) =>
			(await (
				await fetch(`${janus}${path}`, {
					method: 'POST',
					body: JSON.stringify({ ...body, transaction: `t${n++}` })
				})
			).json()) as { data: { id: number } };
		const session = (await post('', { janus: 'create' })).data.id;
		try {
			const handle = (await post(`/${session}`, { janus: 'attach', plugin: 'janus.plugin.sip' }))
				.data.id;
			await post(`/${session}/${handle}`, {
				janus: 'message',
				body: {
					request: 'register',
					username: `sip:4005@${DOMAIN}`,
					secret: password,
					// As the softphone asks: Janus then sends a Contact with a plain display name.
					proxy: `sip:127.0.0.1:${SIP_PORT}`,
					outbound_proxy: `sip:127.0.0.1:${SIP_PORT}`,
					display_name: 'Agent 4005'
				}
			});
			let result = '';
			await until(async () => {
				const events = (await (await fetch(`${janus}/${session}?maxev=5`)).json()) as {
					plugindata?: { data?: { result?: { event?: string } } };
				}[];
				for (const e of [events].flat()) {
					const event = e.plugindata?.data?.result?.event;
					if (event === 'registered' || event === 'registration_failed') result = event;
				}
				return result !== '';
			}, 'Janus’s registration');
			expect(result).toBe('registered');
			const [contact, ...more] = await tel.contacts('4005');
			expect(more).toEqual([]);
			expect(contact).toMatch(new RegExp(`^sip:4005@${JANUS_IP.replaceAll('.', '\\.')}:\\d+`));
		} finally {
			await post(`/${session}`, { janus: 'destroy' });
		}
	});

	it('F1 desk phones register only with the credentials the administrator issued for each', async () => {
		const agent = await server.createUser({
			username: 'secagent6',
			roleKey: 'agent',
			agentId: '4006'
		});
		const api = (method: string, path: string, cookie: string, body?: object) =>
			fetch(`${server.url}/api/desk-phones${path}`, {
				method,
				headers: { cookie, origin: server.url, 'content-type': 'application/json' },
				...(body ? { body: JSON.stringify(body) } : {})
			});
		// Administrators only (admin.settings).
		expect((await api('GET', '', agent)).status).toBe(403);
		expect((await api('POST', '', agent, { extension: '8401' })).status).toBe(403);
		const issued = await tel.issueDeskPhone(admin, '8401', 'A 区 1 号');
		expect(issued.status).toBe(201);
		const password = issued.body.password;
		expect(password.length).toBeGreaterThanOrEqual(16);
		// The list names the phones and never carries a credential.
		const listed = await (await api('GET', '', admin)).text();
		expect(JSON.parse(listed)).toMatchObject({
			phones: [{ extension: '8401', label: 'A 区 1 号' }]
		});
		expect(listed).not.toContain(password);
		expect(listed).not.toMatch(/ha1|[0-9a-f]{32}/);
		// Not twice, and never under an agent's ID.
		const twice = await tel.issueDeskPhone(admin, '8401');
		expect(twice.status).toBe(409);
		const agentsId = await tel.issueDeskPhone(admin, '4006');
		expect(agentsId.status).toBe(409);
		expect((agentsId.body as unknown as { issues: object }).issues).toEqual({
			extension: 'extension_is_agent'
		});

		const port = samplePort();
		// From the desk phones' network but without credentials: challenged, not registered.
		const open = await runSipp(registerOpenScenario(DOMAIN, port, 401), target, {
			service: '8401',
			localIp: DESK_NET
		});
		expect(open.code, open.output).toBe(0);
		for (const [localIp, secret, contact, finalCode] of [
			[DESK_NET, 'not-the-password', undefined, 401],
			// The right password, but from outside DESK_PHONES, or registering a foreign Contact.
			[STRANGER_IP, password, undefined, 403],
			[DESK_NET, password, `<sip:8401@${FOREIGN_IP}:5060>`, 403]
		] as const) {
			const refused = await register('8401', secret, {
				localIp,
				port,
				finalCode,
				...(contact ? { contact } : {})
			});
			expect(refused.code, refused.output).toBe(0);
		}
		expect(await tel.contacts('8401')).toEqual([]);
		expect(
			(await register('8401', password, { localIp: DESK_NET, port, finalCode: 200 })).code
		).toBe(0);
		expect(await tel.contacts('8401')).toEqual([`sip:8401@${DESK_NET}:${port}`]);

		// A new password: the old one stops working.
		const reset = await api('POST', '/8401/password-reset', admin);
		expect(reset.status).toBe(200);
		const { password: renewed } = (await reset.json()) as { password: string };
		expect(renewed).not.toBe(password);
		expect(
			(await register('8401', password, { localIp: DESK_NET, port, finalCode: 401 })).code
		).toBe(0);
		expect(
			(await register('8401', renewed, { localIp: DESK_NET, port, finalCode: 200 })).code
		).toBe(0);
		// A phone whose number later became an agent's ID no longer registers under it.
		const later = await tel.issueDeskPhone(admin, '4999');
		expect(later.status).toBe(201);
		await server.createUser({ username: 'secagent7', roleKey: 'agent', agentId: '4999' });
		expect(
			(await register('4999', later.body.password, { localIp: DESK_NET, finalCode: 401 })).code
		).toBe(0);
		// Withdrawn: refused from then on.
		expect((await api('DELETE', '/8401', admin)).status).toBe(200);
		expect((await api('DELETE', '/8401', admin)).status).toBe(404);
		expect(
			(await register('8401', renewed, { localIp: DESK_NET, port, finalCode: 401 })).code
		).toBe(0);
		// Every change is in the audit trail, by the administrator.
		const audit = (await (
			await fetch(`${server.url}/api/audit?target=deskphone:8401`, { headers: { cookie: admin } })
		).json()) as { entries: { action: string; actor: string }[] };
		expect(audit.entries.map((e) => e.action).sort()).toEqual([
			'deskPhone.add',
			'deskPhone.delete',
			'deskPhone.passwordReset'
		]);
		expect(new Set(audit.entries.map((e) => e.actor))).toEqual(new Set(['user:admin']));
	});
});
