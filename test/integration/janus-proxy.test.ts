/**
 * #13 F30 the `/janus` proxy in front of the real Janus and Kamailio (children of the app, random ports):
 * the softphone's own sequence of requests — as janus.js sends them — still registers the agent, while the
 * case trick that used to pass (`"janus":"Message"`, a guest registration) is refused and Janus's own
 * Admin API shows it never arrived; closing a user's sockets ends their Janus session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { WebSocket, type RawData } from 'ws';
import { startTestServer, type TestServer } from '../helpers/server';
import { getSecret } from '../../server/secrets';
import { SESSION_ENDED } from '../../server/telephony/janus-proxy';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { newBranch, runSipp, udpListener, inviteScenario, STRANGER_IP } from '../helpers/sipp';

type Msg = Record<string, unknown>;
const SIP_PORT = 29_000 + Math.floor(Math.random() * 300) * 6;
const ADMIN_PORT = SIP_PORT + 3;
const DOMAIN = 'callcenter.local';
let server: TestServer;

const installed = ['/usr/sbin/kamailio', '/usr/bin/janus'].every(existsSync);

beforeAll(async () => {
	if (!installed) {
		throw new Error('kamailio and janus are needed: npm test installs them as root');
	}
	server = await startTestServer({
		TELEPHONY: 'on',
		SIP_PORT: String(SIP_PORT),
		SIP_TRUNKS: '127.0.0.1',
		HOTLINES: '96000',
		JANUS_HTTP_PORT: String(SIP_PORT + 1),
		JANUS_WS_PORT: String(SIP_PORT + 2),
		JANUS_ADMIN_PORT: String(ADMIN_PORT),
		EVAPI_PORT: String(SIP_PORT + 4),
		ACD_OFFER_SECONDS: '3',
		ACD_MAX_WAIT_SECONDS: '3'
	});
}, 30_000);
afterAll(async () => {
	// An upgraded socket left open would hold the HTTP server's close.
	server?.runtime.janus.closeSessions(() => true);
	await server?.close();
});

const until = async (check: () => boolean, what: string, timeoutMs = 10_000) => {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 20));
	}
};

const untilAsync = async (check: () => Promise<boolean>, what: string, timeoutMs = 10_000) => {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 100));
	}
};

/** Janus's Admin API (loopback, the app's generated admin secret): what Janus itself holds. */
async function admin(path: string, request: string): Promise<Msg> {
	const res = await fetch(`http://127.0.0.1:${ADMIN_PORT}/admin${path}`, {
		method: 'POST',
		body: JSON.stringify({
			janus: request,
			transaction: 'admin',
			admin_secret: getSecret(server.dataDir, 'telephony')
		})
	});
	return (await res.json()) as Msg;
}

/** A softphone page: the WebSocket janus.js opens, with its way of naming transactions. */
async function softphone(cookie: string) {
	const ws = new WebSocket(`${server.url.replace('http', 'ws')}/janus`, 'janus-protocol', {
		headers: { cookie, origin: server.url }
	});
	const inbox: Msg[] = [];
	let closedWith: number | null = null;
	ws.on('message', (d: RawData) => inbox.push(JSON.parse(String(d)) as Msg));
	ws.on('close', (code) => (closedWith = code));
	await new Promise((resolve, reject) => {
		ws.once('open', resolve);
		ws.once('error', reject);
	});
	let n = 0;
	const send = (msg: Msg) => {
		const transaction = `abcdefgh${String(n++).padStart(4, '0')}`;
		ws.send(JSON.stringify({ ...msg, transaction }));
		return transaction;
	};
	const answer = async (msg: Msg) => {
		const transaction = send(msg);
		await until(
			() => inbox.some((m) => m.transaction === transaction && m.janus !== 'ack'),
			`answer to ${String(msg.janus)}`
		);
		return inbox.find((m) => m.transaction === transaction && m.janus !== 'ack')!;
	};
	return { ws, inbox, send, answer, closed: () => closedWith };
}

