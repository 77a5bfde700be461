/**
 * #14 the janus.js door: with janus.js replaced by a recorder, each thing the softphone does becomes exactly
 * the SIP plugin request it was before the split — the closed list the `/janus` proxy admits
 * (server/telephony/janus-proxy.ts): register, call, accept, decline, hangup, hold, unhold, dtmf_info,
 * transfer and update, each with these fields and no others — and Janus's events come back as PhoneEvents.
 */
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { RequestRefused, type PhoneEvent } from './types';

interface Sent {
	message: Record<string, unknown>;
	jsep?: { type: string; sdp: string };
	success?: () => void;
	error?: (reason: string) => void;
}

/** janus.js as the door uses it, recording what goes out and letting the test answer. */
const recorder = vi.hoisted(() => {
	class Handle {
		sent: Sent[] = [];
		offers = 0;
		answers: unknown[] = [];
		remote: unknown[] = [];
		hangups: (boolean | undefined)[] = [];
		muted = false;
		webrtcStuff = { pc: null };
		constructor(readonly callbacks: Record<string, (...args: unknown[]) => void>) {}
		send(sent: Sent) {
			this.sent.push(sent);
		}
		createOffer(p: { tracks: unknown; success: (jsep: unknown) => void }) {
			this.offers += 1;
			p.success({ type: 'offer', sdp: `v=0 offer ${this.offers}` });
		}
		createAnswer(p: { jsep: unknown; tracks: unknown; success: (jsep: unknown) => void }) {
			this.answers.push({ jsep: p.jsep, tracks: p.tracks });
			p.success({ type: 'answer', sdp: 'v=0 answer' });
		}
		handleRemoteJsep(p: { jsep: unknown }) {
			this.remote.push(p.jsep);
		}
		hangup(sendRequest?: boolean) {
			this.hangups.push(sendRequest);
			this.callbacks.oncleanup?.();
		}
		isAudioMuted() {
			return this.muted;
		}
		muteAudio() {
			this.muted = true;
		}
		unmuteAudio() {
			this.muted = false;
		}
	}
	class Session {
		static instances: Session[] = [];
		handle: Handle | null = null;
		destroyed: unknown[] = [];
		attached: Record<string, unknown>[] = [];
		constructor(readonly options: Record<string, (...args: unknown[]) => void> & object) {
			Session.instances.push(this);
			queueMicrotask(() => this.options.success?.());
		}
		attach(options: Record<string, (...args: unknown[]) => void> & { plugin: string }) {
			this.attached.push({ plugin: options.plugin });
			this.handle = new Handle(options);
			options.success?.(this.handle);
		}
		destroy(options: unknown) {
			this.destroyed.push(options);
		}
		static init(o: { callback: () => void }) {
			o.callback();
		}
		static useDefaultDependencies(deps: unknown) {
			return deps;
		}
	}
	return { Session };
});

vi.mock('janus-gateway', () => ({ default: recorder.Session }));
vi.mock('webrtc-adapter', () => ({ default: {} }));

const { createJanusSession } = await import('./janus-session');

const AUDIO_ONLY = [{ type: 'audio', capture: true, recv: true }];

async function connected() {
	const transport = createJanusSession();
	const events: PhoneEvent[] = [];
	transport.listen((e) => events.push(e));
	await transport.connect({ path: '/janus', iceServers: [] });
	const session = recorder.Session.instances.at(-1)!;
	const handle = session.handle!;
	/** Janus's SIP plugin reports an event. */
	const event = (result: Record<string, unknown>, jsep?: unknown) =>
		handle.callbacks.onmessage?.({ sip: 'event', result }, jsep);
	/** The bodies sent so far, acknowledged by Janus. */
	const bodies = () =>
		handle.sent.map((s) => {
			s.success?.();
			return s.jsep ? { ...s.message, jsep: s.jsep.type } : s.message;
		});
	return { transport, events, session, handle, event, bodies };
}

beforeEach(() => {
	recorder.Session.instances.length = 0;
	vi.stubGlobal('location', { protocol: 'https:', host: 'cc.example.cn' });
});
afterEach(() => {
	vi.unstubAllGlobals();
});

test('#14 F30 connects to Janus at the app’s /janus, attaches the SIP plugin and registers with exactly the fields the proxy admits', async () => {
	const { transport, session, bodies } = await connected();
	expect(session.options.server).toBe('wss://cc.example.cn/janus');
	expect(session.attached).toEqual([{ plugin: 'janus.plugin.sip' }]);
	const registering = transport.register({
		uri: 'sip:1001@callcenter.local',
		secret: 's3cret',
		proxy: 'sip:127.0.0.1:5060',
		displayName: '1001'
	});
	expect(bodies()).toEqual([
		{
			request: 'register',
			username: 'sip:1001@callcenter.local',
			secret: 's3cret',
			proxy: 'sip:127.0.0.1:5060',
			outbound_proxy: 'sip:127.0.0.1:5060',
			display_name: '1001'
		}
	]);
	await expect(registering).resolves.toBeUndefined();
});

