/**
 * The SIP parser (including hostile input) and the user agent against a raw UDP peer and against itself.
 */
import { createSocket } from 'node:dgram';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../test/helpers/until';
import {
	header,
	headerValues,
	parseCSeq,
	parseDtmfInfo,
	parseSip,
	parseSipUri,
	serializeSip,
	SipUa,
	tagOf,
	uriOf,
	type CallEnd,
	type IncomingCall,
	type SipMessage
} from './sip-ua';

const crlf = (s: string) => s.replaceAll(/\r?\n/g, '\r\n');

const INVITE = crlf(`INVITE sip:4000@127.0.0.1:5070 SIP/2.0
v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa, SIP/2.0/UDP 10.0.0.2:5061;branch=z9hG4bKb
Record-Route: <sip:10.0.0.1;lr>, <sip:10.0.0.9;lr;x="a,b">
From: "Caller, Jr." <sip:+8613800001111@carrier.example;user=phone>;tag=abc
t: <sip:4000@127.0.0.1>
i: call-1@10.0.0.2
CSeq: 1 INVITE
Subject: a folded
 header line
m: <sip:caller@10.0.0.2:5061>
c: application/sdp
l: 12

v=0
o=- 1 1
trailing garbage`);

describe('SIP parser', () => {
	it('reads a request: compact names, folded lines, lists split, body cut at Content-Length', () => {
		const msg = parseSip(INVITE)!;
		expect(msg).toMatchObject({
			kind: 'request',
			method: 'INVITE',
			uri: 'sip:4000@127.0.0.1:5070'
		});
		expect(headerValues(msg, 'via')).toEqual([
			'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa',
			'SIP/2.0/UDP 10.0.0.2:5061;branch=z9hG4bKb'
		]);
		expect(headerValues(msg, 'Record-Route')).toEqual([
			'<sip:10.0.0.1;lr>',
			'<sip:10.0.0.9;lr;x="a,b">'
		]);
		expect(header(msg, 'subject')).toBe('a folded header line');
		expect(header(msg, 'call-id')).toBe('call-1@10.0.0.2');
		expect(msg.body).toBe('v=0\r\no=- 1 1');
		expect(tagOf(header(msg, 'from'))).toBe('abc');
		expect(uriOf(header(msg, 'from')!)).toBe('sip:+8613800001111@carrier.example;user=phone');
		expect(tagOf(header(msg, 'to'))).toBeUndefined();
	});

	it('reads a response and survives a round trip through serializeSip', () => {
		const text = crlf(`SIP/2.0 180 Ringing
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx
From: <sip:ivr@127.0.0.1>;tag=1
To: <sip:agent@127.0.0.1>;tag=2
Call-ID: c
CSeq: 7 INVITE
Content-Length: 0

`);
		const msg = parseSip(text)!;
		expect(msg).toMatchObject({ kind: 'response', status: 180, reason: 'Ringing', body: '' });
		expect(parseSip(serializeSip(msg))).toEqual(msg);
		expect(parseSip(serializeSip(parseSip(INVITE)!))).toEqual(parseSip(INVITE));
	});

	const broken: [string, string][] = [
		['empty', ''],
		['no blank line', 'OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n'],
		['bad start line', INVITE.replace('INVITE sip:4000@127.0.0.1:5070 SIP/2.0', 'HELLO')],
		['wrong version', INVITE.replace(' SIP/2.0\r\n', ' SIP/3.0\r\n')],
		[
			'status out of range',
			INVITE.replace('INVITE sip:4000@127.0.0.1:5070 SIP/2.0', 'SIP/2.0 99 No')
		],
		['no Call-ID', INVITE.replace('i: call-1@10.0.0.2\r\n', '')],
		['no Via', INVITE.replace(/v: .*\r\n/, '')],
		['a Via that is not UDP', INVITE.replace('v: SIP/2.0/UDP', 'v: SIP/2.0/TCP')],
		['CSeq of another method', INVITE.replace('CSeq: 1 INVITE', 'CSeq: 1 BYE')],
		['CSeq without number', INVITE.replace('CSeq: 1 INVITE', 'CSeq: x INVITE')],
		['CSeq too large', INVITE.replace('CSeq: 1 INVITE', 'CSeq: 99999999999 INVITE')],
		['body shorter than Content-Length', INVITE.replace('l: 12', 'l: 500')],
		['Content-Length not a number', INVITE.replace('l: 12', 'l: -1')],
		['header without colon', INVITE.replace('c: application/sdp', 'c application/sdp')],
		['header name with a space', INVITE.replace('c: application/sdp', 'c t: application/sdp')],
		['folded line first', INVITE.replace('v: SIP', ' v: SIP')],
		['too large', INVITE + 'x'.repeat(70_000)],
		[
			'too many headers',
			INVITE.replace('c: application/sdp', 'X-A: 1\r\n'.repeat(101) + 'c: application/sdp')
		]
	];
	it.each(broken)('drops a message with %s', (_, text) => {
		expect(parseSip(text)).toBeNull();
	});

	it('takes ACK and CANCEL with the INVITE’s CSeq number', () => {
		const ack = INVITE.replace('INVITE sip:', 'ACK sip:').replace('CSeq: 1 INVITE', 'CSeq: 1 ACK');
		expect(parseSip(ack)).toMatchObject({ method: 'ACK' });
		expect(parseSip(INVITE.replace('INVITE sip:', 'CANCEL sip:'))).toMatchObject({
			method: 'CANCEL'
		});
	});

	it('never throws, whatever arrives', () => {
		fc.assert(
			fc.property(fc.string({ maxLength: 400 }), (s) => {
				parseSip(s);
				parseSip(Buffer.from(s, 'latin1'));
			}),
			{ numRuns: 2_000 }
		);
		// Valid messages with a byte range cut out, replaced or repeated.
		fc.assert(
			fc.property(fc.nat(INVITE.length), fc.nat(40), fc.string({ maxLength: 20 }), (at, n, s) => {
				const mutated = INVITE.slice(0, at) + s + INVITE.slice(Math.min(INVITE.length, at + n));
				const msg = parseSip(mutated);
				if (msg) expect(header(msg, 'call-id')).toBeTruthy();
			}),
			{ numRuns: 3_000 }
		);
	});

	it('reads URIs, CSeqs and tags', () => {
		expect(parseSipUri('sip:agent1@127.0.0.1:5080;transport=udp')).toEqual({
			user: 'agent1',
			host: '127.0.0.1',
			port: 5080
		});
		expect(parseSipUri('sip:example.org')).toEqual({
			user: undefined,
			host: 'example.org',
			port: 5060
		});
		expect(parseSipUri('tel:+861380000')).toBeNull();
		expect(parseSipUri('sip:a@h:99999')).toBeNull();
		expect(parseCSeq('12 bye')).toEqual({ seq: 12, method: 'BYE' });
		expect(tagOf('<sip:a@b;tag=no>')).toBeUndefined();
		expect(tagOf('sip:a@b;tag=yes')).toBe('yes');
	});

	it('reads INFO DTMF bodies', () => {
		expect(parseDtmfInfo('application/dtmf-relay', 'Signal=2\r\nDuration=160\r\n')).toBe('2');
		expect(parseDtmfInfo('Application/DTMF-Relay; x=y', 'Duration=160\r\nsignal = #\r\n')).toBe(
			'#'
		);
		expect(parseDtmfInfo('application/dtmf-relay', 'Signal=10')).toBe('*');
		expect(parseDtmfInfo('application/dtmf-relay', 'Signal=11')).toBe('#');
		expect(parseDtmfInfo('application/dtmf', '5')).toBe('5');
		expect(parseDtmfInfo('application/dtmf', 'a')).toBe('A');
		expect(parseDtmfInfo('application/dtmf-relay', 'Signal=99')).toBeNull();
		expect(parseDtmfInfo('application/dtmf-relay', 'Signal=xy')).toBeNull();
		expect(parseDtmfInfo('text/plain', '5')).toBeNull();
		expect(parseDtmfInfo(undefined, 'Signal=5')).toBeNull();
	});
});

