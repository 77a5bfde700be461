/**
 * F30 the softphone: the agent's phone in the browser. janus.js (Janus's SIP plugin over the app's
 * `/janus` WebSocket) sits behind this one module; the rest of the app sees a line state, the current
 * call and its audio statistics, and calls answer / reject / hang up / hold / mute / DTMF / transfer / dial.
 * The SIP identity is issued by the app for this sign-in (`/api/telephony/credentials`).
 */
import Janus, { type JanusJS } from 'janus-gateway';
import adapter from 'webrtc-adapter';
import { api } from '$lib/api/client';

export type LineState = 'off' | 'connecting' | 'registered' | 'failed';
/** `error` when the server refused a call or transfer to that target (shown translated). */
export const CALL_REFUSED = 'refused';

export type CallPhase = 'incoming' | 'calling' | 'talking' | 'held' | 'transferring';

export interface PhoneCall {
	direction: 'in' | 'out';
	/** The other party's number (user part of the SIP URI). */
	peer: string;
	/** SIP Call-ID: the same id the ACD and the ticket use. */
	callId: string;
	phase: CallPhase;
	muted: boolean;
	startedAt: number;
	answeredAt: number | null;
}

export interface AudioStats {
	packetsSent: number;
	packetsReceived: number;
	bytesSent: number;
	bytesReceived: number;
	/** Seconds, as measured by the receiver. */
	jitter: number;
	packetsLost: number;
}

interface Credentials {
	username: string;
	password: string;
	uri: string;
	proxy: string;
	janus: string;
	/** STUN/TURN for browsers behind NAT (TURN_URLS); empty on a LAN. */
	iceServers: RTCIceServer[];
}

const AUDIO_ONLY: JanusJS.TrackOption[] = [{ type: 'audio', capture: true, recv: true }];
const REJECT_CODE = 603;
// Janus or the network went away: try again, waiting longer each time (a restart takes well under a second).
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000; // Decline: the ACD takes the agent out of the rotation and offers the call on.

let initialised: Promise<void> | null = null;
function initJanus(): Promise<void> {
	initialised ??= new Promise((resolve) =>
		Janus.init({
			debug: false,
			dependencies: Janus.useDefaultDependencies({ adapter }),
			callback: () => resolve()
		})
	);
	return initialised;
}

/** The user part of a SIP URI (`sip:+86571…@host` → `+86571…`), or the text itself. */
export function sipUser(uri: string): string {
	const m = /sips?:([^@;>]+)/.exec(uri);
	return m ? decodeURIComponent(m[1]!) : uri;
}

export class Softphone {
	line = $state<LineState>('off');
	error = $state('');
	call = $state<PhoneCall | null>(null);
	stats = $state<AudioStats | null>(null);
	/** Called with the Call-ID when a call of this phone ends, however it ended. */
	onEnded: ((callId: string) => void) | null = null;

	#janus: JanusJS.Janus | null = null;
	#handle: JanusJS.PluginHandle | null = null;
	#domain = '';
	#audio: HTMLAudioElement | null = null;
	#statsTimer: ReturnType<typeof setInterval> | null = null;
	#pendingOffer: JanusJS.JSEP | undefined;
	#stopped = true;
	#retryMs = RETRY_FIRST_MS;
	#retry: ReturnType<typeof setTimeout> | null = null;

