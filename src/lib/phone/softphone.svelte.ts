/**
 * F30 the softphone: the agent's phone in the browser, as a state machine over a `PhoneTransport` (janus.js in
 * the app, `fake-janus.ts` in tests). The rest of the app sees the line, the current call and its audio
 * statistics, and calls answer / reject / hang up / hold / mute / DTMF / transfer / dial. The SIP identity is
 * issued by the app for this sign-in and handed in through `credentials`; a lost line registers again by
 * itself, waiting longer after each failure.
 */
import {
	RequestRefused,
	type AudioStats,
	type LineState,
	type PhoneCall,
	type PhoneCredentials,
	type PhoneEvent,
	type PhoneTransport
} from './types';

export type { AudioStats, CallPhase, LineState, PhoneCall } from './types';

/** `error` when the server refused a call or transfer to that target (shown translated). */
export const CALL_REFUSED = 'refused';

const DECLINE_CODE = 603; // Decline: the ACD takes the agent out of the rotation and offers the call on.
const NOT_ACCEPTABLE_CODE = 488; // the browser could not set up the audio of the call
// Janus or the network went away: try again, waiting longer each time (a restart takes well under a second).
export const RETRY_FIRST_MS = 1_000;
export const RETRY_MAX_MS = 30_000;
const STATS_EVERY_MS = 1_000;

/** The user part of a SIP URI (`sip:+86571…@host` → `+86571…`), or the text itself. */
export function sipUser(uri: string): string {
	const m = /sips?:([^@;>]+)/.exec(uri);
	return m ? decodeURIComponent(m[1]!) : uri;
}

export interface SoftphoneOptions {
	transport: PhoneTransport;
	/** The SIP identity for this sign-in (from the server, through `data/`). */
	credentials: () => Promise<PhoneCredentials>;
}

export class Softphone {
	line = $state<LineState>('off');
	error = $state('');
	call = $state<PhoneCall | null>(null);
	stats = $state<AudioStats | null>(null);
	/** Called with the Call-ID when a call of this phone ends, however it ended. */
	onEnded: ((callId: string) => void) | null = null;

	#transport: PhoneTransport;
	#credentials: () => Promise<PhoneCredentials>;
	/** Connected and attached to the SIP plugin (janus.js's plugin handle exists). */
	#connected = false;
	#domain = '';
	#statsTimer: ReturnType<typeof setInterval> | null = null;
	/** Keypad digits sent and not yet taken by the SIP side, oldest first. */
	#digits: string[] = [];
	#stopped = true;
	#retryMs = RETRY_FIRST_MS;
	#retry: ReturnType<typeof setTimeout> | null = null;

	constructor({ transport, credentials }: SoftphoneOptions) {
		this.#transport = transport;
		this.#credentials = credentials;
		transport.listen((event) => this.#on(event));
	}

	/** Connects and registers the agent's SIP identity (registered once the transport says so). */
	async start(): Promise<void> {
		if (this.line === 'connecting' || this.line === 'registered') return;
		this.#stopped = false;
		this.line = 'connecting';
		this.error = '';
		try {
			const credentials = await this.#credentials();
			if (this.#stopped) return;
			this.#domain = credentials.uri.split('@')[1] ?? '';
			await this.#transport.connect({
				path: credentials.janus,
				iceServers: credentials.iceServers
			});
			// Stopped while connecting (signed out): the connection goes at once, nothing is registered.
			if (this.#stopped) return this.#transport.close();
			this.#connected = true;
			await this.#transport.register({
				uri: credentials.uri,
				secret: credentials.password,
				proxy: credentials.proxy,
				displayName: credentials.username
			});
		} catch (err) {
			if (!this.#stopped) this.#lost(err instanceof Error ? err.message : String(err));
		}
	}

	stop(): void {
		this.#stopped = true;
		if (this.#retry) clearTimeout(this.#retry);
		this.#retry = null;
		this.#connected = false;
		this.#transport.close();
		this.#endCall();
		this.line = 'off';
	}

	answer(): void {
		if (!this.#connected || this.call?.phase !== 'incoming') return;
		this.#transport.answer().catch((err: unknown) => {
			this.error = err instanceof Error ? err.message : String(err);
			this.#transport.decline(NOT_ACCEPTABLE_CODE);
		});
	}

