/**
 * #13 the `/janus` WebSocket proxy under attack. A fake Janus (a WebSocket server on loopback) records every
 * message that reaches it; the proxy runs behind a real HTTP server's upgrade, with a fake sign-in store.
 * Every refused request gets a Janus-shaped 403 and never reaches Janus: after each one a keepalive is
 * sent behind it, and once Janus has that, nothing of the refused request is among what it received.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { UserDoc } from '../services/accounts';
import { createJanusProxy, SESSION_ENDED, type JanusProxyOptions } from './janus-proxy';
import { createRecordings, type RecordingStarted } from './recordings';

type Msg = Record<string, unknown>;
const DOMAIN = 'callcenter.local';
const KAMAILIO = 'sip:127.0.0.1:5060';
const HOTLINE = '96000';
const COOKIE = 'cc_session';

/** Janus as far as the proxy can tell: answers create/attach with ids, everything else with an ack. */
function fakeJanus() {
	const wss = new WebSocketServer({
		host: '127.0.0.1',
		port: 0,
		handleProtocols: () => 'janus-protocol'
	});
	const received: Msg[] = [];
	const bySession = new Map<number, WebSocket>();
	let next = 7_000_000_001;
	wss.on('connection', (ws) => {
		ws.on('message', (d: RawData) => {
			const msg = JSON.parse(String(d)) as Msg;
			received.push(msg);
			const reply = (m: Msg) => ws.send(JSON.stringify({ transaction: msg.transaction, ...m }));
			if (msg.janus === 'create') {
				const id = next++;
				bySession.set(id, ws);
				reply({ janus: 'success', data: { id } });
			} else if (msg.janus === 'attach') {
				reply({ janus: 'success', session_id: msg.session_id, data: { id: next++ } });
			} else {
				reply({ janus: 'ack', session_id: msg.session_id });
			}
		});
	});
	return {
		received,
		listening: new Promise((r) => wss.once('listening', r)),
		port: () => (wss.address() as { port: number }).port,
		/** Janus's end of the connection that created `session`. */
		socketOf: (session: number) => bySession.get(session)!,
		/** A SIP plugin event on a handle, as Janus sends it to the page. */
		event(session: number, handle: number, data: Msg) {
			bySession.get(session)!.send(
				JSON.stringify({
					janus: 'event',
					session_id: session,
					sender: handle,
					plugindata: { plugin: 'janus.plugin.sip', data: { sip: 'event', ...data } }
				})
			);
		},
		close: () => new Promise<void>((r) => wss.close(() => r()))
	};
}

const user = (id: string, agentId: string | null, permissions: string[]): UserDoc =>
	({
		_id: `user:${id}`,
		type: 'user',
		username: id,
		agentId,
		permissions,
		mustChangePassword: false,
		status: 'active'
	}) as UserDoc;

const until = async (check: () => boolean, what: string, timeoutMs = 5_000) => {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 10));
	}
};

let janus: ReturnType<typeof fakeJanus>;
let http: Server;
let url: string;
let proxy: ReturnType<typeof createJanusProxy>;
const signedIn = new Map<string, UserDoc>();
const recorded: RecordingStarted[] = [];
const dir = mkdtempSync(join(tmpdir(), 'janus-proxy-'));
const recordings = createRecordings({ dir, enabled: true, log: () => {} });
/** The ACD gave agent 1001 the hotline call `hot-1`; it knows no other call. */
/** Kamailio's mark of this start on the calls it hands to Janus. */
const GATE = 'gate-token-of-this-start';
const acdCall: JanusProxyOptions['acdCall'] = (agentId, sipCallId) =>
	agentId === '1001' && sipCallId === 'hot-1' ? 'hot-1' : null;

function startProxy(extra: Partial<JanusProxyOptions> = {}) {
	proxy = createJanusProxy({
		sessions: { resolve: (token) => Promise.resolve(signedIn.get(token) ?? null) },
		cookieName: COOKIE,
		port: () => janus.port(),
		sip: () => ({ proxy: KAMAILIO, domain: DOMAIN, hotlines: [HOTLINE] }),
		// Looking an agent up takes a trip to the store: answered on a later turn.
		isAgent: (id) => new Promise((r) => setImmediate(() => r(['1001', '1002'].includes(id)))),
		acdCall,
		gateToken: () => GATE,
		recordingBase: (callId, agentId) =>
			callId ? recordings.base(callId) : recordings.legBase(agentId),
		onRecorded: (r) => recorded.push(r),
		...extra
	});
}

