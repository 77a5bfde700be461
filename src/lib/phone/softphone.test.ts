/**
 * F30 the softphone's state machine against a fake transport: what the agent sees and what goes to Janus,
 * for registration, a lost line, incoming and outgoing calls and every button of a call.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { FakeJanus } from './fake-janus';
import {
	CALL_REFUSED,
	RETRY_FIRST_MS,
	RETRY_MAX_MS,
	Softphone,
	sipUser,
	TRANSFER_FAILED,
	TRANSFER_TIMEOUT_MS
} from './softphone.svelte';
import type { PhoneCredentials } from './types';

const CREDENTIALS: PhoneCredentials = {
	username: '1001',
	password: 'sekret-for-this-sign-in',
	uri: 'sip:1001@callcenter.local',
	registrar: 'sip:callcenter.local',
	proxy: 'sip:127.0.0.1:5060',
	janus: '/janus',
	iceServers: [{ urls: ['stun:turn.example.cn:3478'] }]
};
const CALLER = 'sip:+8657188887777@carrier.example';

/** Lets the promise callbacks the softphone chained run (no timers involved). */
async function flush() {
	for (let i = 0; i < 5; i++) await Promise.resolve();
}

function setUp() {
	const janus = new FakeJanus();
	const credentials = vi.fn(() => Promise.resolve(CREDENTIALS));
	const phone = new Softphone({ transport: janus, credentials });
	const ended: string[] = [];
	phone.onEnded = (callId) => ended.push(callId);
	return { janus, phone, credentials, ended };
}

async function registered() {
	const s = setUp();
	await s.phone.start();
	s.janus.emit({ type: 'registered' });
	return s;
}

async function talking(callId = 'call-1@carrier') {
	const s = await registered();
	s.janus.emit({ type: 'incoming', from: CALLER, callId });
	s.phone.answer();
	await flush();
	s.janus.emit({ type: 'accepted' });
	return s;
}

beforeEach(() => {
	vi.useFakeTimers({
		toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date']
	});
	vi.setSystemTime(new Date('2026-03-02T09:00:00+08:00'));
});
afterEach(() => {
	vi.useRealTimers();
});

