/**
 * The IVR engine: for each call the SIP UA hands over, it sets the call up in rtpengine (offer with the
 * caller's SDP, answer with a local sink's — the menu has no media of its own, rtpengine plays the prompts),
 * runs the menu state machine on the caller's keys (RFC 2833 from rtpengine's DTMF log, SIP INFO), and when
 * the menu queues the call emits `handoff` — and, given `route`, bridges the caller to that SIP URI: INVITE
 * with the SDP of the first offer, rtpengine answered again with the agent's SDP (`port-latching` keeps the
 * caller's port). Whoever hangs up, the other leg is hung up and the call deleted in rtpengine.
 */
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import {
	initialMenuState,
	stepMenu,
	validateMenu,
	type MenuAction,
	type MenuInput,
	type MenuPhase,
	type MenuState,
	type MenuTree
} from './menu';
import {
	now,
	type DtmfEvent,
	type DtmfListener,
	type NgClient,
	type UdpAddress
} from './rtpengine';
import {
	parseSipUri,
	type CallEnd,
	type IncomingCall,
	type OutgoingCall,
	type SipUa
} from './sip-ua';

/** What the agents' side needs to know of a call the menu queued. */
export interface Handoff {
	callId: string;
	/** The caller's URI (From). */
	caller: string;
	/** The number the caller dialled (the user of the INVITE's request URI; '' when it has none). */
	called: string;
	queue: string;
	/** Menu nodes entered, root first. */
	path: string[];
	/** Keys pressed, in order. */
	keys: string[];
	/** `key`: the caller chose it; `tries`: no valid key after the menu's tries. */
	reason: 'key' | 'tries';
}

/** A call's menu, and what it plays while the agent's phone rings (instead of `waitPrompt`). */
export type CallMenu = MenuTree & { waitPrompt?: string };

export interface IvrEngineOptions {
	sip: SipUa;
	ng: NgClient;
	dtmf: DtmfListener;
	/**
	 * The menu, or the menu for each call, asked once when the call arrives: the call keeps that tree to its
	 * end (an administrator's change applies from the next call). A function's trees are checked per call; a
	 * broken one turns the call away with 500 rather than strand the caller.
	 */
	menu: MenuTree | ((call: { callId: string; caller: string; called: string }) => CallMenu);
	/** The WAV file of a prompt id (e.g. `synthesize(text)` of the node's text). */
	promptFile: (prompt: string) => string | Promise<string>;
	/** Address for the sink socket rtpengine sends the caller's audio to during the menu (discarded). */
	host: string;
	/** Where to bridge a queued call; null/undefined: only `handoff` is emitted, the caller waits. */
	route?: (handoff: Handoff) => string | null | undefined | Promise<string | null | undefined>;
	/** Played to the caller, over and over, while the agent's phone rings (e.g. "正在为您转接人工服务…"). */
	waitPrompt?: string;
	/** Where the hand-off INVITE goes instead of the target's host:port (Kamailio). */
	proxy?: UdpAddress;
	log?: (msg: string) => void;
}

export type DigitSource = 'rfc2833' | 'info';
export type EndedBy = 'caller' | 'agent' | 'engine' | 'cancel' | 'timeout' | 'error';

export interface IvrEvents {
	call: [{ callId: string; caller: string; at: number }];
	/** 200 OK sent with rtpengine's SDP. */
	answered: [{ callId: string; at: number }];
	/** rtpengine acknowledged `play media`: the prompt's first packets are on their way. */
	prompt: [{ callId: string; prompt: string; durationMs: number; at: number }];
	digit: [{ callId: string; digit: string; via: DigitSource; at: number }];
	/** The menu moved (any input that changed its node, phase, path or keys). */
	menu: [
		{ callId: string; node: string; phase: MenuPhase; path: string[]; keys: string[]; at: number }
	];
	handoff: [Handoff & { at: number }];
	/** The agent answered: caller and agent talk through rtpengine. */
	bridged: [{ callId: string; target: string; at: number }];
	/** The agent did not answer (busy, no answer, unreachable): the caller is back in the menu. */
	'handoff-failed': [{ callId: string; target: string; status: number; at: number }];
	callback: [{ callId: string; caller: string; path: string[]; keys: string[]; at: number }];
	/** The call is over and gone from rtpengine. `phase`: where the menu was (queued = reached the agents). */
	ended: [
		{ callId: string; by: EndedBy; phase: MenuPhase; path: string[]; keys: string[]; at: number }
	];
}