beforeAll(async () => {
	janus = fakeJanus();
	await janus.listening;
	http = createServer((_req, res) => res.writeHead(404).end());
	http.on('upgrade', (req, socket, head) => proxy.upgrade(req, socket, head));
	await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
	url = `ws://127.0.0.1:${(http.address() as { port: number }).port}/janus`;
});
afterAll(async () => {
	http.closeAllConnections();
	await new Promise((r) => http.close(r));
	await janus.close();
	rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
	signedIn.clear();
	signedIn.set('t-agent', user('agent', '1001', ['call.take', 'ticket.create']));
	signedIn.set('t-colleague', user('colleague', '1002', ['call.take', 'call.outbound']));
	signedIn.set('t-crew', user('crew', null, ['workOrder.execute']));
	recorded.length = 0;
	startProxy();
});
const pages: WebSocket[] = [];
afterEach(() => {
	for (const ws of pages.splice(0)) ws.terminate();
});

/** Transactions are unique over the whole file: Janus's record of them is too. */
let transactions = 0;

/** A softphone page of the sign-in `token`, with a Janus session and a SIP handle. */
async function page(token: string) {
	const ws = new WebSocket(url, 'janus-protocol', {
		headers: {
			cookie: `${COOKIE}=${token}`,
			origin: url.replace('ws:', 'http:').replace('/janus', '')
		}
	});
	pages.push(ws);
	const inbox: Msg[] = [];
	let closedWith: number | null = null;
	ws.on('message', (d: RawData) => inbox.push(JSON.parse(String(d)) as Msg));
	ws.on('close', (code) => (closedWith = code));
	await new Promise((resolve, reject) => {
		ws.once('open', resolve);
		ws.once('error', reject);
	});
	/** Sends a request and waits for its answer (an ack, success or error). */
	const ask = async (msg: Msg): Promise<Msg> => {
		const transaction = `t${transactions++}`;
		ws.send(JSON.stringify({ ...msg, transaction }));
		await until(() => inbox.some((m) => m.transaction === transaction), `answer to ${transaction}`);
		return inbox.find((m) => m.transaction === transaction)!;
	};
	const session = ((await ask({ janus: 'create' })).data as { id: number }).id;
	const handle = (
		(await ask({ janus: 'attach', session_id: session, plugin: 'janus.plugin.sip' })).data as {
			id: number;
		}
	).id;
	/** What Janus received with this transaction. */
	const atJanus = (transaction: unknown) =>
		janus.received.filter((m) => m.transaction === transaction);
	return {
		ws,
		inbox,
		session,
		handle,
		ask,
		closed: () => closedWith,
		atJanus,
		/** The request is answered with a 403 and none of it reaches Janus. */
		async refused(msg: Msg) {
			const answer = await ask(msg);
			expect(answer, JSON.stringify(msg)).toMatchObject({
				janus: 'error',
				error: { code: 403 }
			});
			// Everything sent after it reaches Janus in order: once this keepalive is there, the refused
			// request would have been too.
			const marker = await ask({ janus: 'keepalive', session_id: session });
			expect(marker.janus).toBe('ack');
			expect(atJanus(answer.transaction), JSON.stringify(msg)).toEqual([]);
		},
		/** The request reaches Janus; returns what Janus got. */
		async relayed(msg: Msg): Promise<Msg> {
			const answer = await ask(msg);
			expect(answer.janus, JSON.stringify(answer)).toBe('ack');
			const [got] = atJanus(answer.transaction);
			expect(got).toBeDefined();
			return got!;
		}
	};
}
type Page = Awaited<ReturnType<typeof page>>;
const sip = (p: Page, body: Msg, jsep?: Msg) => ({
	janus: 'message',
	session_id: p.session,
	handle_id: p.handle,
	body,
	...(jsep ? { jsep } : {})
});
const OWN = { request: 'register', username: `sip:1001@${DOMAIN}`, secret: 'issued-password' };
const OFFER = { type: 'offer', sdp: 'v=0\r\n' };

