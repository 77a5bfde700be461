/**
 * F30 the softphone's words: the line, the call and its audio, and the phone transport — the small interface
 * the softphone drives and `janus-session.ts` implements on janus.js (Janus's SIP plugin over the app's
 * `/janus` WebSocket). Tests drive the same interface with `fake-janus.ts`.
 */

export type LineState = 'off' | 'connecting' | 'registered' | 'failed';

export type CallPhase = 'incoming' | 'calling' | 'talking' | 'held' | 'transferring';

/**
 * #17 the phone's two lines on Janus: `main` (the registered SIP identity) and `second`, a helper handle of
 * the same identity that carries a second call at once — the agent's consultation with a colleague while the
 * caller waits, or (at the colleague's phone) the caller's call that replaces the consultation (attended
 * transfer, INVITE with Replaces).
 */
export type Line = 'main' | 'second';

export interface PhoneCall {
	/** The line the call is on. */
	line: Line;
	direction: 'in' | 'out';
	/** The other party's number (user part of the SIP URI). */
	peer: string;
	/** SIP Call-ID: the same id the ACD and the ticket use. */
	callId: string;
	phase: CallPhase;
	muted: boolean;
	startedAt: number;
	answeredAt: number | null;
	/** The keypad digits the SIP side has taken during this call, in order. */
	digits: string;
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

/** The SIP identity the app issues for this sign-in: the schema the server builds it with. */
export type { PhoneCredentials } from '#shared/wire/telephony';

/** The server (the `/janus` proxy or Janus) refused a request: nothing happened. */
export class RequestRefused extends Error {}

/** What the transport reports, as Janus's SIP plugin reports it, in order, and on which line. */
export type PhoneEvent = PhoneLineEvent & { line?: Line };
type PhoneLineEvent =
	| { type: 'registered' }
	/** The registrar refused the registration (e.g. "403 Forbidden"). */
	| { type: 'registrationFailed'; reason: string }
	/** The SIP plugin refused a request (wrong state, missing element …). */
	| { type: 'error'; message: string }
	/**
	 * A call rings this phone; `from` is the caller's SIP URI. `replaces`: the Call-ID of this phone's call
	 * it takes the place of (an attended transfer to this agent), when it does.
	 */
	| { type: 'incoming'; from: string; callId: string; replaces?: string }
	/** The call this phone dialled is on its way, with its SIP Call-ID. */
	| { type: 'calling'; callId: string }
	/** The call is up (answered here or by the called party); media flows. */
	| { type: 'accepted' }
	| { type: 'held' }
	| { type: 'resumed' }
	/**
	 * How the other side is following this phone's transfer (REFER): the status of the call it placed to the
	 * target, from its NOTIFY (sipfrag) — 100/180 on the way, 200 put through, 300 and up failed.
	 */
	| { type: 'transferProgress'; status: number }
	/** The SIP side took the oldest keypad digit not yet reported. */
	| { type: 'dtmfSent' }
	/** The call ended (either side, or it never connected: busy, not found, declined …). */
	| { type: 'hangup'; code: number | null; reason: string }
	/** The call's media was torn down (after a hangup, or when WebRTC failed). */
	| { type: 'mediaClosed' }
	/** The connection to Janus went away (Janus restarted, the network dropped). */
	| { type: 'lost'; reason: string };

/**
 * The phone's lines over Janus's SIP plugin. Requests are fire-and-forget where the plugin answers with an
 * event; the promises settle where the app needs to know whether the server took the request. Call requests
 * go to the `main` line unless another is named; events without a `line` are the main line's.
 */
export interface PhoneTransport {
	/** Every event of every connection goes to this listener (the softphone's). */
	listen(listener: (event: PhoneEvent) => void): void;
	/** Opens the connection (Janus at the app's `path`) and attaches to the SIP plugin. */
	connect(options: { path: string; iceServers: RTCIceServer[] }): Promise<void>;
	/**
	 * Registers the SIP identity at the proxy; every later call goes through the proxy too. Once registered,
	 * the transport opens the second line by itself (reported as `registered` on the `second` line).
	 */
	register(identity: {
		uri: string;
		secret: string;
		proxy: string;
		displayName: string;
	}): Promise<void>;
	/** Dials out (audio only); rejects with `RequestRefused` when the server refused the target. */
	call(uri: string, line?: Line): Promise<void>;
	/** Answers the ringing call; rejects when the browser could not set up the audio. */
	answer(line?: Line): Promise<void>;
	/** Declines the ringing call with a SIP status (603 Decline, 486 Busy Here, 488 Not Acceptable Here …). */
	decline(code: number, line?: Line): void;
	hangup(line?: Line): void;
	hold(line?: Line): void;
	resume(line?: Line): void;
	/** Mutes or unmutes the microphone; returns whether it is muted now. */
	setMuted(muted: boolean, line?: Line): boolean;
	/** One keypad digit to the other party, as SIP INFO. */
	dtmf(digit: string, line?: Line): void;
	/**
	 * Transfers the line's call (REFER): blind, or — with `replace`, the Call-ID of this phone's call on the
	 * other line — attended, the other party taking the place of that call (Refer-To with Replaces). Rejects
	 * with `RequestRefused` when the server refused the target.
	 */
	transfer(uri: string, line?: Line, replace?: string): Promise<void>;
	/** The line's audio statistics now, or null without media. */
	stats(line?: Line): Promise<AudioStats | null>;
	/** Ends the connection (Janus then ends its calls and registration); safe when already gone. */
	close(): void;
}