interface Call {
	sip: IncomingCall;
	callId: string;
	fromTag: string;
	toTag: string;
	/** The menu this call runs (its version for the whole call). */
	tree: CallMenu;
	menu: MenuState;
	/** rtpengine's SDP for the other side, from the first offer: the agent's INVITE carries it. */
	calleeSdp?: string;
	/** rtpengine work for this call, in order (a play never overtakes the stop before it). */
	chain: Promise<void>;
	timers: Set<NodeJS.Timeout>;
	playing: boolean;
	agent?: OutgoingCall;
	bridged: boolean;
	ended: boolean;
}

export interface IvrEngine extends EventEmitter<IvrEvents> {
	/** The sink's address (rtpengine sends the caller's audio there during the menu). */
	sink: UdpAddress;
	/** Calls in progress. */
	active(): string[];
	/** Hangs up every call (both legs), deletes them in rtpengine, lets go of the UA and the DTMF log. */
	close(): Promise<void>;
}

/** Starts answering the UA's calls with the menu. @throws MenuError for a broken menu tree. */
export async function startIvrEngine(o: IvrEngineOptions): Promise<IvrEngine> {
	const menuOf = typeof o.menu === 'function' ? o.menu : () => o.menu as MenuTree;
	if (typeof o.menu !== 'function') validateMenu(o.menu);
	const log = o.log ?? (() => {});
	const sink: Socket = createSocket('udp4');
	sink.on('message', () => {});
	sink.on('error', () => {});
	await new Promise<void>((resolve) => sink.bind(0, o.host, () => resolve()));
	const sinkAddress = { host: o.host, port: sink.address().port };
	const sinkSdp = [
		'v=0',
		`o=ivr 1 1 IN IP4 ${o.host}`,
		's=ivr',
		`c=IN IP4 ${o.host}`,
		't=0 0',
		// telephone-event must be in both SDPs, or rtpengine does not decode the caller's RFC 2833 digits.
		`m=audio ${sinkAddress.port} RTP/AVP 8 0 101`,
		'a=rtpmap:8 PCMA/8000',
		'a=rtpmap:0 PCMU/8000',
		'a=rtpmap:101 telephone-event/8000',
		'a=fmtp:101 0-15',
		'a=sendrecv',
		''
	].join('\r\n');

	const calls = new Map<string, Call>();
	const engine = new EventEmitter<IvrEvents>();

	/** Queues rtpengine work for the call; skipped once it ended unless `always`. */
	const later = (call: Call, work: () => Promise<void>, always = false) => {
		call.chain = call.chain
			.then(() => (call.ended && !always ? undefined : work()))
			.catch((err: unknown) => log(`${call.callId}: ${(err as Error).message}`));
		return call.chain;
	};

	const timer = (call: Call, ms: number, fn: () => void) => {
		const t = setTimeout(() => {
			call.timers.delete(t);
			fn();
		}, ms);
		call.timers.add(t);
	};
	const clearTimers = (call: Call) => {
		for (const t of call.timers) clearTimeout(t);
		call.timers.clear();
	};

	function feed(call: Call, input: MenuInput) {
		const before = call.menu;
		const { state, actions } = stepMenu(call.tree, before, input);
		call.menu = state;
		if (
			state.node !== before.node ||
			state.phase !== before.phase ||
			state.path.length !== before.path.length ||
			state.keys.length !== before.keys.length
		) {
			engine.emit('menu', {
				callId: call.callId,
				node: state.node,
				phase: state.phase,
				path: [...state.path],
				keys: [...state.keys],
				at: now()
			});
		}
		for (const action of actions) perform(call, action);
	}

	function perform(call: Call, a: MenuAction) {
		switch (a.type) {
			case 'play':
				clearTimers(call);
				void later(call, async () => {
					let durationMs = 0;
					try {
						const file = await o.promptFile(a.prompt);
						if (call.ended) return;
						durationMs = await o.ng.playMedia(call, file);
						call.playing = true;
						engine.emit('prompt', { callId: call.callId, prompt: a.prompt, durationMs, at: now() });
					} catch (err) {
						// A missing or broken prompt must not strand the caller: the menu goes on as if heard.
						log(`${call.callId}: prompt ${a.prompt} not played: ${(err as Error).message}`);
					}
					timer(call, durationMs, () => feed(call, { type: 'prompt-ended', playId: a.playId }));
				});
				return;
			case 'stop-prompt':
				clearTimers(call);
				void later(call, async () => {
					if (!call.playing) return;
					call.playing = false;
					await o.ng.stopMedia(call);
				});
				return;
			case 'wait':
				timer(call, a.ms, () => feed(call, { type: 'timeout', playId: a.playId }));
				return;
			case 'queue': {
				const handoff: Handoff = {
					callId: call.callId,
					caller: call.sip.caller,
					called: parseSipUri(call.sip.invite.uri)?.user ?? '',
					queue: a.queue,
					path: a.path,
					keys: a.keys,
					reason: a.reason
				};
				engine.emit('handoff', { ...handoff, at: now() });
				if (o.route) void later(call, () => bridge(call, handoff));
				return;
			}
			case 'callback':
				engine.emit('callback', {
					callId: call.callId,
					caller: call.sip.caller,
					path: a.path,
					keys: a.keys,
					at: now()
				});
				return;
			case 'hangup':
				call.sip.hangup();
				return;
		}
	}

	async function bridge(call: Call, handoff: Handoff) {
		const target = await o.route!(handoff);
		if (!target || call.ended) return;
		if (call.playing) {
			call.playing = false;
			await o.ng.stopMedia(call);
		}
		const agent = o.sip.invite({
			target,
			sdp: call.calleeSdp!,
			proxy: o.proxy,
			// The agent's phone shows who is calling, not the menu.
			...(parseSipUri(handoff.caller)?.user ? { fromUser: parseSipUri(handoff.caller)!.user } : {}),
			headers: {
				// Who is calling, for the distribution's screen pop (Kamailio trusts it from the menu only).
				'P-Asserted-Identity': `<${handoff.caller}>`,
				'X-IVR-Call-ID': call.callId,
				'X-IVR-Queue': handoff.queue,
				'X-IVR-Path': handoff.path.join(','),
				'X-IVR-Keys': handoff.keys.join('')
			}
		});
		call.agent = agent;
		// The caller hears the waiting prompt while the agent's phone rings.
		const waitPrompt = call.tree.waitPrompt ?? o.waitPrompt;
		if (waitPrompt) {
			const prompt = waitPrompt;
			void later(call, async () => {
				try {
					const file = await o.promptFile(prompt);
					if (call.ended || call.agent !== agent) return;
					await o.ng.playMedia(call, file, 100);
					call.playing = true;
				} catch (err) {
					log(`${call.callId}: waiting prompt not played: ${(err as Error).message}`);
				}
			});
		}
		const stopWaiting = async () => {
			if (!call.playing) return;
			call.playing = false;
			await o.ng.stopMedia(call);
		};
		let answered = false;
		agent.once('answered', (sdp) => {
			answered = true;
			void later(call, async () => {
				await stopWaiting();
				await o.ng.answer(call, sdp);
				call.bridged = true;
				engine.emit('bridged', { callId: call.callId, target, at: now() });
			});
		});
		agent.once('ended', (how: CallEnd) => {
			if (call.ended) return;
			if (answered) {
				call.sip.hangup();
				return;
			}
			call.agent = undefined;
			engine.emit('handoff-failed', { callId: call.callId, target, status: how.status, at: now() });
			void later(call, stopWaiting);
			feed(call, { type: 'handoff-failed' });
		});
	}

	function end(call: Call, by: EndedBy) {
		if (call.ended) return;
		call.ended = true;
		clearTimers(call);
		// Where the menu was when the call ended (queued: it reached the agents), for the call record.
		const phase = call.menu.phase;
		call.menu = stepMenu(call.tree, call.menu, { type: 'hangup' }).state;
		call.agent?.hangup();
		// After whatever rtpengine work is under way (an offer still in flight would create the call again).
		void later(
			call,
			async () => {
				await o.ng
					.delete(call.callId)
					.catch((err: unknown) => log(`${call.callId}: delete: ${(err as Error).message}`));
				calls.delete(call.callId);
				engine.emit('ended', {
					callId: call.callId,
					by,
					phase,
					path: [...call.menu.path],
					keys: [...call.menu.keys],
					at: now()
				});
			},
			true
		);
	}

	function onInvite(sip: IncomingCall) {
		if (calls.has(sip.callId)) return sip.reject(482, 'Loop Detected');
		let tree: CallMenu;
		try {
			tree = menuOf({
				callId: sip.callId,
				caller: sip.caller,
				called: parseSipUri(sip.invite.uri)?.user ?? ''
			});
			validateMenu(tree);
		} catch (err) {
			log(`${sip.callId}: no menu to answer with: ${(err as Error).message}`);
			return sip.reject(500, 'Voice Menu Unavailable');
		}
		const call: Call = {
			sip,
			callId: sip.callId,
			fromTag: sip.fromTag,
			toTag: sip.toTag,
			tree,
			menu: initialMenuState(tree),
			chain: Promise.resolve(),
			timers: new Set(),
			playing: false,
			bridged: false,
			ended: false
		};
		calls.set(call.callId, call);
		engine.emit('call', { callId: call.callId, caller: sip.caller, at: sip.at });
		sip.on('dtmf', ({ digit, at }) => onDigit(call, digit, 'info', at));
		sip.once('ended', (how) => {
			const by: EndedBy = how.by === 'remote' ? 'caller' : how.by === 'local' ? 'engine' : how.by;
			end(call, by);
		});
		void later(call, async () => {
			try {
				call.calleeSdp = await o.ng.offer(call, sip.sdp);
				const sdp = await o.ng.answer(call, sinkSdp);
				if (!sip.answer(sdp)) return;
			} catch (err) {
				log(`${call.callId}: not answered: ${(err as Error).message}`);
				sip.reject(sip.sdp ? 488 : 400, sip.sdp ? 'Not Acceptable Here' : 'No SDP');
				return;
			}
			engine.emit('answered', { callId: call.callId, at: now() });
			feed(call, { type: 'start' });
		});
	}

	function onDigit(call: Call | undefined, digit: string, via: DigitSource, at: number) {
		if (!call || call.ended) return;
		engine.emit('digit', { callId: call.callId, digit, via, at });
		feed(call, { type: 'digit', digit });
	}

	const onDtmf = (e: DtmfEvent) => {
		const call = calls.get(e.callId);
		// Only the caller's keys: once bridged, the agent's are the agent's business.
		if (call && e.fromTag === call.fromTag) onDigit(call, e.digit, 'rfc2833', e.at);
	};
	o.sip.on('invite', onInvite);
	o.dtmf.on('dtmf', onDtmf);

	return Object.assign(engine, {
		sink: sinkAddress,
		active: () => [...calls.keys()],
		async close() {
			o.sip.off('invite', onInvite);
			o.dtmf.off('dtmf', onDtmf);
			const all = [...calls.values()];
			for (const call of all) {
				call.sip.hangup();
				end(call, 'engine');
			}
			await Promise.all(all.map((c) => c.chain));
			sink.close();
		}
	});
}