describe('#13 the /janus proxy relays only what janus.js and the softphone send', () => {
	it('normalises request names before checking: "Message" or "REGISTER" does not slip past', async () => {
		const p = await page('t-agent');
		for (const janusVerb of ['Message', 'MESSAGE', 'message', 'mEsSaGe']) {
			await p.refused({
				...sip(p, { request: 'Register', username: 'evil', type: 'guest', secret: 'x' }),
				janus: janusVerb
			});
			await p.refused({
				...sip(p, { request: 'RECORDING', action: 'start', audio: true, filename: '/tmp/evil' }),
				janus: janusVerb
			});
			await p.refused({ ...sip(p, { request: 'Recording', action: 'stop' }), janus: janusVerb });
		}
		// The softphone's own register, named in any case, reaches Janus in Janus's own spelling.
		const got = await p.relayed({ ...sip(p, { ...OWN, request: 'REGISTER' }), janus: 'Message' });
		expect(got.janus).toBe('message');
		expect((got.body as Msg).request).toBe('register');
	});

	it('refuses Janus requests janus.js does not send, other plugins, and sessions or handles of others', async () => {
		const p = await page('t-agent');
		const s = p.session;
		for (const msg of [
			{ janus: 'attach', session_id: s, plugin: 'janus.plugin.videoroom' },
			{ janus: 'Attach', session_id: s, plugin: 'janus.plugin.recordplay' },
			{ janus: 'attach', session_id: s, plugin: 'Janus.Plugin.SIP' },
			{ janus: 'claim', session_id: s },
			{ janus: 'info' },
			{ janus: 'list_sessions', session_id: s },
			{ janus: 'ping' },
			{ janus: 'message', session_id: s + 1, handle_id: p.handle, body: { request: 'hangup' } },
			{ janus: 'message', session_id: s, handle_id: p.handle + 1, body: { request: 'hangup' } },
			{ janus: 'hangup', session_id: s, handle_id: 42 },
			{ janus: 'detach', session_id: s, handle_id: 42 },
			{ janus: 'destroy', session_id: 42 },
			{ janus: 'keepalive', session_id: 42 },
			// Fields janus.js does not send: API secrets, tokens, port ranges.
			{ janus: 'attach', session_id: s, plugin: 'janus.plugin.sip', min_port: 1, max_port: 2 },
			{ janus: 'attach', session_id: s, plugin: 'janus.plugin.sip', opaque_id: 'x' },
			{ janus: 'keepalive', session_id: s, apisecret: 'x' },
			{ ...sip(p, { request: 'hangup' }), token: 'x' },
			{ ...sip(p, { request: 'accept' }, { ...OFFER, e2ee: true }) },
			{ ...sip(p, { request: 'accept' }, { type: 'rollback', sdp: '' }) },
			{ ...sip(p, { request: 'hold' }, OFFER) },
			{ janus: 'trickle', session_id: s, handle_id: p.handle, candidate: { completed: false } },
			{ janus: 'message', session_id: s, handle_id: p.handle, body: 'register' }
		]) {
			await p.refused(msg);
		}
		// A second page's session and handle are not this page's.
		const other = await page('t-colleague');
		await p.refused({ janus: 'keepalive', session_id: other.session });
		await p.refused({ ...sip(other, { request: 'hangup' }) });
		// Not JSON, not a request, or a transaction name janus.js does not make.
		const errors = () => p.inbox.filter((m) => m.janus === 'error').length;
		const before = { errors: errors(), atJanus: janus.received.length };
		for (const text of [
			'{',
			'[1]',
			'"create"',
			JSON.stringify({ janus: 'create', transaction: 'rec:1:1' })
		]) {
			p.ws.send(text);
		}
		await until(() => errors() === before.errors + 4, 'four refusals');
		await p.ask({ janus: 'keepalive', session_id: p.session });
		expect(janus.received.slice(before.atJanus).map((m) => m.janus)).toEqual(['keepalive']);
	});

	it('refuses every SIP request but the softphone’s, and every field it does not use', async () => {
		const p = await page('t-agent');
		for (const body of [
			{ request: 'recording', action: 'start', audio: true, filename: '/tmp/x' },
			{ request: 'message', content: 'hello' },
			{ request: 'info', type: 'text/plain', content: 'x' },
			{ request: 'subscribe', event: 'presence' },
			{ request: 'respond', code: 200 },
			{ request: 'keyframe' },
			{ request: 'accept', headers: { 'X-Evil': '1' } },
			{ request: 'accept', srtp: 'sdes_optional' },
			{ request: 'accept', autoaccept_reinvites: false },
			{ request: 'hangup', headers: { Reason: 'x' } },
			{ request: 'decline', code: 200 },
			{ request: 'decline', refer_id: 1 },
			{ request: 'hold', direction: 'sendrecv' },
			{ request: 'dtmf_info', digit: '5\r\nX: y' },
			{ request: 'dtmf_info', digit: '12' },
			{ request: 'update', headers: {} },
			{ request: 'unregister', headers: {} },
			{ request: 'call', uri: `sip:1002@${DOMAIN}`, call_id: 'hot-1' },
			{ request: 'call', uri: `sip:1002@${DOMAIN}`, headers: { 'X-Evil': '1' } },
			{ request: 'call', uri: `sip:1002@${DOMAIN}`, srtp: 'sdes_mandatory' },
			{ request: 'call', uri: `sip:1002@${DOMAIN}`, secret: 'x', authuser: '1002' }
		]) {
			await p.refused(sip(p, body));
		}
		// What the softphone sends goes through.
		for (const [body, jsep] of [
			[{ request: 'accept' }, { type: 'answer', sdp: 'v=0\r\n' }],
			[{ request: 'hold', direction: 'sendonly' }],
			[{ request: 'unhold' }],
			[{ request: 'dtmf_info', digit: '5', duration: 160 }],
			[{ request: 'update' }, { type: 'answer', sdp: 'v=0\r\n' }],
			[{ request: 'decline', code: 603 }],
			[{ request: 'hangup' }],
			[{ request: 'unregister' }]
		] as [Msg, Msg?][]) {
			const got = await p.relayed(sip(p, body, jsep));
			expect(got.body).toEqual(body);
			if (jsep) expect(got.jsep).toEqual(jsep);
		}
		for (const msg of [
			{
				janus: 'trickle',
				session_id: p.session,
				handle_id: p.handle,
				candidate: { completed: true }
			},
			{
				janus: 'trickle',
				session_id: p.session,
				handle_id: p.handle,
				candidate: {
					candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host',
					sdpMid: '0',
					sdpMLineIndex: 0
				}
			},
			{ janus: 'hangup', session_id: p.session, handle_id: p.handle },
			{ janus: 'keepalive', session_id: p.session }
		]) {
			await p.relayed(msg);
		}
	});

	it('registers only the agent’s own identity, never as guest, always at Kamailio', async () => {
		const p = await page('t-agent');
		for (const body of [
			{ ...OWN, username: `sip:1002@${DOMAIN}` },
			{ ...OWN, username: `sip:1001@evil.example` },
			{ ...OWN, type: 'guest' },
			{ ...OWN, type: 'helper', master_id: 1 },
			{ ...OWN, proxy: 'sip:203.0.113.9' },
			{ ...OWN, outbound_proxy: 'sip:203.0.113.9:5060' },
			{ ...OWN, authuser: '1002' },
			{ ...OWN, ha1_secret: 'x' },
			{ ...OWN, headers: { 'X-Evil': '1' } },
			{ ...OWN, contact_params: 'x=y' },
			{ ...OWN, sips: true },
			{ ...OWN, force_tcp: true },
			{ ...OWN, refresh: true },
			{ ...OWN, display_name: 'Boss' },
			{ ...OWN, secret: 'two\r\nlines' },
			{ ...OWN, Headers: { 'X-Evil': '1' } }
		]) {
			await p.refused(sip(p, body));
		}
		// Without a proxy, or with Kamailio's: Janus is told to use Kamailio for REGISTER and every call.
		for (const body of [
			OWN,
			{ ...OWN, proxy: KAMAILIO, outbound_proxy: KAMAILIO, display_name: '1001' }
		]) {
			const got = await p.relayed(sip(p, body));
			expect(got.body).toMatchObject({ ...OWN, proxy: KAMAILIO, outbound_proxy: KAMAILIO });
		}
	});

	it('calls and transfers only to colleagues, hotlines, and numbers with call.outbound, through Kamailio', async () => {
		const p = await page('t-agent');
		const call = (uri: string) => sip(p, { request: 'call', uri }, OFFER);
		const transfer = (uri: string) => sip(p, { request: 'transfer', uri });
		for (const uri of [
			'057188881234',
			`sip:057188881234@${DOMAIN}`,
			`sip:+8657188881234@${DOMAIN}`,
			`sip:1003@${DOMAIN}`,
			`sip:1002@evil.example`,
			`sip:1002@203.0.113.9:5060`,
			`sips:1002@${DOMAIN}`,
			`sip:1002@${DOMAIN};transport=tcp`,
			`sip:1002@${DOMAIN}?X-Evil=1`,
			`sip:1002@${DOMAIN}>`,
			`"Boss" <sip:1002@${DOMAIN}>`,
			`sip:evil@${DOMAIN}`,
			`sip:12@${DOMAIN}`,
			`sip:${HOTLINE}@${DOMAIN}\r\nX-Evil: 1`
		]) {
			await p.refused(call(uri));
			await p.refused(transfer(uri));
		}
		// #17 an attended transfer names the call it replaces: a token, nothing that could become a header.
		for (const replace of ['x\r\nX-Evil: 1', 'a b', '', 'x'.repeat(129), 42]) {
			await p.refused(sip(p, { request: 'transfer', uri: `sip:1002@${DOMAIN}`, replace }));
		}
		const attended = { request: 'transfer', uri: `sip:1002@${DOMAIN}`, replace: 'abc123@10.0.0.1' };
		expect((await p.relayed(sip(p, attended))).body).toEqual(attended);
		for (const uri of [
			`sip:1002@${DOMAIN}`,
			`sip:${HOTLINE}@${DOMAIN}`,
			`sip:1002@CallCenter.Local`
		]) {
			expect((await p.relayed(call(uri))).body).toEqual({ request: 'call', uri });
			expect((await p.relayed(transfer(uri))).body).toEqual({ request: 'transfer', uri });
		}
		// The permission is read at each call: granted, then taken away while the page stays open.
		const number = `sip:+8657188881234@${DOMAIN}`;
		signedIn.set('t-agent', user('agent', '1001', ['call.take', 'call.outbound']));
		await p.relayed(call(number));
		await p.relayed(transfer(number));
		signedIn.set('t-agent', user('agent', '1001', ['call.take']));
		await p.refused(call(number));
		await p.refused(transfer(number));
	});

	it('#17 a second handle becomes the helper only of a line this page registered', async () => {
		const p = await page('t-agent');
		const other = await page('t-colleague');
		const attach = async (q: Page) =>
			(
				(await q.ask({ janus: 'attach', session_id: q.session, plugin: 'janus.plugin.sip' }))
					.data as { id: number }
			).id;
		const second = await attach(p);
		const helper = (master_id: unknown, extra: Msg = {}) => ({
			janus: 'message',
			session_id: p.session,
			handle_id: second,
			body: {
				request: 'register',
				type: 'helper',
				username: `sip:1001@${DOMAIN}`,
				master_id,
				...extra
			}
		});
		// Before Janus reported this page's line registered, no master id is this page's.
		await p.refused(helper(31337));
		janus.event(p.session, p.handle, { result: { event: 'registered', master_id: 31337 } });
		janus.event(other.session, other.handle, {
			result: { event: 'registered', master_id: 4242 }
		});
		await until(
			() =>
				other.inbox.some((m) => m.janus === 'event') && p.inbox.some((m) => m.janus === 'event'),
			'both registered'
		);
		// Another page's line (its calls would ring here), a made-up id, other types and fields: refused.
		await p.refused(helper(4242));
		await p.refused(helper(31338));
		await p.refused(helper('31337'));
		await p.refused(helper(31337, { username: `sip:1002@${DOMAIN}` }));
		await p.refused(helper(31337, { username: undefined }));
		await p.refused(helper(31337, { secret: 'x' }));
		await p.refused(helper(31337, { incoming_header_prefixes: ['X-'] }));
		await p.refused(helper(31337, { type: 'guest' }));
		// A helper's own registration does not make its id a master.
		janus.event(p.session, second, {
			result: { event: 'registered', helper: true, master_id: 5151 }
		});
		await until(() => p.inbox.filter((m) => m.janus === 'event').length === 2, 'helper event');
		await p.refused(helper(5151));
		// This page's own line: relayed exactly so.
		expect((await p.relayed(helper(31337))).body).toEqual({
			request: 'register',
			type: 'helper',
			username: `sip:1001@${DOMAIN}`,
			master_id: 31337
		});
		// Signed out meanwhile: no helper either, and the socket closes.
		signedIn.delete('t-agent');
		const before = janus.received.length;
		p.ws.send(JSON.stringify({ ...helper(31337), transaction: 'lateHelper' }));
		await until(() => p.closed() !== null, 'the socket closed');
		expect(p.closed()).toBe(SESSION_ENDED);
		expect(janus.received.slice(before).filter((m) => m.transaction === 'lateHelper')).toEqual([]);
	});

	it('keeps the order of a page’s messages while a check waits for the store', async () => {
		const p = await page('t-agent');
		const before = janus.received.length;
		p.ws.send(
			JSON.stringify({
				...sip(p, { request: 'call', uri: `sip:1002@${DOMAIN}` }, OFFER),
				transaction: 'o1'
			})
		);
		p.ws.send(
			JSON.stringify({
				janus: 'trickle',
				session_id: p.session,
				handle_id: p.handle,
				candidate: { completed: true },
				transaction: 'o2'
			})
		);
		await until(() => janus.received.length >= before + 2, 'both at Janus');
		expect(janus.received.slice(before).map((m) => m.transaction)).toEqual(['o1', 'o2']);
	});

	it('refuses oversized messages by closing the socket; nothing reaches Janus', async () => {
		const p = await page('t-agent');
		const before = janus.received.length;
		p.ws.send(
			JSON.stringify({
				janus: 'keepalive',
				session_id: p.session,
				transaction: 'big',
				pad: 'x'.repeat(300_000)
			})
		);
		await until(() => p.closed() !== null, 'the socket closed');
		expect(p.closed()).toBe(1009);
		expect(janus.received.slice(before)).toEqual([]);
	});

	it('lets only signed-in agents with call.take upgrade, from this origin', async () => {
		const status = (headers: Record<string, string>) =>
			new Promise<number>((resolve) => {
				const ws = new WebSocket(url, 'janus-protocol', { headers });
				ws.on('unexpected-response', (req, res) => {
					resolve(res.statusCode ?? 0);
					req.destroy();
				});
				ws.on('open', () => {
					ws.terminate();
					resolve(101);
				});
			});
		expect(await status({})).toBe(401);
		expect(await status({ cookie: `${COOKIE}=unknown` })).toBe(401);
		expect(await status({ cookie: `${COOKIE}=t-crew` })).toBe(403);
		expect(await status({ cookie: `${COOKIE}=t-agent`, origin: 'http://evil.example' })).toBe(403);
		expect(await status({ cookie: `${COOKIE}=t-agent` })).toBe(101);
	});
});