	/** Connects to Janus and registers the agent's SIP identity; resolves once registered. */
	async start(): Promise<void> {
		if (this.line === 'connecting' || this.line === 'registered') return;
		this.#stopped = false;
		this.line = 'connecting';
		this.error = '';
		try {
			const credentials = await api<Credentials>('/telephony/credentials', {
				method: 'POST',
				body: {}
			});
			this.#domain = credentials.uri.split('@')[1] ?? '';
			await initJanus();
			const ws = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${credentials.janus}`;
			this.#janus = await new Promise<JanusJS.Janus>((resolve, reject) => {
				const janus: JanusJS.Janus = new Janus({
					server: ws,
					iceServers: credentials.iceServers,
					success: () => resolve(janus),
					error: (e: unknown) => {
						reject(new Error(String(e)));
						this.#lost(String(e));
					}
				});
			});
			this.#handle = await new Promise<JanusJS.PluginHandle>((resolve, reject) =>
				this.#janus!.attach({
					plugin: 'janus.plugin.sip',
					success: resolve,
					error: (e) => reject(new Error(e)),
					onmessage: (msg, jsep) => this.#onMessage(msg, jsep),
					onremotetrack: (track, _mid, on) => this.#onRemoteTrack(track, on),
					oncleanup: () => this.#cleanup()
				})
			);
			this.#handle.send({
				message: {
					request: 'register',
					username: credentials.uri,
					secret: credentials.password,
					proxy: credentials.proxy,
					// Calls go through Kamailio too, whatever the domain in the address.
					outbound_proxy: credentials.proxy,
					display_name: credentials.username
				}
			});
		} catch (err) {
			this.#lost((err as Error).message);
		}
	}

	stop(): void {
		this.#stopped = true;
		if (this.#retry) clearTimeout(this.#retry);
		this.#retry = null;
		this.#janus?.destroy({ cleanupHandles: true });
		this.#janus = null;
		this.#handle = null;
		this.#cleanup();
		this.line = 'off';
	}

	answer(): void {
		const handle = this.#handle;
		if (!handle || this.call?.phase !== 'incoming') return;
		const jsep = this.#pendingOffer;
		const accept = (answer: JanusJS.JSEP) =>
			handle.send({ message: { request: 'accept' }, jsep: answer });
		const failed = (e: unknown) => {
			this.error = String((e as Error)?.message ?? e);
			handle.send({ message: { request: 'decline', code: 488 } });
		};
		// A caller without SDP in the INVITE (late offer) gets ours in the 200.
		if (jsep) handle.createAnswer({ jsep, tracks: AUDIO_ONLY, success: accept, error: failed });
		else handle.createOffer({ tracks: AUDIO_ONLY, success: accept, error: failed });
	}

	reject(): void {
		if (this.call?.phase !== 'incoming') return;
		this.#handle?.send({ message: { request: 'decline', code: REJECT_CODE } });
	}

	hangup(): void {
		if (!this.call) return;
		this.#handle?.send({ message: { request: 'hangup' } });
	}

	hold(): void {
		if (this.call?.phase === 'talking') {
			this.#handle?.send({ message: { request: 'hold', direction: 'sendonly' } });
		}
	}

	resume(): void {
		if (this.call?.phase === 'held') this.#handle?.send({ message: { request: 'unhold' } });
	}

	toggleMute(): void {
		const handle = this.#handle;
		if (!handle || !this.call) return;
		if (handle.isAudioMuted()) handle.unmuteAudio();
		else handle.muteAudio();
		this.call.muted = handle.isAudioMuted();
	}

	/** A DTMF digit to the other party, as SIP INFO (what IVRs and carriers behind SIP proxies read). */
	dtmf(digit: string): void {
		if (!/^[0-9*#A-D]$/.test(digit) || !this.call) return;
		this.#handle?.send({ message: { request: 'dtmf_info', digit, duration: 160 } });
	}

	/** Blind transfer (REFER) to another agent's ID or a number; the caller leaves this agent's line. */
	transfer(target: string): void {
		const to = target.trim();
		if (!to || !this.call || !this.#handle) return;
		const before = this.call.phase;
		this.#handle.send({
			message: { request: 'transfer', uri: this.#uri(to) },
			// Refused (e.g. a number without call.outbound): the call stays with this agent, who is told why.
			error: () => {
				this.error = CALL_REFUSED;
				if (this.call?.phase === 'transferring') this.call.phase = before;
			}
		});
		this.call.phase = 'transferring';
	}

	/** An outbound call: another agent's ID or a number the carrier takes. */
	dial(number: string): void {
		const handle = this.#handle;
		const to = number.replace(/[\s-]/g, '');
		if (!handle || this.line !== 'registered' || this.call || !to) return;
		this.error = '';
		this.call = {
			direction: 'out',
			peer: to,
			callId: '',
			phase: 'calling',
			muted: false,
			startedAt: Date.now(),
			answeredAt: null
		};
		handle.createOffer({
			tracks: AUDIO_ONLY,
			success: (jsep) =>
				handle.send({
					message: { request: 'call', uri: this.#uri(to) },
					jsep,
					// Refused before it rang (no call.outbound, not a colleague): no call, and the reason shown.
					error: () => {
						this.error = CALL_REFUSED;
						this.call = null;
						handle.hangup();
					}
				}),
			error: (e) => {
				this.error = e.message;
				this.call = null;
			}
		});
	}

	#uri(target: string): string {
		return target.startsWith('sip:') ? target : `sip:${target}@${this.#domain}`;
	}

	#onMessage(msg: JanusJS.Message, jsep?: JanusJS.JSEP) {
		if (msg.error) {
			this.error = String(msg.error);
			if (this.line === 'connecting') this.line = 'failed';
			return;
		}
		const result = (msg.result ?? {}) as Record<string, unknown>;
		const event = String(result.event ?? '');
		switch (event) {
			case 'registered':
				this.line = 'registered';
				this.error = '';
				this.#retryMs = RETRY_FIRST_MS;
				break;
			case 'registration_failed':
				this.#lost(`${String(result.code)} ${String(result.reason)}`);
				break;
			case 'incomingcall':
				this.#pendingOffer = jsep;
				this.call = {
					direction: 'in',
					peer: sipUser(String(result.username ?? '')),
					callId: String(result.call_id ?? msg.call_id ?? ''),
					phase: 'incoming',
					muted: false,
					startedAt: Date.now(),
					answeredAt: null
				};
				break;
			case 'calling':
				if (this.call) this.call.callId = String(result.call_id ?? msg.call_id ?? '');
				break;
			case 'accepted':
				if (jsep) this.#handle?.handleRemoteJsep({ jsep });
				if (this.call) {
					this.call.phase = 'talking';
					this.call.answeredAt = Date.now();
				}
				this.#startStats();
				break;
			case 'updatingcall':
				// The other side changed the media (e.g. its own hold): answer the new offer as it is.
				if (jsep) {
					this.#handle?.createAnswer({
						jsep,
						tracks: [{ type: 'audio', capture: true, recv: true }],
						success: (answer) =>
							this.#handle?.send({ message: { request: 'update' }, jsep: answer })
					});
				}
				break;
			case 'holding':
				if (this.call) this.call.phase = 'held';
				break;
			case 'resuming':
				if (this.call) this.call.phase = 'talking';
				break;
			case 'hangup':
				// A call that never connected says why (busy, not found, declined…).
				if (this.call && !this.call.answeredAt && this.call.direction === 'out') {
					this.error = `${String(result.code ?? '')} ${String(result.reason ?? '')}`.trim();
				}
				this.#handle?.hangup(false);
				this.#cleanup();
				break;
			default:
				if (jsep) this.#handle?.handleRemoteJsep({ jsep });
		}
	}

	#onRemoteTrack(track: MediaStreamTrack, on: boolean) {
		if (track.kind !== 'audio') return;
		if (!on) {
			if (this.#audio) this.#audio.srcObject = null;
			return;
		}
		this.#audio ??= new Audio();
		this.#audio.autoplay = true;
		this.#audio.srcObject = new MediaStream([track]);
		void this.#audio.play().catch(() => {});
	}

	#startStats() {
		if (this.#statsTimer) return;
		const sample = async () => {
			const pc = this.#handle?.webrtcStuff?.pc;
			if (!pc) return;
			const report = await pc.getStats();
			const s: AudioStats = {
				packetsSent: 0,
				packetsReceived: 0,
				bytesSent: 0,
				bytesReceived: 0,
				jitter: 0,
				packetsLost: 0
			};
			report.forEach((r: Record<string, unknown>) => {
				if (r.kind !== 'audio') return;
				if (r.type === 'outbound-rtp') {
					s.packetsSent += Number(r.packetsSent ?? 0);
					s.bytesSent += Number(r.bytesSent ?? 0);
				} else if (r.type === 'inbound-rtp') {
					s.packetsReceived += Number(r.packetsReceived ?? 0);
					s.bytesReceived += Number(r.bytesReceived ?? 0);
					s.jitter = Number(r.jitter ?? 0);
					s.packetsLost += Number(r.packetsLost ?? 0);
				}
			});
			this.stats = s;
		};
		this.#statsTimer = setInterval(() => void sample(), 1_000);
		void sample();
	}

	#cleanup() {
		const ended = this.call?.callId;
		if (ended) this.onEnded?.(ended);
		if (this.#statsTimer) clearInterval(this.#statsTimer);
		this.#statsTimer = null;
		this.#pendingOffer = undefined;
		if (this.#audio) this.#audio.srcObject = null;
		this.call = null;
	}

	#lost(reason: string) {
		this.error = reason;
		this.line = 'failed';
		this.#handle = null;
		this.#janus = null;
		this.#cleanup();
		if (this.#stopped || this.#retry) return;
		this.#retry = setTimeout(() => {
			this.#retry = null;
			if (!this.#stopped && this.line === 'failed') void this.start();
		}, this.#retryMs);
		this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
	}
}
