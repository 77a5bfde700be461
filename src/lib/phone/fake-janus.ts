/**
 * A phone transport for tests: it records what the softphone asked for and plays Janus's part by hand —
 * events (`emit`), a connection that fails or drops, a server that refuses a call, a transfer or a
 * registration. Where janus-session.ts reports something on its own (the media of a refused call torn down),
 * this fake does the same, in the same order.
 */
import { RequestRefused, type AudioStats, type PhoneEvent, type PhoneTransport } from './types';

export type FakeRequest =
	| { op: 'connect'; path: string; iceServers: RTCIceServer[] }
	| { op: 'register'; uri: string; secret: string; proxy: string; displayName: string }
	| { op: 'call'; uri: string }
	| { op: 'answer' }
	| { op: 'decline'; code: number }
	| { op: 'hangup' }
	| { op: 'hold' }
	| { op: 'resume' }
	| { op: 'mute'; muted: boolean }
	| { op: 'dtmf'; digit: string }
	| { op: 'transfer'; uri: string }
	| { op: 'close' };

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

	call(uri: string): Promise<void> {
		this.requests.push({ op: 'call', uri });
		const refused = this.#refused('call');
		if (!refused) return Promise.resolve();
		// janus-session tears down the offer's peer connection at once; janus.js reports it synchronously.
		this.emit({ type: 'mediaClosed' });
		return Promise.reject(refused);
	}

	answer(): Promise<void> {
		this.requests.push({ op: 'answer' });
		const failure = this.#answerFailure;
		this.#answerFailure = null;
		return failure === null ? Promise.resolve() : Promise.reject(new Error(failure));
	}

	decline(code: number): void {
		this.requests.push({ op: 'decline', code });
	}

	hangup(): void {
		this.requests.push({ op: 'hangup' });
	}

	hold(): void {
		this.requests.push({ op: 'hold' });
	}

	resume(): void {
		this.requests.push({ op: 'resume' });
	}

	setMuted(muted: boolean): boolean {
		this.requests.push({ op: 'mute', muted });
		this.#muted = muted;
		return this.#muted;
	}

	dtmf(digit: string): void {
		this.requests.push({ op: 'dtmf', digit });
	}

	transfer(uri: string): Promise<void> {
		this.requests.push({ op: 'transfer', uri });
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
