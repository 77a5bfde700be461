/**
 * F30 the softphone: the agent's phone in the browser, as a state machine over a `PhoneTransport` (janus.js in
 * the app, `fake-janus.ts` in tests). The rest of the app sees the line, the current call and its audio
 * statistics, and calls answer / reject / hang up / hold / mute / DTMF / transfer / dial. The SIP identity is
 * issued by the app for this sign-in and handed in through `credentials`; a lost line registers again by
 * itself, waiting longer after each failure.
 *
 * #17 attended transfer (咨询转接) on the phone's second line: the agent holds the caller and consults a
 * colleague (`consultWith`), then completes the transfer (`completeTransfer`: REFER with Replaces, the caller
 * takes the consultation's place at the colleague's phone) or goes back to the caller (`cancelConsult`). At
 * the colleague's phone the caller's call arrives on its free line naming the consultation it replaces: it
 * is answered at once and the consultation hung up, so the colleague is talking with the caller without a
 * second ring. Any other call that arrives while the phone is busy is refused with 486 Busy Here.
 */
import {
	RequestRefused,
	type AudioStats,
	type Line,
	type LineState,
	type PhoneCall,
	type PhoneCredentials,
	type PhoneEvent,
	type PhoneTransport
} from './types';

export type { AudioStats, CallPhase, Line, LineState, PhoneCall } from './types';

/** `error` when the server refused a call or transfer to that target (shown translated). */
export const CALL_REFUSED = 'refused';
/** `error` when a transfer did not go through: the caller is still on this phone (shown translated). */
export const TRANSFER_FAILED = 'transferFailed';
/** A transfer the other side never reports on (its REFER refused, no NOTIFY) is given up after this. */
export const TRANSFER_TIMEOUT_MS = 20_000;