// ---------------------------------------------------------------------------------------------------------

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
	for (const c of cleanups.splice(0).reverse()) await c();
});

const T1 = 40;

async function ua() {
	const u = await SipUa.listen({ host: '127.0.0.1', t1Ms: T1, t2Ms: 4 * T1 });
	cleanups.push(() => u.close());
	return u;
}

/** A raw SIP peer: sends text, collects parsed messages, waits for the next matching one. */
async function peer() {
	const socket = createSocket('udp4');
	const got: SipMessage[] = [];
	const waiters: { match: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }[] = [];
	socket.on('message', (d) => {
		const m = parseSip(d);
		if (!m) return;
		got.push(m);
		const i = waiters.findIndex((w) => w.match(m));
		if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
	});
	await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
	cleanups.push(() => socket.close());
	const port = socket.address().port;
	return {
		port,
		got,
		send: (text: string, to: number) => socket.send(crlf(text), to, '127.0.0.1'),
		/** The next message (from now) for which `match` holds. */
		next(match: (m: SipMessage) => boolean, what: string, timeoutMs = 3_000) {
			return new Promise<SipMessage>((resolve, reject) => {
				const t = setTimeout(() => reject(new Error(`no ${what}`)), timeoutMs);
				waiters.push({ match, resolve: (m) => (clearTimeout(t), resolve(m)) });
			});
		}
	};
}

