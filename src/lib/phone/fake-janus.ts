/**
 * A phone transport for tests: it records what the softphone asked for and plays Janus's part by hand —
 * events (`emit`), a connection that fails or drops, a server that refuses a call, a transfer or a
 * registration. Where janus-session.ts reports something on its own (the media of a refused call torn down),
 * this fake does the same, in the same order.
 */
import {
	RequestRefused,
	type AudioStats,
	type Line,
	type PhoneEvent,
	type PhoneTransport
} from './types';

/** A request of a call names its line only when it is not the main one. */
type OnLine = { line?: 'second' };
export type FakeRequest =
	| { op: 'connect'; path: string; iceServers: RTCIceServer[] }
	| { op: 'register'; uri: string; secret: string; proxy: string; displayName: string }
	| ({ op: 'call'; uri: string } & OnLine)
	| ({ op: 'answer' } & OnLine)
	| ({ op: 'decline'; code: number } & OnLine)
	| ({ op: 'hangup' } & OnLine)
	| ({ op: 'hold' } & OnLine)
	| ({ op: 'resume' } & OnLine)
	| ({ op: 'mute'; muted: boolean } & OnLine)
	| ({ op: 'dtmf'; digit: string } & OnLine)
	| ({ op: 'transfer'; uri: string; replace?: string } & OnLine)
	| { op: 'close' };

const on = (line: Line): OnLine => (line === 'main' ? {} : { line });

export class FakeJanus implements PhoneTransport {
	/** Everything the softphone asked of the transport, in order. */
	readonly requests: FakeRequest[] = [];
	/** What the peer connection's statistics say (null: no media yet). */
	audio: AudioStats | null = null;
	#listener: (event: PhoneEvent) => void = () => {};
	#muted = false;
	#connectFailure: string | null = null;
	#refusals = new Map<'call' | 'transfer' | 'register', string>();
	#answerFailure: string | null = null;

	/** What the softphone asked for, by kind (`ops('decline')`). */
	ops<K extends FakeRequest['op']>(op: K): Extract<FakeRequest, { op: K }>[] {
		return this.requests.filter((r): r is Extract<FakeRequest, { op: K }> => r.op === op);
	}

	/** Janus reports something. */
	emit(event: PhoneEvent): void {
		this.#listener(event);
	}

	/** The next connection attempt fails (Janus down, the network gone). */
	failConnect(reason: string): void {
		this.#connectFailure = reason;
	}

	/** The server refuses the next such request (the `/janus` proxy's 403). */
	refuse(op: 'call' | 'transfer' | 'register', reason: string): void {
		this.#refusals.set(op, reason);
	}

	/** The browser cannot set up the audio for the next answer (no microphone, refused permission). */
	failAnswer(reason: string): void {
		this.#answerFailure = reason;
	}

	#refused(op: 'call' | 'transfer' | 'register'): RequestRefused | null {
		const reason = this.#refusals.get(op);
		if (reason === undefined) return null;
		this.#refusals.delete(op);
		return new RequestRefused(reason);
	}

	listen(listener: (event: PhoneEvent) => void): void {
		this.#listener = listener;
	}

	connect(options: { path: string; iceServers: RTCIceServer[] }): Promise<void> {
		this.requests.push({ op: 'connect', ...options });
		const failure = this.#connectFailure;
		if (failure === null) return Promise.resolve();
		this.#connectFailure = null;
		// As janus.js does: the connection's error callback reports the loss and the attempt fails.
		this.emit({ type: 'lost', reason: failure });
		return Promise.reject(new Error(failure));
	}

	register(identity: {
		uri: string;
		secret: string;
		proxy: string;
		displayName: string;
	}): Promise<void> {
		this.requests.push({ op: 'register', ...identity });
		const refused = this.#refused('register');
		return refused ? Promise.reject(refused) : Promise.resolve();
	}

	call(uri: string, line: Line = 'main'): Promise<void> {
		this.requests.push({ op: 'call', uri, ...on(line) });
		const refused = this.#refused('call');
		if (!refused) return Promise.resolve();
		// janus-session tears down the offer's peer connection at once; janus.js reports it synchronously.
		this.emit({ type: 'mediaClosed', ...on(line) });
		return Promise.reject(refused);
	}

	answer(line: Line = 'main'): Promise<void> {
		this.requests.push({ op: 'answer', ...on(line) });
		const failure = this.#answerFailure;
		this.#answerFailure = null;
		return failure === null ? Promise.resolve() : Promise.reject(new Error(failure));
	}

	decline(code: number, line: Line = 'main'): void {
		this.requests.push({ op: 'decline', code, ...on(line) });
	}

	hangup(line: Line = 'main'): void {
		this.requests.push({ op: 'hangup', ...on(line) });
	}

	hold(line: Line = 'main'): void {
		this.requests.push({ op: 'hold', ...on(line) });
	}

	resume(line: Line = 'main'): void {
		this.requests.push({ op: 'resume', ...on(line) });
	}

	setMuted(muted: boolean, line: Line = 'main'): boolean {
		this.requests.push({ op: 'mute', muted, ...on(line) });
		this.#muted = muted;
		return this.#muted;
	}

	dtmf(digit: string, line: Line = 'main'): void {
		this.requests.push({ op: 'dtmf', digit, ...on(line) });
	}

	transfer(uri: string, line: Line = 'main', replace?: string): Promise<void> {
		this.requests.push({ op: 'transfer', uri, ...(replace ? { replace } : {}), ...on(line) });
		const refused = this.#refused('transfer');
		return refused ? Promise.reject(refused) : Promise.resolve();
	}

	stats(): Promise<AudioStats | null> {
		return Promise.resolve(this.audio);
	}

	close(): void {
		this.requests.push({ op: 'close' });
	}
}