describe('#13 F30 the /janus proxy with the real Janus', () => {
	it('lets janus.js’s real sequence register the agent, refuses the "Message" guest trick before Janus, and closes on sign-out', async () => {
		const cookie = await server.createUser({
			username: 'jpagent',
			roleKey: 'agent',
			agentId: '1201'
		});
		const issued = (await (
			await fetch(`${server.url}/api/telephony/credentials`, {
				method: 'POST',
				headers: { cookie, origin: server.url }
			})
		).json()) as { username: string; password: string; uri: string; proxy: string };
		const page = await softphone(cookie);
		// janus.js: create, then attach with its undefined fields left out by JSON.stringify.
		const session = ((await page.answer({ janus: 'create' })).data as { id: number }).id;
		const handle = (
			(await page.answer({ janus: 'attach', session_id: session, plugin: 'janus.plugin.sip' }))
				.data as { id: number }
		).id;
		const message = (body: Msg) =>
			page.answer({ janus: 'message', session_id: session, handle_id: handle, body });

		// The trick that used to pass: another case, registering as a guest "evil".
		for (const janus of ['Message', 'MESSAGE']) {
			const refused = await page.answer({
				janus,
				session_id: session,
				handle_id: handle,
				body: { request: 'register', type: 'guest', username: `sip:evil@${DOMAIN}` }
			});
			expect(refused).toMatchObject({ janus: 'error', error: { code: 403 } });
		}
		const recording = await message({
			request: 'Recording',
			action: 'start',
			audio: true,
			filename: '/tmp/evil'
		});
		expect(recording).toMatchObject({ janus: 'error', error: { code: 403 } });
		// Janus holds the handle, but it has registered nobody and records nothing.
		const before = (await admin(`/${session}/${handle}`, 'handle_info')).info as {
			plugin: string;
			plugin_specific: Msg;
		};
		expect(before.plugin).toBe('janus.plugin.sip');
		expect(before.plugin_specific.identity ?? null).toBeNull();
		expect(before.plugin_specific.registration_status).toBe('unregistered');

		// The softphone's register (softphone.svelte.ts) and janus.js's keepalive go through.
		const registering = page.send({
			janus: 'message',
			session_id: session,
			handle_id: handle,
			body: {
				request: 'register',
				username: issued.uri,
				secret: issued.password,
				proxy: issued.proxy,
				outbound_proxy: issued.proxy,
				display_name: issued.username
			}
		});
		const keepalive = page.send({ janus: 'keepalive', session_id: session });
		await until(
			() => page.inbox.some((m) => m.transaction === keepalive && m.janus === 'ack'),
			'the keepalive acknowledged'
		);
		await until(
			() =>
				page.inbox.some(
					(m) =>
						(m.plugindata as { data?: { result?: { event?: string } } } | undefined)?.data?.result
							?.event === 'registered'
				),
			'registered'
		);
		expect(page.inbox.some((m) => m.transaction === registering && m.janus === 'ack')).toBe(true);
		const after = (await admin(`/${session}/${handle}`, 'handle_info')).info as {
			plugin_specific: Msg;
		};
		expect(after.plugin_specific).toMatchObject({
			identity: `sip:1201@${DOMAIN}`,
			username: '1201',
			registration_status: 'registered'
		});

		// Signing out closes the socket at once and Janus drops the session with its registration.
		const out = await fetch(`${server.url}/api/session`, {
			method: 'DELETE',
			headers: { cookie, origin: server.url }
		});
		expect(out.status).toBe(200);
		await until(() => page.closed() !== null, 'the socket closed', 3_000);
		expect(page.closed()).toBe(SESSION_ENDED);
		let sessions: number[] = [session];
		await untilAsync(async () => {
			sessions = ((await admin('', 'list_sessions')).sessions as number[] | undefined) ?? [];
			return !sessions.includes(session);
		}, 'Janus dropped the session');
		expect(sessions).not.toContain(session);
	});

	it('disabling an agent closes their softphone and the ACD offers them no more calls', async () => {
		const cookie = await server.createUser({
			username: 'jpdisabled',
			roleKey: 'agent',
			agentId: '1202'
		});
		const adminCookie = await server.signIn('admin', 'integration-admin');
		const page = await softphone(cookie);
		expect(((await page.answer({ janus: 'create' })).data as { id: number }).id).toBeGreaterThan(0);
		const ready = await fetch(`${server.url}/api/telephony/state`, {
			method: 'POST',
			headers: { cookie, origin: server.url, 'content-type': 'application/json' },
			body: JSON.stringify({ state: 'ready' })
		});
		expect(ready.status).toBe(200);
		const acd = server.runtime.deps.phone()!.acd!;
		expect(acd.agent('1202')?.state).toBe('ready');
		const disabled = await fetch(
			`${server.url}/api/users/${encodeURIComponent('user:jpdisabled')}/status`,
			{
				method: 'PUT',
				headers: { cookie: adminCookie, origin: server.url, 'content-type': 'application/json' },
				body: JSON.stringify({ status: 'disabled' })
			}
		);
		expect(disabled.status).toBe(200);
		await until(() => page.closed() !== null, 'the softphone closed', 3_000);
		expect(page.closed()).toBe(SESSION_ENDED);
		await until(() => acd.agent('1202')?.state === 'signedOut', 'the agent signed out', 3_000);
		expect(acd.agent('1202')?.reason).toBe('revoked');
	});

	it('a call sent straight to Janus’s SIP port, past Kamailio, is declined and never rings the softphone', async () => {
		const cookie = await server.createUser({
			username: 'jpbypass',
			roleKey: 'agent',
			agentId: '1203'
		});
		const issued = (await (
			await fetch(`${server.url}/api/telephony/credentials`, {
				method: 'POST',
				headers: { cookie, origin: server.url }
			})
		).json()) as { username: string; password: string; uri: string; proxy: string };
		const page = await softphone(cookie);
		const session = ((await page.answer({ janus: 'create' })).data as { id: number }).id;
		const handle = (
			(await page.answer({ janus: 'attach', session_id: session, plugin: 'janus.plugin.sip' }))
				.data as { id: number }
		).id;
		page.send({
			janus: 'message',
			session_id: session,
			handle_id: handle,
			body: {
				request: 'register',
				username: issued.uri,
				secret: issued.password,
				proxy: issued.proxy,
				display_name: issued.username
			}
		});
		const event = (name: string) =>
			page.inbox.filter(
				(m) =>
					(m.plugindata as { data?: { result?: { event?: string } } } | undefined)?.data?.result
						?.event === name
			);
		await until(() => event('registered').length === 1, 'registered');
		// Where Janus's SIP stack listens for this agent: the contact Kamailio holds.
		const location = execFileSync('kamcmd', [
			'-s',
			`unix:${join(server.dataDir, 'telephony', 'kamailio_ctl')}`,
			'ul.lookup',
			'location',
			`1203@${DOMAIN}`
		]).toString();
		const contact = /sip:1203@([\d.]+):(\d+)/.exec(location);
		expect(contact, location).not.toBeNull();
		const janusSip = { host: contact![1]!, port: Number(contact![2]) };

		// A stranger on the network calls the agent's softphone directly, with a real offer.
		const sdp = [
			'v=0',
			`o=- 1 1 IN IP4 ${STRANGER_IP}`,
			's=-',
			`c=IN IP4 ${STRANGER_IP}`,
			't=0 0',
			'm=audio 40100 RTP/AVP 8',
			'a=rtpmap:8 PCMA/8000',
			''
		].join('\r\n');
		// (A well-behaved one: it acknowledges the refusal, so Janus's SIP stack frees the line at once.)
		const stranger = await udpListener(STRANGER_IP);
		const callId = `direct-${newBranch()}`;
		const branch = newBranch();
		const head = (method: string) => [
			`${method} sip:1203@${janusSip.host}:${janusSip.port} SIP/2.0`,
			`Via: SIP/2.0/UDP ${stranger.ip}:${stranger.port};branch=${branch}`,
			'From: "客服经理" <sip:+8657188887777@carrier.example>;tag=direct1',
			`Call-ID: ${callId}`
		];
		const invite = [
			...head('INVITE'),
			`To: <sip:1203@${DOMAIN}>`,
			'CSeq: 1 INVITE',
			`Contact: <sip:stranger@${stranger.ip}:${stranger.port}>`,
			'X-CC-Gate: guessed',
			'Max-Forwards: 70',
			'Content-Type: application/sdp',
			`Content-Length: ${Buffer.byteLength(sdp)}`,
			'',
			sdp
		].join('\n');
		// Over UDP a caller retransmits its INVITE until it hears back (RFC 3261 timer A: 0.5 s, doubling):
		// one datagram lost or dropped by a busy SIP stack is not a refusal.
		const heard = () => stranger.received.some((m) => /^SIP\/2\.0 \d{3}/.test(m));
		const deadline = Date.now() + 30_000;
		for (let t = 500; !heard() && Date.now() < deadline; t = Math.min(2 * t, 4_000)) {
			await stranger.send(janusSip, invite);
			await until(heard, 'an answer', t).catch(() => {});
		}
		const final = () => stranger.received.find((m) => /^SIP\/2\.0 [2-6]\d\d/.test(m));
		await until(() => final() !== undefined, 'the answer to the direct call', 30_000);
		const toTag = /^To:.*$/im.exec(final()!)![0];
		await stranger.send(
			janusSip,
			[...head('ACK'), toTag, 'CSeq: 1 ACK', 'Max-Forwards: 70', 'Content-Length: 0', '', ''].join(
				'\n'
			)
		);
		stranger.close();
		const direct = { final: { status: Number(/^SIP\/2\.0 (\d{3})/.exec(final()!)![1]) } };
		expect(direct.final?.status).toBe(403);
		expect(event('incomingcall')).toEqual([]);

		// Janus lets go of the declined call: its WebRTC side is freed (the page hears only that much).
		await until(
			() => page.inbox.some((m) => m.janus === 'hangup'),
			'Janus freed what it prepared for the declined call'
		);
		// …and the same softphone still rings for a hotline call Kamailio hands it.
		const ready = await fetch(`${server.url}/api/telephony/state`, {
			method: 'POST',
			headers: { cookie, origin: server.url, 'content-type': 'application/json' },
			body: JSON.stringify({ state: 'ready' })
		});
		expect(ready.status).toBe(200);
		const caller = runSipp(inviteScenario(DOMAIN, 480), `127.0.0.1:${SIP_PORT}`, {
			service: '96000',
			timeoutS: 15
		});
		await until(() => event('incomingcall').length === 1, 'the hotline call ringing the softphone');
		const ringing = event('incomingcall')[0]!;
		const result = (ringing.plugindata as { data: { result: Record<string, unknown> } }).data
			.result;
		// Kamailio's mark is checked by the proxy and never reaches the page.
		expect(JSON.stringify(result)).not.toContain('X-CC-Gate');
		page.send({
			janus: 'message',
			session_id: session,
			handle_id: handle,
			body: { request: 'decline', code: 486 }
		});
		expect((await caller).code).toBe(0);
		page.ws.close();
	});
});