describe('#13 a softphone rings only for calls Kamailio handed to Janus', () => {
	it('declines an INVITE sent straight to Janus’s SIP port; the page hears nothing of it, nor of the mark', async () => {
		const agent = await page('t-agent');
		// Registering asks Janus to report Kamailio's mark on incoming calls.
		const registered = await agent.relayed(sip(agent, OWN));
		expect((registered.body as Msg).incoming_header_prefixes).toEqual(['X-CC-Gate']);
		const decline = () =>
			janus.received.filter(
				(m) => m.handle_id === agent.handle && (m.body as Msg | undefined)?.request === 'decline'
			);
		// From the network, past Kamailio: no mark, or a guessed one.
		for (const [callId, headers] of [
			['direct-1', {}],
			['direct-2', { 'X-CC-Gate': 'guessed' }]
		] as const) {
			janus.event(agent.session, agent.handle, {
				call_id: callId,
				result: { event: 'incomingcall', username: 'sip:fake@evil.example', headers }
			});
			janus.event(agent.session, agent.handle, { call_id: callId, result: { event: 'hangup' } });
		}
		await until(() => decline().length === 2, 'both calls declined at Janus');
		expect(decline().map((m) => (m.body as Msg).code)).toEqual([403, 403]);
		// Kamailio's call comes through, without its mark.
		janus.event(agent.session, agent.handle, {
			call_id: 'hot-2',
			result: {
				event: 'incomingcall',
				username: 'sip:+8657188887777@carrier.example',
				headers: { 'X-CC-Gate': GATE }
			}
		});
		const events = () =>
			agent.inbox.filter((m) => m.janus === 'event').map((m) => (m.plugindata as Msg).data as Msg);
		await until(() => events().length === 1, 'the marked call at the page');
		expect(events()).toEqual([
			{
				sip: 'event',
				call_id: 'hot-2',
				result: {
					event: 'incomingcall',
					username: 'sip:+8657188887777@carrier.example',
					headers: {}
				}
			}
		]);
		// The proxy's own declines are not answered to the page either.
		expect(agent.inbox.filter((m) => String(m.transaction).startsWith('gate:'))).toEqual([]);
	});
});