test('#14 F30 an incoming call answered, held, resumed, keyed, updated by the other side, transferred and declined: the requests the proxy admits, nothing else', async () => {
	const { transport, events, handle, event, bodies } = await connected();
	const offer = { type: 'offer', sdp: 'v=0 caller' };
	event(
		{
			event: 'incomingcall',
			username: 'sip:+8657188887777@carrier.example',
			call_id: 'c1@carrier'
		},
		offer
	);
	expect(events.at(-1)).toEqual({
		type: 'incoming',
		from: 'sip:+8657188887777@carrier.example',
		callId: 'c1@carrier'
	});
	await transport.answer();
	expect(handle.answers).toEqual([{ jsep: offer, tracks: AUDIO_ONLY }]);
	event({ event: 'accepted' }, { type: 'answer', sdp: 'v=0 remote' });
	expect(handle.remote).toHaveLength(1);
	expect(events.at(-1)).toEqual({ type: 'accepted' });
	transport.hold();
	event({ event: 'holding' });
	transport.resume();
	event({ event: 'resuming' });
	transport.dtmf('5');
	event({ event: 'dtmfsent' });
	// The other side's re-INVITE (its own hold) is answered as it is.
	event({ event: 'updatingcall' }, { type: 'offer', sdp: 'v=0 sendonly' });
	const transferred = transport.transfer('sip:3199@callcenter.local');
	expect(transport.setMuted(true)).toBe(true);
	expect(transport.setMuted(false)).toBe(false);
	transport.decline(603);
	transport.hangup();
	expect(bodies()).toEqual([
		{ request: 'accept', jsep: 'answer' },
		{ request: 'hold', direction: 'sendonly' },
		{ request: 'unhold' },
		{ request: 'dtmf_info', digit: '5', duration: 160 },
		{ request: 'update', jsep: 'answer' },
		{ request: 'transfer', uri: 'sip:3199@callcenter.local' },
		{ request: 'decline', code: 603 },
		{ request: 'hangup' }
	]);
	await expect(transferred).resolves.toBeUndefined();
	expect(events.map((e) => e.type)).toEqual([
		'incoming',
		'accepted',
		'held',
		'resumed',
		'dtmfSent'
	]);

	// The call ends: the reason is reported first, then the media goes (without a request of its own).
	event({ event: 'hangup', code: 200, reason: 'Session Terminated' });
	expect(events.slice(-2)).toEqual([
		{ type: 'hangup', code: 200, reason: 'Session Terminated' },
		{ type: 'mediaClosed' }
	]);
	expect(handle.hangups).toEqual([false]);
});

test('#14 F30 a caller without SDP (late offer) gets ours in the 200', async () => {
	const { transport, handle, event, bodies } = await connected();
	event({ event: 'incomingcall', username: 'sip:3199@callcenter.local', call_id: 'late@x' });
	await transport.answer();
	expect(handle.answers).toEqual([]);
	expect(handle.offers).toBe(1);
	expect(bodies()).toEqual([{ request: 'accept', jsep: 'offer' }]);
});

test('#14 F30 dialling sends call with our offer; a refusal rejects as refused and closes the offer’s media', async () => {
	const { transport, events, handle, event, bodies } = await connected();
	const dialled = transport.call('sip:057188881234@callcenter.local');
	expect(bodies()).toEqual([
		{ request: 'call', uri: 'sip:057188881234@callcenter.local', jsep: 'offer' }
	]);
	await expect(dialled).resolves.toBeUndefined();
	event({ event: 'calling', call_id: 'out@x' });
	expect(events.at(-1)).toEqual({ type: 'calling', callId: 'out@x' });

	const refused = transport.call('sip:057188884321@callcenter.local');
	handle.sent.at(-1)!.error!('403 Numbers outside need the permission call.outbound');
	await expect(refused).rejects.toThrow(
		new RequestRefused('403 Numbers outside need the permission call.outbound')
	);
	await expect(refused).rejects.toBeInstanceOf(RequestRefused);
	expect(handle.hangups).toEqual([undefined]);
	expect(events.at(-1)).toEqual({ type: 'mediaClosed' });
});