const status =
	(code: number, method = 'INVITE') =>
	(m: SipMessage) =>
		m.kind === 'response' && m.status === code && parseCSeq(header(m, 'cseq')!)?.method === method;
const method = (name: string) => (m: SipMessage) => m.kind === 'request' && m.method === name;

const invite = (
	port: number,
	callId: string,
	branch = 'z9hG4bKinv1'
) => `INVITE sip:4000@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch};rport
From: <sip:+8613800001111@carrier.example>;tag=caller1
To: <sip:4000@127.0.0.1>
Call-ID: ${callId}
CSeq: 1 INVITE
Contact: <sip:caller@127.0.0.1:${port}>
Content-Type: application/sdp
Content-Length: 5

v=0
`;

const inDialog = (
	m: string,
	port: number,
	callId: string,
	toTag: string,
	cseq: number,
	extra = '',
	body = ''
) => `${m} sip:ivr@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${m}${cseq}
From: <sip:+8613800001111@carrier.example>;tag=caller1
To: <sip:4000@127.0.0.1>;tag=${toTag}
Call-ID: ${callId}
CSeq: ${cseq} ${m}
${extra}Content-Length: ${Buffer.byteLength(body)}

${body}`;

describe('SIP user agent, answering', () => {
	it('answers an INVITE: 100, then 200 with SDP sent again until the ACK; INFO digits; BYE ends it', async () => {
		const u = await ua();
		const p = await peer();
		const calls: IncomingCall[] = [];
		u.on('invite', (call) => {
			calls.push(call);
			call.answer('v=0\r\ns=ivr\r\n');
		});
		const trying = p.next(status(100), '100');
		const ok = p.next(status(200), '200');
		p.send(invite(p.port, 'call-a'), u.address.port);
		await trying;
		const answer = await ok;
		expect(answer.body).toBe('v=0\r\ns=ivr\r\n');
		expect(header(answer, 'contact')).toBe(`<sip:ivr@127.0.0.1:${u.address.port}>`);
		const call = calls[0]!;
		expect(call).toMatchObject({ callId: 'call-a', fromTag: 'caller1', sdp: 'v=0\r\n' });
		expect(call.caller).toBe('sip:+8613800001111@carrier.example');
		expect(tagOf(header(answer, 'to'))).toBe(call.toTag);
		// Not acknowledged: the 200 comes again.
		await p.next(status(200), 'a retransmitted 200');
		const acked = new Promise<void>((r) => call.once('ack', r));
		p.send(
			inDialog('ACK', p.port, 'call-a', call.toTag, 1).replace('CSeq: 1 ACK', 'CSeq: 1 ACK'),
			u.address.port
		);
		await acked;
		expect(call.state).toBe('confirmed');

		const digits: string[] = [];
		call.on('dtmf', (d) => digits.push(d.digit));
		const infoOk = p.next(status(200, 'INFO'), '200 for INFO');
		p.send(
			inDialog(
				'INFO',
				p.port,
				'call-a',
				call.toTag,
				2,
				'Content-Type: application/dtmf-relay\n',
				'Signal=2\r\nDuration=160\r\n'
			),
			u.address.port
		);
		await infoOk;
		expect(digits).toEqual(['2']);

		const ended = new Promise<CallEnd>((r) => call.once('ended', r));
		const byeOk = p.next(status(200, 'BYE'), '200 for BYE');
		p.send(inDialog('BYE', p.port, 'call-a', call.toTag, 3), u.address.port);
		await byeOk;
		expect(await ended).toEqual({ by: 'remote', status: 0 });
		expect(u.calls).toEqual({ incoming: 0, outgoing: 0 });
		// Nothing is known of the call any more.
		const gone = p.next(status(481, 'BYE'), '481');
		p.send(inDialog('BYE', p.port, 'call-a', call.toTag, 4), u.address.port);
		await gone;
	});

	it('a retransmitted INVITE gets the last answer again, not a second call', async () => {
		const u = await ua();
		const p = await peer();
		let n = 0;
		u.on('invite', () => n++);
		const first = p.next(status(100), '100');
		p.send(invite(p.port, 'call-r'), u.address.port);
		await first;
		const again = p.next(status(100), 'the 100 again');
		p.send(invite(p.port, 'call-r'), u.address.port);
		await again;
		expect(n).toBe(1);
	});

	it('CANCEL before the answer: 200 for it, 487 for the INVITE until its ACK; the call ends', async () => {
		const u = await ua();
		const p = await peer();
		let call: IncomingCall | undefined;
		u.on('invite', (c) => (call = c));
		const trying = p.next(status(100), '100');
		p.send(invite(p.port, 'call-c'), u.address.port);
		await trying;
		const ended = new Promise<CallEnd>((r) => call!.once('ended', r));
		const cancelOk = p.next(status(200, 'CANCEL'), '200 for CANCEL');
		const terminated = p.next(status(487), '487');
		p.send(
			invite(p.port, 'call-c')
				.replace('INVITE sip:', 'CANCEL sip:')
				.replace('CSeq: 1 INVITE', 'CSeq: 1 CANCEL')
				.replace(/Content-Type[^]*$/, 'Content-Length: 0\n\n'),
			u.address.port
		);
		await cancelOk;
		const refused = await terminated;
		expect(await ended).toEqual({ by: 'cancel', status: 487 });
		expect(call!.answer('v=0')).toBe(false);
		await p.next(status(487), 'the 487 again');
		p.send(
			inDialog('ACK', p.port, 'call-c', tagOf(header(refused, 'to'))!, 1).replace(
				/branch=\S+/,
				'branch=z9hG4bKinv1'
			),
			u.address.port
		);
		// The ACK ends the 487's retransmissions.
		await until(() => u.retransmitting === 0, 'the 487 retransmissions to stop', 2_000);
		expect(p.got.filter(status(487)).length).toBeGreaterThanOrEqual(2);
	});

	it('hangs up with BYE; answers OPTIONS, refuses other requests outside a call, 503 when nobody listens', async () => {
		const u = await ua();
		const p = await peer();
		const ok = p.next(status(503), '503');
		p.send(invite(p.port, 'nobody'), u.address.port);
		await ok;

		const options = p.next(status(200, 'OPTIONS'), '200 for OPTIONS');
		p.send(inDialog('OPTIONS', p.port, 'o', 'x', 1).replace(';tag=x', ''), u.address.port);
		expect(header(await options, 'allow')).toMatch(/INFO/);
		const register = p.next(status(405, 'REGISTER'), '405');
		p.send(inDialog('REGISTER', p.port, 'r', 'x', 1).replace(';tag=x', ''), u.address.port);
		await register;

		u.on('invite', (c) => c.answer('v=0\r\n'));
		const answered = p.next(status(200), '200');
		p.send(invite(p.port, 'call-h', 'z9hG4bKh'), u.address.port);
		const res = await answered;
		const toTag = tagOf(header(res, 'to'))!;
		p.send(inDialog('ACK', p.port, 'call-h', toTag, 1), u.address.port);
		const reinvite = p.next(status(488), '488 for a re-INVITE');
		p.send(inDialog('INVITE', p.port, 'call-h', toTag, 2), u.address.port);
		await reinvite;
		const bye = p.next(method('BYE'), 'BYE');
		const call = await new Promise<IncomingCall>((resolve) => {
			// The call is the one the UA holds: hang it up through a second listener's view.
			u.once('invite', resolve);
			p.send(invite(p.port, 'call-h2', 'z9hG4bKh2'), u.address.port);
		});
		await p.next(status(200), '200 of the second call');
		call.hangup();
		const byeReq = await bye;
		expect(header(byeReq, 'call-id')).toBe('call-h2');
		expect(byeReq.kind === 'request' && byeReq.uri).toBe(`sip:caller@127.0.0.1:${p.port}`);
	});

	it('survives hostile datagrams and keeps answering', async () => {
		const u = await ua();
		const p = await peer();
		const logs: string[] = [];
		u.log = (l) => logs.push(l);
		for (const junk of [
			'',
			'\r\n\r\n',
			'INVITE',
			'\x00\x01\x02',
			INVITE.replace('CSeq: 1 INVITE', 'CSeq: INVITE'),
			'SIP/2.0 200 OK\r\n\r\n'
		]) {
			p.send(junk, u.address.port);
		}
		// A response nobody asked for, well formed: ignored.
		p.send(
			'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKnone\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: q\r\nCSeq: 1 INVITE\r\n\r\n',
			u.address.port
		);
		const options = p.next(status(200, 'OPTIONS'), '200 for OPTIONS');
		p.send(inDialog('OPTIONS', p.port, 'o', 'x', 1).replace(';tag=x', ''), u.address.port);
		await options;
		expect(logs.some((l) => /malformed/.test(l))).toBe(true);
	});
});