describe('#13 F32 recordings are named by the server, never by a Call-ID from the line', () => {
	const recordingAt = (p: Page) =>
		janus.received.filter(
			(m) => m.session_id === p.session && (m.body as Msg | undefined)?.request === 'recording'
		);

	it('names a hotline call after the ACD’s record, and any other leg uniquely — a colleague cannot overwrite it', async () => {
		const agent = await page('t-agent');
		const colleague = await page('t-colleague');
		// The hotline call the ACD gave agent 1001.
		janus.event(agent.session, agent.handle, {
			call_id: 'hot-1',
			result: { event: 'incomingcall', headers: { 'X-CC-Gate': GATE } }
		});
		janus.event(agent.session, agent.handle, { call_id: 'hot-1', result: { event: 'accepted' } });
		await until(() => recordingAt(agent).length === 1, 'recording of the hotline call');
		expect(recordingAt(agent)[0]!.body).toEqual({
			request: 'recording',
			action: 'start',
			audio: true,
			peer_audio: true,
			filename: recordings.base('hot-1')
		});
		// A colleague's call that carries the same Call-ID (chosen by whoever placed it): its own leg name.
		janus.event(colleague.session, colleague.handle, {
			call_id: 'hot-1',
			result: { event: 'incomingcall', headers: { 'X-CC-Gate': GATE } }
		});
		janus.event(colleague.session, colleague.handle, {
			call_id: 'hot-1',
			result: { event: 'accepted' }
		});
		await until(() => recordingAt(colleague).length === 1, 'recording of the colleague’s call');
		const legName = (recordingAt(colleague)[0]!.body as Msg).filename as string;
		expect(legName).not.toBe(recordings.base('hot-1'));
		expect(legName.startsWith(join(dir, 'leg-1002-'))).toBe(true);
		// The proxy's own requests and Janus's answers to them never reach the page.
		for (const p of [agent, colleague]) {
			expect(p.inbox.filter((m) => String(m.transaction).startsWith('rec:'))).toEqual([]);
		}
		// At the end of the calls the files are handed over under those names.
		janus.event(agent.session, agent.handle, { call_id: 'hot-1', result: { event: 'hangup' } });
		janus.event(colleague.session, colleague.handle, {
			call_id: 'hot-1',
			result: { event: 'hangup' }
		});
		await until(() => recorded.length === 2, 'both recordings handed over');
		expect(recorded).toEqual(
			expect.arrayContaining([
				{ callId: 'hot-1', agentId: '1001', base: recordings.base('hot-1') },
				{ callId: null, agentId: '1002', base: legName }
			])
		);
	});

	it('gives the two legs of an agent-to-agent call two different names', async () => {
		const agent = await page('t-agent');
		const colleague = await page('t-colleague');
		janus.event(agent.session, agent.handle, { call_id: 'a2a', result: { event: 'calling' } });
		janus.event(colleague.session, colleague.handle, {
			call_id: 'a2a',
			result: { event: 'incomingcall', headers: { 'X-CC-Gate': GATE } }
		});
		for (const p of [agent, colleague]) {
			janus.event(p.session, p.handle, { call_id: 'a2a', result: { event: 'accepted' } });
		}
		await until(
			() => recordingAt(agent).length === 1 && recordingAt(colleague).length === 1,
			'both legs recorded'
		);
		const names = [agent, colleague].map((p) => (recordingAt(p)[0]!.body as Msg).filename);
		expect(new Set(names).size).toBe(2);
		expect(names).not.toContain(recordings.base('a2a'));
	});
});