test('#14 F30 a failed registration and a lost connection are reported; closing destroys the session once', async () => {
	const { transport, events, session, event } = await connected();
	event({ event: 'registration_failed', code: 403, reason: 'Forbidden' });
	expect(events.at(-1)).toEqual({ type: 'registrationFailed', reason: '403 Forbidden' });
	event({ event: 'registered' });
	expect(events.at(-1)).toEqual({ type: 'registered' });
	session.options.error?.('Lost connection to the server (is it down?)');
	expect(events.at(-1)).toEqual({
		type: 'lost',
		reason: 'Lost connection to the server (is it down?)'
	});
	transport.close();
	transport.close();
	expect(session.destroyed).toEqual([{ cleanupHandles: true }]);
	// Nothing goes out on a closed connection.
	transport.hangup();
	expect(session.handle!.sent).toEqual([]);
});

test('#17 F30 once the line is registered a second handle becomes its helper; each line’s calls go on its own handle, and a transfer may name the call it replaces', async () => {
	const { transport, events, session, handle: main, event, bodies } = await connected();
	void transport.register({
		uri: 'sip:1001@callcenter.local',
		secret: 's3cret',
		proxy: 'sip:127.0.0.1:5060',
		displayName: '1001'
	});
	bodies();
	main.sent.length = 0;
	event({ event: 'registered', username: '1001', master_id: 31337 });
	await until(() => session.attached.length === 2);
	const second = session.handle!;
	expect(second).not.toBe(main);
	expect(second.sent.map((s) => s.message)).toEqual([
		{ request: 'register', type: 'helper', username: 'sip:1001@callcenter.local', master_id: 31337 }
	]);
	second.sent[0]!.success!();
	const onSecond = (result: Record<string, unknown>, jsep?: unknown) =>
		second.callbacks.onmessage?.({ sip: 'event', result }, jsep);
	onSecond({ event: 'registered', helper: true, master_id: 31337 });
	expect(events.at(-1)).toEqual({ type: 'registered', line: 'second' });

	// The consultation on the second line, the caller's call on the main one.
	const consulting = transport.call('sip:3002@callcenter.local', 'second');
	expect(second.sent.at(-1)!.message).toEqual({
		request: 'call',
		uri: 'sip:3002@callcenter.local'
	});
	second.sent.at(-1)!.success!();
	await consulting;
	onSecond({ event: 'calling', call_id: 'consult-1' });
	onSecond({ event: 'accepted' }, { type: 'answer', sdp: 'v=0 colleague' });
	expect(second.remote).toHaveLength(1);
	expect(events.slice(-2)).toEqual([
		{ type: 'calling', callId: 'consult-1', line: 'second' },
		{ type: 'accepted', line: 'second' }
	]);
	const transferred = transport.transfer('sip:3002@callcenter.local', 'main', 'consult-1');
	expect(bodies()).toEqual([
		{ request: 'transfer', uri: 'sip:3002@callcenter.local', replace: 'consult-1' }
	]);
	await expect(transferred).resolves.toBeUndefined();
	// The transferee's NOTIFYs: the status line of its call to the target; other notifications are not.
	event({ event: 'transferring' });
	event({
		event: 'notify',
		notify: 'refer',
		substate: 'active',
		'content-type': 'message/sipfrag',
		content: 'SIP/2.0 180 Ringing'
	});
	event({ event: 'notify', notify: 'refer', content: 'SIP/2.0 486 Busy Here\r\n' });
	event({ event: 'notify', notify: 'message-summary', content: 'Messages-Waiting: yes' });
	expect(events.slice(-2)).toEqual([
		{ type: 'transferProgress', status: 180 },
		{ type: 'transferProgress', status: 486 }
	]);

	// A call that replaces one of this phone's: the replaced Call-ID comes with it; answered on its line.
	const offer = { type: 'offer', sdp: 'v=0 carrier' };
	onSecond(
		{ event: 'incomingcall', username: 'sip:+86571@carrier', call_id: 'new-1', replaces: 'c-9' },
		offer
	);
	expect(events.at(-1)).toEqual({
		type: 'incoming',
		from: 'sip:+86571@carrier',
		callId: 'new-1',
		replaces: 'c-9',
		line: 'second'
	});
	await transport.answer('second');
	expect(second.answers).toEqual([{ jsep: offer, tracks: AUDIO_ONLY }]);
	expect(main.answers).toEqual([]);
	transport.hangup('second');
	expect(second.sent.slice(2).map((sent) => sent.message)).toEqual([
		{ request: 'accept' },
		{ request: 'hangup' }
	]);
	onSecond({ event: 'hangup', code: 200, reason: 'BYE' });
	expect(events.slice(-2)).toEqual([
		{ type: 'hangup', code: 200, reason: 'BYE', line: 'second' },
		{ type: 'mediaClosed', line: 'second' }
	]);
});

async function until(check: () => boolean) {
	for (let i = 0; i < 100 && !check(); i++) await Promise.resolve();
	expect(check()).toBe(true);
}