const DECLINE_CODE = 603; // Decline: the ACD takes the agent out of the rotation and offers the call on.
const NOT_ACCEPTABLE_CODE = 488; // the browser could not set up the audio of the call
const BUSY_CODE = 486; // a call that is neither the first nor the one replacing a consultation
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
	/** The agent's call (the caller's, while a consultation goes on beside it). */
	call = $state<PhoneCall | null>(null);
	/** #17 the consultation with a colleague on the other line while `call` waits, or null. */
	consult = $state<PhoneCall | null>(null);
	/** Whether the second line is open (consultations and attended transfers to this agent possible). */
	secondLine = $state(false);
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
	/** A caller's call answered here to replace `call` (an attended transfer to this agent), until it is up. */
	#replacement: PhoneCall | null = null;
	/** The consultation put `call` on hold, so going back to the caller resumes it. */
	#heldForConsult = false;
	/** The transfer on its way: the phase the call goes back to if it fails, and its time limit. */
	#transfer: { before: PhoneCall['phase']; timer: ReturnType<typeof setTimeout> } | null = null;

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
		this.#endAll();
		this.line = 'off';
	}

	answer(): void {
		const call = this.call;
		if (!this.#connected || call?.phase !== 'incoming') return;
		this.#answer(call);
	}

	reject(): void {
		if (!this.#connected || this.call?.phase !== 'incoming') return;
		this.#transport.decline(DECLINE_CODE, this.call.line);
	}

	/**
	 * Hangs up the conversation the agent is in: during a consultation that is the consultation (the caller,
	 * held, is not dropped by a key pressed out of habit; `cancelConsult` then takes them off hold).
	 */
	hangup(): void {
		if (!this.#connected || !this.call) return;
		if (this.consult) return this.cancelConsult();
		this.#transport.hangup(this.call.line);
	}

	hold(): void {
		if (this.#connected && this.call?.phase === 'talking') this.#transport.hold(this.call.line);
	}

	resume(): void {
		if (this.#connected && this.call?.phase === 'held') {
			this.#heldForConsult = false;
			this.#transport.resume(this.call.line);
		}
	}

	toggleMute(): void {
		if (!this.#connected || !this.call) return;
		this.call.muted = this.#transport.setMuted(!this.call.muted, this.call.line);
	}

	/** A DTMF digit to the other party, as SIP INFO (what IVRs and carriers behind SIP proxies read). */
	dtmf(digit: string): void {
		if (!/^[0-9*#A-D]$/.test(digit) || !this.call || !this.#connected) return;
		this.#digits.push(digit);
		this.#transport.dtmf(digit, this.call.line);
	}

	/** Blind transfer (REFER) to another agent's ID or a number; the caller leaves this agent's line. */
	transfer(target: string): void {
		const to = target.trim();
		if (!to || !this.call || !this.#connected || this.consult) return;
		this.#refer(this.call, this.#uri(to));
	}

	/**
	 * #17 consults a colleague (agent ID) or a number before transferring: the caller is held and the
	 * colleague called on the second line.
	 */
	consultWith(target: string): void {
		const to = target.replace(/[\s-]/g, '');
		const call = this.call;
		if (!to || !this.#connected || !this.secondLine || this.consult || this.#replacement) return;
		if (call?.phase !== 'talking' && call?.phase !== 'held') return;
		this.error = '';
		if (call.phase === 'talking') {
			this.#heldForConsult = true;
			this.#transport.hold(call.line);
		}
		this.consult = newCall(other(call.line), 'out', to, '', 'calling');
		const consult = this.consult;
		this.#transport.call(this.#uri(to), consult.line).catch((err: unknown) => {
			this.error =
				err instanceof RequestRefused ? CALL_REFUSED : err instanceof Error ? err.message : '';
			if (this.consult === consult) this.#end(consult.line);
		});
	}

	/**
	 * #17 completes the attended transfer: the caller is sent to the consulted colleague in place of the
	 * consultation (REFER with Replaces), and both calls leave this phone.
	 */
	completeTransfer(): void {
		const call = this.call;
		const consult = this.consult;
		if (!this.#connected || !call || consult?.phase !== 'talking' || !consult.callId) return;
		this.#refer(call, this.#uri(consult.peer), consult.callId);
	}

	/** #17 ends the consultation and goes back to the caller (taking the call off hold when it held it). */
	cancelConsult(): void {
		if (!this.#connected || !this.consult) return;
		this.#transport.hangup(this.consult.line);
		this.#end(this.consult.line);
	}

	/** An outbound call: another agent's ID or a number the carrier takes. */
	dial(number: string): void {
		const to = number.replace(/[\s-]/g, '');
		if (!this.#connected || this.line !== 'registered' || this.call || !to) return;
		this.error = '';
		this.call = newCall('main', 'out', to, '', 'calling');
		const call = this.call;
		this.#transport.call(this.#uri(to), call.line).catch((err: unknown) => {
			// Refused before it rang (no call.outbound, not a colleague): no call, and the reason shown.
			this.error =
				err instanceof RequestRefused ? CALL_REFUSED : err instanceof Error ? err.message : '';
			if (this.call === call) this.call = null;
		});
	}

	#uri(target: string): string {
		return target.startsWith('sip:') ? target : `sip:${target}@${this.#domain}`;
	}

	#answer(call: PhoneCall) {
		this.#transport.answer(call.line).catch((err: unknown) => {
			this.error = err instanceof Error ? err.message : String(err);
			this.#transport.decline(NOT_ACCEPTABLE_CODE, call.line);
		});
	}

	#refer(call: PhoneCall, uri: string, replace?: string) {
		const before = call.phase;
		call.phase = 'transferring';
		this.error = '';
		this.#transferDone();
		this.#transfer = {
			before,
			timer: setTimeout(() => this.#transferFailed(call, TRANSFER_FAILED), TRANSFER_TIMEOUT_MS)
		};
		this.#transport.transfer(uri, call.line, replace).catch(() => {
			// Refused (e.g. a number without call.outbound): the call stays with this agent, who is told why.
			this.#transferFailed(call, CALL_REFUSED);
		});
	}

	/** The transfer did not go through: the call is this agent's again, as it was, and says why. */
	#transferFailed(call: PhoneCall, why: string) {
		const before = this.#transfer?.before;
		this.#transferDone();
		if (this.call !== call || call.phase !== 'transferring' || !before) return;
		call.phase = before;
		this.error = why;
	}

	#transferDone() {
		if (this.#transfer) clearTimeout(this.#transfer.timer);
		this.#transfer = null;
	}

	/** The call on `line`: the agent's, the consultation or the caller's call replacing it. */
	#callOn(line: Line): PhoneCall | null {
		for (const call of [this.call, this.consult, this.#replacement]) {
			if (call?.line === line) return call;
		}
		return null;
	}

	#on(event: PhoneEvent) {
		const line = event.line ?? 'main';
		const call = this.#callOn(line);
		if (line === 'second') {
			switch (event.type) {
				case 'registered':
					this.secondLine = true;
					return;
				case 'registrationFailed':
					this.secondLine = false;
					return;
				case 'error':
					if (call) this.error = event.message;
					else this.secondLine = false;
					return;
			}
		}
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
				this.#incoming(line, event);
				break;
			case 'calling':
				if (call) call.callId = event.callId;
				break;
			case 'accepted':
				if (!call) break;
				call.phase = 'talking';
				call.answeredAt = Date.now();
				if (call === this.#replacement) this.#replaced(call);
				this.#startStats();
				break;
			case 'held':
				if (call) call.phase = 'held';
				break;
			case 'resumed':
				if (call) call.phase = 'talking';
				break;
			case 'transferProgress':
				// The target did not take the call (busy, not found, declined): the caller stays here.
				if (call && event.status >= 300) this.#transferFailed(call, TRANSFER_FAILED);
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
				this.#end(line);
				break;
			case 'mediaClosed':
				this.#end(line);
				break;
			case 'lost':
				this.#lost(event.reason);
				break;
		}
	}

	#incoming(line: Line, event: Extract<PhoneEvent, { type: 'incoming' }>) {
		const ringing = newCall(line, 'in', sipUser(event.from), event.callId, 'incoming');
		if (!this.call && !this.consult) {
			this.call = ringing;
			return;
		}
		const replaced = this.call;
		if (
			event.replaces &&
			replaced?.callId === event.replaces &&
			replaced.line !== line &&
			replaced.answeredAt &&
			!this.consult &&
			!this.#replacement
		) {
			// The caller, sent here by the colleague who consulted this agent: answered at once.
			this.#replacement = ringing;
			this.#answer(ringing);
			return;
		}
		this.#transport.decline(BUSY_CODE, line);
	}

	/** The caller's call is up in place of the consultation: it becomes this agent's call. */
	#replaced(replacement: PhoneCall) {
		const old = this.call;
		this.#replacement = null;
		this.call = replacement;
		this.#digits = [];
		if (!old) return;
		this.#transport.hangup(old.line);
		if (old.callId) this.onEnded?.(old.callId);
	}

	#startStats() {
		if (this.#statsTimer) return;
		const sample = async () => {
			const stats = await this.#transport.stats(this.call?.line);
			if (stats) this.stats = stats;
		};
		this.#statsTimer = setInterval(() => void sample(), STATS_EVERY_MS);
		void sample();
	}

	/** The call on `line` is over, however it ended: the server hears of it, the statistics stop. */
	#end(line: Line) {
		if (this.#replacement?.line === line) {
			this.#replacement = null;
			return;
		}
		if (this.consult?.line === line) {
			const consult = this.consult;
			this.consult = null;
			// Back to the caller, also when the hold is still on its way (its unhold follows it in order).
			const call = this.call;
			if (this.#heldForConsult && (call?.phase === 'held' || call?.phase === 'talking')) {
				this.#transport.resume(call.line);
			}
			this.#heldForConsult = false;
			if (consult.callId) this.onEnded?.(consult.callId);
			return;
		}
		if (this.call?.line !== line) return;
		const ended = this.call.callId;
		this.#transferDone();
		// The caller hung up during a consultation: the agent goes on talking with the colleague.
		this.call = this.consult;
		this.consult = null;
		this.#heldForConsult = false;
		this.#digits = [];
		if (!this.call) this.#stopStats();
		if (ended) this.onEnded?.(ended);
	}

	#endAll() {
		this.#replacement = null;
		if (this.consult) this.#end(this.consult.line);
		if (this.call) this.#end(this.call.line);
		this.#stopStats();
	}

	#stopStats() {
		if (this.#statsTimer) clearInterval(this.#statsTimer);
		this.#statsTimer = null;
	}

	#lost(reason: string) {
		this.error = reason;
		this.line = 'failed';
		this.secondLine = false;
		this.#connected = false;
		this.#transport.close();
		this.#endAll();
		if (this.#stopped || this.#retry) return;
		this.#retry = setTimeout(() => {
			this.#retry = null;
			if (!this.#stopped && this.line === 'failed') void this.start();
		}, this.#retryMs);
		this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
	}
}

const other = (line: Line): Line => (line === 'main' ? 'second' : 'main');

function newCall(
	line: Line,
	direction: PhoneCall['direction'],
	peer: string,
	callId: string,
	phase: PhoneCall['phase']
): PhoneCall {
	return {
		line,
		direction,
		peer,
		callId,
		phase,
		muted: false,
		startedAt: Date.now(),
		answeredAt: null,
		digits: ''
	};
}