describe('#13 the server ends softphone sockets when the sign-in ends', () => {
	it('closes the sockets closeSessions picks, by user or by session token, and no other', async () => {
		const agent = await page('t-agent');
		const second = await page('t-agent');
		const colleague = await page('t-colleague');
		expect(proxy.sockets()).toHaveLength(3);
		expect(proxy.closeSessions((s) => s.userId === 'user:agent')).toBe(2);
		await until(
			() => agent.closed() !== null && second.closed() !== null,
			'the agent’s sockets closed'
		);
		expect([agent.closed(), second.closed()]).toEqual([SESSION_ENDED, SESSION_ENDED]);
		// Their connections to Janus end too (Janus then hangs up their calls and unregisters them).
		await until(
			() => [agent, second].every((p) => janus.socketOf(p.session).readyState === WebSocket.CLOSED),
			'their Janus connections closed'
		);
		// The colleague's phone goes on.
		await colleague.relayed({ janus: 'keepalive', session_id: colleague.session });
		expect(proxy.closeSessions((s) => s.token === 't-colleague')).toBe(1);
		await until(() => colleague.closed() === SESSION_ENDED, 'the colleague’s socket closed');
		expect(proxy.sockets()).toEqual([]);
	});

	it('closes a socket by itself once its sign-in is gone or no longer allows a softphone', async () => {
		startProxy({ recheckMs: 50 });
		const out = await page('t-agent');
		const demoted = await page('t-colleague');
		signedIn.delete('t-agent');
		signedIn.set('t-colleague', user('colleague', '1002', ['ticket.create']));
		await until(() => out.closed() !== null && demoted.closed() !== null, 'both sockets closed');
		expect([out.closed(), demoted.closed()]).toEqual([SESSION_ENDED, SESSION_ENDED]);
	});

	it('keeps the phone while the sign-in store is out of reach for a moment', async () => {
		let asked = 0;
		let down = false;
		startProxy({
			recheckMs: 20,
			sessions: {
				resolve: (token) => {
					asked += 1;
					return down
						? Promise.reject(new Error('store unreachable'))
						: Promise.resolve(signedIn.get(token) ?? null);
				}
			}
		});
		const p = await page('t-agent');
		down = true;
		const from = asked;
		await until(() => asked >= from + 3, 'three checks against the unreachable store');
		expect(p.closed()).toBeNull();
		await p.relayed({ janus: 'keepalive', session_id: p.session });
		down = false;
	});

	it('refuses a register from a socket whose sign-in ended, and closes it', async () => {
		const p = await page('t-agent');
		signedIn.delete('t-agent');
		const before = janus.received.length;
		p.ws.send(JSON.stringify({ ...sip(p, OWN), transaction: 'late' }));
		await until(() => p.closed() !== null, 'the socket closed');
		expect(p.closed()).toBe(SESSION_ENDED);
		expect(janus.received.slice(before).filter((m) => m.transaction === 'late')).toEqual([]);
	});
});