describe('F30 registration', () => {
	test('F30 registers the identity issued for this sign-in through the proxy, and is registered once the registrar says so', async () => {
		const { janus, phone } = setUp();
		const starting = phone.start();
		expect(phone.line).toBe('connecting');
		await starting;
		expect(janus.requests).toEqual([
			{ op: 'connect', path: '/janus', iceServers: CREDENTIALS.iceServers },
			{
				op: 'register',
				uri: 'sip:1001@callcenter.local',
				secret: 'sekret-for-this-sign-in',
				proxy: 'sip:127.0.0.1:5060',
				displayName: '1001'
			}
		]);
		expect(phone.line).toBe('connecting');
		janus.emit({ type: 'registered' });
		expect(phone.line).toBe('registered');
		expect(phone.error).toBe('');
		// Starting a registered phone again changes nothing.
		await phone.start();
		expect(janus.ops('connect')).toHaveLength(1);
	});

	test('F30 a refused registration shows the reason and registers again by itself', async () => {
		const { janus, phone } = await registered();
		janus.emit({ type: 'registrationFailed', reason: '403 Forbidden' });
		expect(phone.line).toBe('failed');
		expect(phone.error).toBe('403 Forbidden');
		// The old connection goes before a new one is made.
		expect(janus.requests.at(-1)).toEqual({ op: 'close' });
		await vi.advanceTimersByTimeAsync(RETRY_FIRST_MS);
		expect(janus.ops('connect')).toHaveLength(2);
		expect(janus.ops('register')).toHaveLength(2);
		janus.emit({ type: 'registered' });
		expect(phone.line).toBe('registered');
		expect(phone.error).toBe('');
	});

	test('F30 a lost line (Janus restarted) ends the call, and reconnects waiting twice as long after each failure, at most 30 s; registering resets the wait', async () => {
		const { janus, phone, ended } = await talking('lost-call@carrier');
		janus.emit({ type: 'lost', reason: 'Lost connection to the server (is it down?)' });
		expect(phone.line).toBe('failed');
		expect(phone.call).toBeNull();
		expect(ended).toEqual(['lost-call@carrier']);

		// Janus stays down: each attempt fails, and the next waits twice as long, up to RETRY_MAX_MS.
		const waits: number[] = [];
		let wait = RETRY_FIRST_MS;
		for (let attempt = 0; attempt < 7; attempt++) {
			janus.failConnect('Error connecting to the Janus WebSockets server');
			const before = janus.ops('connect').length;
			await vi.advanceTimersByTimeAsync(wait - 1);
			expect(janus.ops('connect')).toHaveLength(before);
			await vi.advanceTimersByTimeAsync(1);
			expect(janus.ops('connect')).toHaveLength(before + 1);
			expect(phone.line).toBe('failed');
			waits.push(wait);
			wait = Math.min(wait * 2, RETRY_MAX_MS);
		}
		expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);

		// Janus is back: the next attempt registers, and a later loss waits RETRY_FIRST_MS again.
		await vi.advanceTimersByTimeAsync(RETRY_MAX_MS);
		expect(janus.ops('register')).toHaveLength(2);
		janus.emit({ type: 'registered' });
		expect(phone.line).toBe('registered');
		janus.emit({ type: 'lost', reason: 'Lost connection to the server (is it down?)' });
		const before = janus.ops('connect').length;
		await vi.advanceTimersByTimeAsync(RETRY_FIRST_MS);
		expect(janus.ops('connect')).toHaveLength(before + 1);
	});

	test('F30 the server refusing the registration itself is a lost line too, retried with the same back-off', async () => {
		const { janus, phone } = setUp();
		janus.refuse('register', '403 Register only as sip:1001@callcenter.local');
		await phone.start();
		expect(phone.line).toBe('failed');
		expect(phone.error).toBe('403 Register only as sip:1001@callcenter.local');
		await vi.advanceTimersByTimeAsync(RETRY_FIRST_MS);
		expect(janus.ops('register')).toHaveLength(2);
	});

	test('F30 the SIP plugin refusing the registration request leaves the line failed with its message', async () => {
		const { janus, phone } = setUp();
		await phone.start();
		janus.emit({ type: 'error', message: 'Missing element (secret or ha1_secret)' });
		expect(phone.line).toBe('failed');
		expect(phone.error).toBe('Missing element (secret or ha1_secret)');
	});

	test('F30 stopping (sign-out) ends the call and the connection and never reconnects; stopped while connecting, nothing registers', async () => {
		const { janus, phone, ended } = await talking('stop-call@carrier');
		phone.stop();
		expect(phone.line).toBe('off');
		expect(phone.call).toBeNull();
		expect(ended).toEqual(['stop-call@carrier']);
		expect(janus.requests.at(-1)).toEqual({ op: 'close' });
		janus.emit({ type: 'lost', reason: 'gone' });
		await vi.advanceTimersByTimeAsync(RETRY_MAX_MS * 2);
		expect(janus.ops('connect')).toHaveLength(1);

		const late = setUp();
		const starting = late.phone.start();
		late.phone.stop();
		await starting;
		expect(late.janus.ops('register')).toEqual([]);
		expect(late.phone.line).toBe('off');
		await vi.advanceTimersByTimeAsync(RETRY_MAX_MS * 2);
		expect(late.janus.ops('connect')).toEqual([]);
	});

	test('F30 the credentials cannot be had (server unreachable): the line fails and tries again', async () => {
		const { phone, credentials } = setUp();
		credentials.mockRejectedValueOnce(new Error('network'));
		await phone.start();
		expect(phone.line).toBe('failed');
		expect(phone.error).toBe('network');
		await vi.advanceTimersByTimeAsync(RETRY_FIRST_MS);
		expect(credentials).toHaveBeenCalledTimes(2);
	});
});