describe('SIP user agent, calling', () => {
	it('UA to UA: INVITE, 200 with SDP, ACK; BYE from the caller ends both sides', async () => {
		const a = await ua();
		const b = await ua();
		let callee: IncomingCall | undefined;
		b.on('invite', (c) => {
			callee = c;
			c.answer('v=0\r\ns=agent\r\n');
		});
		const call = a.invite({
			target: `sip:agent1@127.0.0.1:${b.address.port}`,
			sdp: 'v=0\r\ns=offer\r\n',
			headers: { 'X-IVR-Path': 'main,tv' }
		});
		const sdp = await new Promise<string>((r) => call.once('answered', r));
		expect(sdp).toBe('v=0\r\ns=agent\r\n');
		expect(header(callee!.invite, 'x-ivr-path')).toBe('main,tv');
		expect(callee!.sdp).toBe('v=0\r\ns=offer\r\n');
		await new Promise<void>((r) => (callee!.state === 'confirmed' ? r() : callee!.once('ack', r)));
		const calleeEnded = new Promise<CallEnd>((r) => callee!.once('ended', r));
		call.hangup();
		expect(await calleeEnded).toEqual({ by: 'remote', status: 0 });
		expect(call.state).toBe('ended');
	});

	it('the callee hangs up: the caller’s side ends by remote', async () => {
		const a = await ua();
		const b = await ua();
		b.on('invite', (c) => {
			c.answer('v=0\r\n');
			c.once('ack', () => c.hangup());
		});
		const call = a.invite({ target: `sip:agent1@127.0.0.1:${b.address.port}`, sdp: 'v=0\r\n' });
		expect(await new Promise<CallEnd>((r) => call.once('ended', r))).toEqual({
			by: 'remote',
			status: 0
		});
	});

	it('a refusal is acknowledged and ends the call with its status', async () => {
		const a = await ua();
		const p = await peer();
		const call = a.invite({ target: `sip:agent1@127.0.0.1:${p.port}`, sdp: 'v=0\r\n' });
		const req = await p.next(method('INVITE'), 'INVITE');
		const ended = new Promise<CallEnd>((r) => call.once('ended', r));
		const ack = p.next(method('ACK'), 'ACK');
		p.send(respond(req, '486 Busy Here', 'busy'), a.address.port);
		expect(await ended).toEqual({ by: 'remote', status: 486 });
		const ackReq = await ack;
		expect(header(ackReq, 'via')).toBe(header(req, 'via'));
	});

	it('hangup while ringing sends CANCEL; the 487 is acknowledged', async () => {
		const a = await ua();
		const p = await peer();
		const call = a.invite({ target: `sip:agent1@127.0.0.1:${p.port}`, sdp: 'v=0\r\n' });
		const req = await p.next(method('INVITE'), 'INVITE');
		// Hung up before any answer: the CANCEL waits for the first provisional one.
		call.hangup();
		const cancel = p.next(method('CANCEL'), 'CANCEL');
		p.send(respond(req, '180 Ringing', 'ring'), a.address.port);
		const cancelReq = await cancel;
		expect(header(cancelReq, 'via')).toBe(header(req, 'via'));
		expect(header(cancelReq, 'cseq')).toBe(header(req, 'cseq')!.replace('INVITE', 'CANCEL'));
		p.send(respond(cancelReq, '200 OK', 'ring'), a.address.port);
		const ended = new Promise<CallEnd>((r) => call.once('ended', r));
		const ack = p.next(method('ACK'), 'ACK');
		p.send(respond(req, '487 Request Terminated', 'ring'), a.address.port);
		expect(await ended).toEqual({ by: 'local', status: 487 });
		await ack;
	});

	it('no answer at all: the INVITE is sent again, then the call ends with 408', async () => {
		const a = await ua();
		const p = await peer();
		const call = a.invite({ target: `sip:agent1@127.0.0.1:${p.port}`, sdp: 'v=0\r\n' });
		const ended = await new Promise<CallEnd>((r) => call.once('ended', r));
		expect(ended).toEqual({ by: 'timeout', status: 408 });
		expect(p.got.filter(method('INVITE')).length).toBeGreaterThan(2);
	});
});

/** A response to `req` as a simple peer writes it. */
function respond(req: SipMessage, statusLine: string, toTag: string) {
	const lines = req.headers
		.filter((h) => ['via', 'from', 'to', 'call-id', 'cseq'].includes(h.name))
		.map(
			(h) =>
				`${h.name}: ${h.name === 'to' && !tagOf(h.value) ? `${h.value};tag=${toTag}` : h.value}`
		);
	return `SIP/2.0 ${statusLine}\n${lines.join('\n')}\nContact: <sip:agent@127.0.0.1>\nContent-Length: 0\n\n`;
}