	reject(): void {
		if (!this.#connected || this.call?.phase !== 'incoming') return;
		this.#transport.decline(DECLINE_CODE);
	}

	hangup(): void {
		if (!this.#connected || !this.call) return;
		this.#transport.hangup();
	}

	hold(): void {
		if (this.#connected && this.call?.phase === 'talking') this.#transport.hold();
	}

	resume(): void {
		if (this.#connected && this.call?.phase === 'held') this.#transport.resume();
	}

	toggleMute(): void {
		if (!this.#connected || !this.call) return;
		this.call.muted = this.#transport.setMuted(!this.call.muted);
	}

	/** A DTMF digit to the other party, as SIP INFO (what IVRs and carriers behind SIP proxies read). */
	dtmf(digit: string): void {
		if (!/^[0-9*#A-D]$/.test(digit) || !this.call || !this.#connected) return;
		this.#digits.push(digit);
		this.#transport.dtmf(digit);
	}

	/** Blind transfer (REFER) to another agent's ID or a number; the caller leaves this agent's line. */
	transfer(target: string): void {
		const to = target.trim();
		if (!to || !this.call || !this.#connected) return;
		const call = this.call;
		const before = call.phase;
		call.phase = 'transferring';
		this.#transport.transfer(this.#uri(to)).catch(() => {
			// Refused (e.g. a number without call.outbound): the call stays with this agent, who is told why.
			this.error = CALL_REFUSED;
			if (this.call === call && call.phase === 'transferring') call.phase = before;
		});
	}

	/** An outbound call: another agent's ID or a number the carrier takes. */
	dial(number: string): void {
		const to = number.replace(/[\s-]/g, '');
		if (!this.#connected || this.line !== 'registered' || this.call || !to) return;
		this.error = '';
		this.call = {
			direction: 'out',
			peer: to,
			callId: '',
			phase: 'calling',
			muted: false,
			startedAt: Date.now(),
			answeredAt: null,
			digits: ''
		};
		const call = this.call;
		this.#transport.call(this.#uri(to)).catch((err: unknown) => {
			// Refused before it rang (no call.outbound, not a colleague): no call, and the reason shown.
			this.error =
				err instanceof RequestRefused ? CALL_REFUSED : err instanceof Error ? err.message : '';
			if (this.call === call) this.call = null;
		});
	}

	#uri(target: string): string {
		return target.startsWith('sip:') ? target : `sip:${target}@${this.#domain}`;
	}

	#on(event: PhoneEvent) {
		const call = this.call;
		switch (event.type) {
			case 'registered':
				this.line = 'registered';
				this.error = '';
				this.#retryMs = RETRY_FIRST_MS;
				break;
			case 'registrationFailed':
				this.#lost(event.reason);
				break;
			case 'error':
				this.error = event.message;
				if (this.line === 'connecting') this.line = 'failed';
				break;
			case 'incoming':
				this.call = {
					direction: 'in',
					peer: sipUser(event.from),
					callId: event.callId,
					phase: 'incoming',
					muted: false,
					startedAt: Date.now(),
					answeredAt: null,
					digits: ''
				};
				break;
			case 'calling':
				if (call) call.callId = event.callId;
				break;
			case 'accepted':
				if (call) {
					call.phase = 'talking';
					call.answeredAt = Date.now();
				}
				this.#startStats();
				break;
			case 'held':
				if (call) call.phase = 'held';
				break;
			case 'resumed':
				if (call) call.phase = 'talking';
				break;
			case 'dtmfSent': {
				const digit = this.#digits.shift();
				if (call && digit) call.digits += digit;
				break;
			}
			case 'hangup':
				// A call that never connected says why (busy, not found, declined…).
				if (call && !call.answeredAt && call.direction === 'out') {
					this.error = `${event.code ?? ''} ${event.reason}`.trim();
				}
				this.#endCall();
				break;
			case 'mediaClosed':
				this.#endCall();
				break;
			case 'lost':
				this.#lost(event.reason);
				break;
		}
	}

	#startStats() {
		if (this.#statsTimer) return;
		const sample = async () => {
			const stats = await this.#transport.stats();
			if (stats) this.stats = stats;
		};
		this.#statsTimer = setInterval(() => void sample(), STATS_EVERY_MS);
		void sample();
	}

	/** The call is over, however it ended: the server hears of it, the statistics stop. */
	#endCall() {
		const ended = this.call?.callId;
		this.call = null;
		this.#digits = [];
		if (this.#statsTimer) clearInterval(this.#statsTimer);
		this.#statsTimer = null;
		if (ended) this.onEnded?.(ended);
	}

	#lost(reason: string) {
		this.error = reason;
		this.line = 'failed';
		this.#connected = false;
		this.#transport.close();
		this.#endCall();
		if (this.#stopped || this.#retry) return;
		this.#retry = setTimeout(() => {
			this.#retry = null;
			if (!this.#stopped && this.line === 'failed') void this.start();
		}, this.#retryMs);
		this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
	}
}