describe('F30 an incoming call', () => {
	test('F30 rings with the caller number, is answered, held and resumed, muted, keyed and transferred; the server hears when it ends', async () => {
		const { janus, phone, ended } = await registered();
		janus.emit({ type: 'incoming', from: CALLER, callId: 'a84b4c76e66710@carrier' });
		expect(phone.call).toMatchObject({
			direction: 'in',
			peer: '+8657188887777',
			callId: 'a84b4c76e66710@carrier',
			phase: 'incoming',
			answeredAt: null
		});
		// Only a ringing call can be answered; a talking one cannot be held before it is up.
		phone.hold();
		expect(janus.ops('hold')).toEqual([]);
		phone.answer();
		await flush();
		expect(janus.ops('answer')).toHaveLength(1);
		expect(phone.call?.phase).toBe('incoming');

		janus.audio = {
			packetsSent: 51,
			packetsReceived: 50,
			bytesSent: 8_160,
			bytesReceived: 8_000,
			jitter: 0.004,
			packetsLost: 0
		};
		janus.emit({ type: 'accepted' });
		expect(phone.call?.phase).toBe('talking');
		expect(phone.call?.answeredAt).toBe(Date.now());
		await flush();
		expect(phone.stats?.packetsReceived).toBe(50);
		janus.audio = { ...janus.audio, packetsReceived: 100 };
		await vi.advanceTimersByTimeAsync(1_000);
		expect(phone.stats?.packetsReceived).toBe(100);

		phone.hold();
		expect(janus.ops('hold')).toHaveLength(1);
		janus.emit({ type: 'held' });
		expect(phone.call?.phase).toBe('held');
		phone.hold();
		expect(janus.ops('hold')).toHaveLength(1);
		phone.resume();
		janus.emit({ type: 'resumed' });
		expect(phone.call?.phase).toBe('talking');
		expect(janus.ops('resume')).toHaveLength(1);

		phone.toggleMute();
		expect(phone.call?.muted).toBe(true);
		phone.toggleMute();
		expect(phone.call?.muted).toBe(false);
		expect(janus.ops('mute')).toEqual([
			{ op: 'mute', muted: true },
			{ op: 'mute', muted: false }
		]);

		// Keypad: only real DTMF keys go out; the call shows the digits the SIP side took, in order.
		for (const key of ['5', 'x', '12', '#']) phone.dtmf(key);
		expect(janus.ops('dtmf')).toEqual([
			{ op: 'dtmf', digit: '5' },
			{ op: 'dtmf', digit: '#' }
		]);
		expect(phone.call?.digits).toBe('');
		janus.emit({ type: 'dtmfSent' });
		expect(phone.call?.digits).toBe('5');
		janus.emit({ type: 'dtmfSent' });
		expect(phone.call?.digits).toBe('5#');

		phone.transfer(' 3199 ');
		expect(janus.ops('transfer')).toEqual([{ op: 'transfer', uri: 'sip:3199@callcenter.local' }]);
		expect(phone.call?.phase).toBe('transferring');
		await flush();
		expect(phone.call?.phase).toBe('transferring');
		expect(phone.error).toBe('');
		// The caller leaves this agent: Janus reports the end of the call.
		janus.emit({ type: 'hangup', code: 200, reason: 'Session Terminated' });
		expect(phone.call).toBeNull();
		expect(phone.error).toBe('');
		expect(ended).toEqual(['a84b4c76e66710@carrier']);
		// The media closing afterwards is not a second end.
		janus.emit({ type: 'mediaClosed' });
		expect(ended).toEqual(['a84b4c76e66710@carrier']);
		// The statistics stop with the call.
		janus.audio = { ...janus.audio, packetsReceived: 999 };
		await vi.advanceTimersByTimeAsync(5_000);
		expect(phone.stats?.packetsReceived).toBe(100);
	});

	test('F30 a transfer the server refuses (a number without call.outbound) keeps the call as it was and says why', async () => {
		const { janus, phone, ended } = await talking();
		janus.emit({ type: 'held' });
		janus.refuse('transfer', '403 Numbers outside need the permission call.outbound');
		phone.transfer('057188884321');
		expect(phone.call?.phase).toBe('transferring');
		await flush();
		expect(phone.error).toBe(CALL_REFUSED);
		expect(phone.call?.phase).toBe('held');
		expect(ended).toEqual([]);
		// An empty target sends nothing.
		phone.transfer('   ');
		expect(janus.ops('transfer')).toHaveLength(1);
	});

	test('F30 rejecting a ringing call declines it with 603, so the ACD offers it on', async () => {
		const { janus, phone, ended } = await registered();
		phone.reject();
		expect(janus.ops('decline')).toEqual([]);
		janus.emit({ type: 'incoming', from: CALLER, callId: 'reject@carrier' });
		phone.reject();
		expect(janus.ops('decline')).toEqual([{ op: 'decline', code: 603 }]);
		janus.emit({ type: 'hangup', code: 603, reason: 'Decline' });
		expect(phone.call).toBeNull();
		// An incoming call that was not answered says nothing went wrong.
		expect(phone.error).toBe('');
		expect(ended).toEqual(['reject@carrier']);
	});

	test('F30 a call whose audio cannot be set up (no microphone) is declined with 488 and says why', async () => {
		const { janus, phone } = await registered();
		janus.emit({ type: 'incoming', from: CALLER, callId: 'nomic@carrier' });
		janus.failAnswer('Requested device not found');
		phone.answer();
		await flush();
		expect(phone.error).toBe('Requested device not found');
		expect(janus.ops('decline')).toEqual([{ op: 'decline', code: 488 }]);
	});

	test('F30 the caller hangs up while it rings or talks: the call ends once and the server hears of it', async () => {
		const { janus, phone, ended } = await registered();
		janus.emit({ type: 'incoming', from: CALLER, callId: 'cancel@carrier' });
		janus.emit({ type: 'hangup', code: 487, reason: 'Request Terminated' });
		expect(phone.call).toBeNull();
		expect(phone.error).toBe('');
		janus.emit({ type: 'incoming', from: 'sip:3199@callcenter.local', callId: 'bye@carrier' });
		expect(phone.call?.peer).toBe('3199');
		phone.answer();
		await flush();
		janus.emit({ type: 'accepted' });
		janus.emit({ type: 'mediaClosed' });
		janus.emit({ type: 'hangup', code: 200, reason: 'Session Terminated' });
		expect(phone.call).toBeNull();
		expect(ended).toEqual(['cancel@carrier', 'bye@carrier']);
	});

	test('F30 hanging up sends the hangup; the call ends when Janus says so', async () => {
		const { janus, phone } = await talking();
		phone.hangup();
		expect(janus.ops('hangup')).toHaveLength(1);
		expect(phone.call?.phase).toBe('talking');
		janus.emit({ type: 'hangup', code: 200, reason: 'to BYE' });
		expect(phone.call).toBeNull();
		phone.hangup();
		expect(janus.ops('hangup')).toHaveLength(1);
	});
});

describe('F30 dialling out', () => {
	test('F30 dials a number (spaces and dashes dropped) through the proxy; the Call-ID arrives, the called party answers', async () => {
		const { janus, phone, ended } = await registered();
		phone.dial('0571-8888 1234');
		expect(janus.ops('call')).toEqual([{ op: 'call', uri: 'sip:057188881234@callcenter.local' }]);
		expect(phone.call).toMatchObject({
			direction: 'out',
			peer: '057188881234',
			phase: 'calling',
			callId: ''
		});
		// One call at a time.
		phone.dial('3199');
		expect(janus.ops('call')).toHaveLength(1);
		janus.emit({ type: 'calling', callId: 'out-1@callcenter' });
		expect(phone.call?.callId).toBe('out-1@callcenter');
		janus.emit({ type: 'accepted' });
		expect(phone.call?.phase).toBe('talking');
		phone.hangup();
		janus.emit({ type: 'hangup', code: 200, reason: 'to BYE' });
		expect(phone.error).toBe('');
		expect(ended).toEqual(['out-1@callcenter']);
	});

	test('F30 a call that never connects says why (busy, not found)', async () => {
		const { janus, phone } = await registered();
		phone.dial('3199');
		janus.emit({ type: 'calling', callId: 'busy@callcenter' });
		janus.emit({ type: 'hangup', code: 486, reason: 'Busy Here' });
		expect(phone.call).toBeNull();
		expect(phone.error).toBe('486 Busy Here');
		// The next dial starts clean.
		phone.dial('3198');
		expect(phone.error).toBe('');
	});

	test('F30 a dial the server refuses (a number without call.outbound) leaves no call, says why, and the line stays registered', async () => {
		const { janus, phone, ended } = await registered();
		janus.refuse('call', '403 Numbers outside need the permission call.outbound');
		phone.dial('0571-8888 4321');
		await flush();
		expect(phone.call).toBeNull();
		expect(phone.error).toBe(CALL_REFUSED);
		expect(phone.line).toBe('registered');
		expect(ended).toEqual([]);
		// And the agent may dial again.
		phone.dial('3199');
		expect(janus.ops('call')).toHaveLength(2);
	});

	test('F30 nothing is dialled before the line is registered, or without a number', async () => {
		const { janus, phone } = setUp();
		phone.dial('3199');
		await phone.start();
		phone.dial('3199');
		expect(janus.ops('call')).toEqual([]);
		janus.emit({ type: 'registered' });
		phone.dial(' - ');
		expect(janus.ops('call')).toEqual([]);
		expect(phone.call).toBeNull();
	});
});

describe('#17 F30 consultation and attended transfer on the second line', () => {
	async function withSecondLine(callId = 'hot-1@carrier') {
		const s = await talking(callId);
		s.janus.emit({ type: 'registered', line: 'second' });
		expect(s.phone.secondLine).toBe(true);
		return s;
	}

	test('#17 F30 the agent holds the caller, consults a colleague on the second line, and completes the transfer with Replaces; both calls then leave this phone', async () => {
		const { janus, phone, ended } = await withSecondLine();
		phone.consultWith(' 3002 ');
		expect(janus.ops('hold')).toEqual([{ op: 'hold' }]);
		expect(janus.ops('call')).toEqual([
			{ op: 'call', uri: 'sip:3002@callcenter.local', line: 'second' }
		]);
		janus.emit({ type: 'held' });
		janus.emit({ type: 'calling', callId: 'consult-1', line: 'second' });
		expect(phone.call).toMatchObject({ line: 'main', phase: 'held', peer: '+8657188887777' });
		expect(phone.consult).toMatchObject({
			line: 'second',
			peer: '3002',
			callId: 'consult-1',
			phase: 'calling'
		});
		// Not before the colleague answered; then the caller goes to the colleague in the consultation's place.
		phone.completeTransfer();
		expect(janus.ops('transfer')).toEqual([]);
		janus.emit({ type: 'accepted', line: 'second' });
		expect(phone.consult?.phase).toBe('talking');
		// A blind transfer or a second consultation is not offered meanwhile.
		phone.transfer('3003');
		phone.consultWith('3003');
		expect(janus.ops('transfer')).toEqual([]);
		expect(janus.ops('call')).toHaveLength(1);
		phone.completeTransfer();
		expect(janus.ops('transfer')).toEqual([
			{ op: 'transfer', uri: 'sip:3002@callcenter.local', replace: 'consult-1' }
		]);
		expect(phone.call?.phase).toBe('transferring');
		await flush();
		expect(phone.error).toBe('');
		// The colleague's phone hangs up the consultation it replaced; the carrier ends the caller's leg here.
		janus.emit({ type: 'hangup', code: 200, reason: 'Session Terminated', line: 'second' });
		expect(phone.consult).toBeNull();
		expect(phone.call?.phase).toBe('transferring');
		expect(janus.ops('resume')).toEqual([]);
		janus.emit({ type: 'hangup', code: 200, reason: 'Session Terminated' });
		expect(phone.call).toBeNull();
		expect(ended).toEqual(['consult-1', 'hot-1@carrier']);
	});

	test('#17 F30 the agent goes back to the caller: the consultation is hung up and the caller taken off hold; a colleague who is busy or refused says why', async () => {
		const { janus, phone, ended } = await withSecondLine();
		phone.consultWith('3002');
		janus.emit({ type: 'held' });
		janus.emit({ type: 'calling', callId: 'consult-1', line: 'second' });
		janus.emit({ type: 'accepted', line: 'second' });
		// 挂断 (or its key) during a consultation ends the consultation, not the held caller.
		phone.hangup();
		expect(janus.ops('hangup')).toEqual([{ op: 'hangup', line: 'second' }]);
		expect(phone.consult).toBeNull();
		expect(janus.ops('resume')).toEqual([{ op: 'resume' }]);
		janus.emit({ type: 'resumed' });
		expect(phone.call?.phase).toBe('talking');
		// The consultation's own hangup afterwards ends nothing more.
		janus.emit({ type: 'hangup', code: 200, reason: 'BYE', line: 'second' });
		expect(phone.call?.phase).toBe('talking');
		expect(ended).toEqual(['consult-1']);

		// A colleague who is busy: the consultation ends with the reason, the caller is back.
		phone.consultWith('3002');
		janus.emit({ type: 'held' });
		janus.emit({ type: 'calling', callId: 'consult-2', line: 'second' });
		janus.emit({ type: 'hangup', code: 486, reason: 'Busy Here', line: 'second' });
		expect(phone.consult).toBeNull();
		expect(phone.error).toBe('486 Busy Here');
		expect(janus.ops('resume')).toHaveLength(2);
		janus.emit({ type: 'resumed' });

		// A number the server refuses: no consultation, the reason shown, the caller back.
		janus.refuse('call', '403 Numbers outside need the permission call.outbound');
		phone.consultWith('057188884321');
		await flush();
		expect(phone.consult).toBeNull();
		expect(phone.error).toBe(CALL_REFUSED);
		expect(janus.ops('resume')).toHaveLength(3);
		expect(phone.call?.line).toBe('main');
	});

	test('#17 F30 a held caller stays held when the agent had held them before consulting; the caller hanging up leaves the agent with the colleague', async () => {
		const { janus, phone, ended } = await withSecondLine();
		phone.hold();
		janus.emit({ type: 'held' });
		phone.consultWith('3002');
		expect(janus.ops('hold')).toHaveLength(1);
		janus.emit({ type: 'calling', callId: 'consult-1', line: 'second' });
		janus.emit({ type: 'accepted', line: 'second' });
		phone.cancelConsult();
		expect(janus.ops('resume')).toEqual([]);
		expect(phone.call?.phase).toBe('held');

		phone.consultWith('3002');
		janus.emit({ type: 'calling', callId: 'consult-2', line: 'second' });
		janus.emit({ type: 'accepted', line: 'second' });
		janus.emit({ type: 'hangup', code: 200, reason: 'BYE' });
		expect(phone.call).toMatchObject({ line: 'second', peer: '3002', phase: 'talking' });
		expect(phone.consult).toBeNull();
		expect(ended).toEqual(['consult-1', 'hot-1@carrier']);
		// Hanging up now ends the colleague's call, on its line.
		phone.hangup();
		expect(janus.ops('hangup').at(-1)).toEqual({ op: 'hangup', line: 'second' });
	});

	test('#17 F30 at the colleague’s phone the caller arrives in place of the consultation: answered at once, the consultation hung up; any other call meanwhile is busy', async () => {
		const { janus, phone, ended } = await registered();
		janus.emit({ type: 'registered', line: 'second' });
		// The consultation rings like any call and is answered.
		janus.emit({ type: 'incoming', from: 'sip:3001@callcenter.local', callId: 'consult-1' });
		phone.answer();
		await flush();
		janus.emit({ type: 'accepted' });
		expect(phone.call).toMatchObject({ peer: '3001', phase: 'talking', line: 'main' });
		// A hotline call offered meanwhile reaches the free line: busy.
		janus.emit({ type: 'incoming', from: CALLER, callId: 'other', line: 'second' });
		expect(janus.ops('decline')).toEqual([{ op: 'decline', code: 486, line: 'second' }]);
		janus.emit({ type: 'hangup', code: 486, reason: 'Busy Here', line: 'second' });
		expect(phone.call?.callId).toBe('consult-1');
		// A call replacing some other call is busy too.
		janus.emit({
			type: 'incoming',
			from: CALLER,
			callId: 'forged',
			replaces: 'not-this-phone',
			line: 'second'
		});
		expect(janus.ops('decline')).toHaveLength(2);
		// The caller, replacing the consultation: answered without a ring.
		janus.emit({
			type: 'incoming',
			from: CALLER,
			callId: 'transferred-1',
			replaces: 'consult-1',
			line: 'second'
		});
		await flush();
		expect(janus.ops('answer')).toEqual([{ op: 'answer' }, { op: 'answer', line: 'second' }]);
		expect(phone.call?.callId).toBe('consult-1');
		janus.emit({ type: 'accepted', line: 'second' });
		expect(phone.call).toMatchObject({
			line: 'second',
			peer: '+8657188887777',
			callId: 'transferred-1',
			phase: 'talking'
		});
		expect(janus.ops('hangup')).toEqual([{ op: 'hangup' }]);
		expect(ended).toEqual(['consult-1']);
		// The consultation's end afterwards ends nothing more.
		janus.emit({ type: 'hangup', code: 200, reason: 'BYE' });
		janus.emit({ type: 'mediaClosed' });
		expect(phone.call?.callId).toBe('transferred-1');
		// The agent can hold and hang up the caller's call on its line.
		phone.hold();
		phone.hangup();
		expect(janus.ops('hold')).toEqual([{ op: 'hold', line: 'second' }]);
		expect(janus.ops('hangup').at(-1)).toEqual({ op: 'hangup', line: 'second' });
	});

	test('#17 F30 a transfer the target does not take (its NOTIFY says 404, or nothing is heard within 20 s) leaves the caller with the agent, as before', async () => {
		const { janus, phone, ended } = await withSecondLine();
		phone.consultWith('057188884321');
		janus.emit({ type: 'held' });
		janus.emit({ type: 'calling', callId: 'consult-1', line: 'second' });
		janus.emit({ type: 'accepted', line: 'second' });
		phone.completeTransfer();
		expect(phone.call?.phase).toBe('transferring');
		// On its way, then refused by the target.
		janus.emit({ type: 'transferProgress', status: 100 });
		janus.emit({ type: 'transferProgress', status: 180 });
		expect(phone.call?.phase).toBe('transferring');
		janus.emit({ type: 'transferProgress', status: 404 });
		expect(phone.call?.phase).toBe('held');
		expect(phone.error).toBe(TRANSFER_FAILED);
		expect(phone.consult?.phase).toBe('talking');
		// A second try that is never reported on is given up after the time limit.
		phone.completeTransfer();
		expect(phone.error).toBe('');
		await vi.advanceTimersByTimeAsync(TRANSFER_TIMEOUT_MS - 1);
		expect(phone.call?.phase).toBe('transferring');
		await vi.advanceTimersByTimeAsync(1);
		expect(phone.call?.phase).toBe('held');
		expect(phone.error).toBe(TRANSFER_FAILED);
		// The third goes through: put through (200), then the carrier ends this leg; no error, no late timer.
		phone.completeTransfer();
		janus.emit({ type: 'transferProgress', status: 200 });
		janus.emit({ type: 'hangup', code: 200, reason: 'BYE', line: 'second' });
		janus.emit({ type: 'hangup', code: 200, reason: 'BYE' });
		expect(phone.call).toBeNull();
		await vi.advanceTimersByTimeAsync(TRANSFER_TIMEOUT_MS);
		expect(phone.error).toBe('');
		expect(ended).toEqual(['consult-1', 'hot-1@carrier']);
	});

	test('#17 F30 without a second line there is no consultation', async () => {
		const { janus, phone } = await talking();
		phone.consultWith('3002');
		expect(janus.ops('call')).toEqual([]);
		expect(phone.consult).toBeNull();
		// The second line failing to open leaves the phone as it was.
		janus.emit({ type: 'registered', line: 'second' });
		janus.emit({ type: 'error', message: '453 helper', line: 'second' });
		expect(phone.secondLine).toBe(false);
		expect(phone.error).toBe('');
		expect(phone.call?.phase).toBe('talking');
	});
});

test('F30 the caller number is the user part of the SIP URI', () => {
	expect(sipUser('sip:+8657188887777@carrier.example')).toBe('+8657188887777');
	expect(sipUser('"Agent" <sips:3199@callcenter.local;transport=tls>')).toBe('3199');
	expect(sipUser('sip:%2B86571@x')).toBe('+86571');
	expect(sipUser('anonymous')).toBe('anonymous');
});
