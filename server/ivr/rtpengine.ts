/**
 * rtpengine, the IVR's media server: started as a child of the app (foreground, userspace, no config file —
 * the Debian package's own file would clash with our ports), driven over its ng protocol (bencode over UDP),
 * and heard through its DTMF log (one JSON datagram per digit). Only this module speaks ng; the engine uses
 * `NgClient`'s named commands.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import bencode from 'bencode';

/** Milliseconds since the epoch, sub-millisecond: the clock every IVR event is stamped with. */
export const now = () => performance.timeOrigin + performance.now();

export interface UdpAddress {
	host: string;
	port: number;
}

// ---------------------------------------------------------------------------------------------------------
// ng client

/** An ng reply. `result` is "ok", "pong" or "error" (then `error-reason`); the rest depends on the command. */
export interface NgReply {
	result: string;
	'error-reason'?: string;
	warning?: string;
	sdp?: string;
	/** `play media`: the prompt's length in ms (rtpengine has no "playback ended" event). */
	duration?: number;
	/** `list`: the call-ids rtpengine holds. */
	calls?: string[];
	[key: string]: unknown;
}

/** A value ng accepts (bencode's: strings, integers, lists, dictionaries). */
export type NgValue = string | number | NgValue[] | { [key: string]: NgValue | undefined };

/** rtpengine answered, with `result: error` (`reason` is its `error-reason`). */
export class NgError extends Error {
	constructor(
		readonly command: string,
		readonly reason: string
	) {
		super(`rtpengine ${command}: ${reason}`);
	}
}

/** The flags every offer/answer carries: addresses from the SDP (trusted peers only), symmetric ports. */
const SDP_OPTIONS = {
	flags: ['trust-address', 'port-latching'],
	replace: ['origin', 'session-connection'],
	ICE: 'remove'
};

export interface CallRef {
	callId: string;
	fromTag: string;
}

/**
 * ng over UDP: each request carries a random cookie, the reply is matched by it. A request is sent again
 * (same cookie — rtpengine answers a repeated cookie from its cache without doing the work twice) until a
 * reply comes or `timeoutMs` passes.
 */
export class NgClient {
	private readonly socket: Socket;
	private readonly pending = new Map<
		string,
		{ resolve: (r: NgReply) => void; reject: (e: Error) => void; timers: NodeJS.Timeout[] }
	>();
	private readonly bound: Promise<void>;
	private closed = false;

	constructor(
		readonly server: UdpAddress,
		private readonly options: { timeoutMs?: number; resendMs?: number } = {}
	) {
		this.socket = createSocket('udp4');
		this.socket.on('message', (msg) => this.onReply(msg));
		this.socket.on('error', () => {});
		this.bound = new Promise((resolve) => this.socket.bind(0, resolve));
	}

	private onReply(msg: Buffer) {
		const space = msg.indexOf(0x20);
		if (space <= 0) return;
		const waiting = this.pending.get(msg.subarray(0, space).toString('latin1'));
		if (!waiting) return; // late, or not ours
		let reply: unknown;
		try {
			reply = decodeNg(msg.subarray(space + 1));
		} catch {
			return; // a garbled datagram: the resend or the timeout settles it
		}
		if (!reply || typeof reply !== 'object' || typeof (reply as NgReply).result !== 'string') {
			return;
		}
		waiting.resolve(reply as NgReply);
	}

	/**
	 * Sends one ng command; resolves with the reply.
	 * @throws NgError when rtpengine answers `result: error`; Error on timeout or after `close()`.
	 */
	async request(command: string, args: Record<string, NgValue | undefined> = {}): Promise<NgReply> {
		if (this.closed) throw new Error(`rtpengine ${command}: the ng client is closed`);
		await this.bound;
		const cookie = randomBytes(8).toString('hex');
		const body = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
		const datagram = ngDatagram(cookie, { ...body, command });
		const timeoutMs = this.options.timeoutMs ?? 2_000;
		const resendMs = this.options.resendMs ?? 500;
		const reply = await new Promise<NgReply>((resolve, reject) => {
			const timers: NodeJS.Timeout[] = [];
			const done = () => {
				timers.forEach(clearTimeout);
				this.pending.delete(cookie);
			};
			this.pending.set(cookie, {
				resolve: (r) => (done(), resolve(r)),
				reject: (e) => (done(), reject(e)),
				timers
			});
			const send = () => this.socket.send(datagram, this.server.port, this.server.host);
			send();
			for (let t = resendMs; t < timeoutMs; t += resendMs) timers.push(setTimeout(send, t));
			timers.push(
				setTimeout(() => {
					done();
					reject(
						new Error(
							`rtpengine ${command}: no answer from ${this.server.host}:${this.server.port} within ${timeoutMs} ms`
						)
					);
				}, timeoutMs)
			);
		});
		if (reply.result === 'error') throw new NgError(command, reply['error-reason'] ?? 'error');
		return reply;
	}

	/** Resolves when rtpengine answers `pong`. */
	async ping(): Promise<void> {
		const r = await this.request('ping');
		if (r.result !== 'pong') throw new Error(`rtpengine ping: ${r.result}`);
	}

	/** The caller's SDP in; out comes the SDP to offer the other side (kept for the hand-off). */
	async offer(call: CallRef, sdp: string): Promise<string> {
		const r = await this.request('offer', {
			'call-id': call.callId,
			'from-tag': call.fromTag,
			sdp,
			...SDP_OPTIONS
		});
		return sdpOf('offer', r);
	}

	/** The other side's SDP in (a local sink, later an agent's); out comes the SDP for the caller. */
	async answer(call: CallRef & { toTag: string }, sdp: string): Promise<string> {
		const r = await this.request('answer', {
			'call-id': call.callId,
			'from-tag': call.fromTag,
			'to-tag': call.toTag,
			sdp,
			...SDP_OPTIONS
		});
		return sdpOf('answer', r);
	}

	/** Ends the whole call in rtpengine (every leg). */
	async delete(callId: string): Promise<void> {
		await this.request('delete', { 'call-id': callId });
	}

	/** Plays a WAV file to the party of `fromTag`; resolves with its length in ms. */
	/** Plays `file` to the party of `fromTag`, `repeat` times over (rtpengine's `repeat-times`); its length in ms. */
	async playMedia(call: CallRef, file: string, repeat = 1): Promise<number> {
		const r = await this.request('play media', {
			'call-id': call.callId,
			'from-tag': call.fromTag,
			file,
			...(repeat > 1 ? { 'repeat-times': repeat } : {})
		});
		return typeof r.duration === 'number' ? r.duration : 0;
	}

	/** Stops what plays to the party of `fromTag`. rtpengine answers an error when nothing plays: ignored. */
	async stopMedia(call: CallRef): Promise<void> {
		await this.request('stop media', { 'call-id': call.callId, 'from-tag': call.fromTag }).catch(
			(err: unknown) => {
				if (!(err instanceof NgError)) throw err;
			}
		);
	}

	/** The call-ids rtpengine holds. */
	async list(limit = 1000): Promise<string[]> {
		const r = await this.request('list', { limit });
		return Array.isArray(r.calls) ? r.calls.map(String) : [];
	}

	/** A call's state, or null when rtpengine does not know it. */
	async query(callId: string): Promise<NgReply | null> {
		try {
			return await this.request('query', { 'call-id': callId });
		} catch (err) {
			if (err instanceof NgError) return null;
			throw err;
		}
	}

	close() {
		if (this.closed) return;
		this.closed = true;
		for (const p of this.pending.values()) p.reject(new Error('the ng client is closed'));
		this.socket.close();
	}
}

/**
 * bencode → plain values with byte strings as UTF-8 text. (bencode 4.0.1's own `'utf8'` option breaks on
 * dictionaries — it decodes each key twice — so the conversion is done here.)
 * @throws Error on malformed bencode
 */
export function decodeNg(data: Buffer): unknown {
	const text = (v: unknown): unknown => {
		if (v instanceof Uint8Array) {
			return Buffer.from(v.buffer, v.byteOffset, v.length).toString('utf8');
		}
		if (Array.isArray(v)) return v.map(text);
		if (v && typeof v === 'object') {
			return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, text(x)]));
		}
		return v;
	};
	return text(bencode.decode(new Uint8Array(data.buffer, data.byteOffset, data.length)));
}

/** A value → its bencode bytes. */
export function encodeNg(value: NgValue): Uint8Array {
	return bencode.encode(value);
}

/** `<cookie> <bencoded message>`, the ng datagram (both ways). */
export function ngDatagram(cookie: string, value: NgValue): Uint8Array {
	const head = new TextEncoder().encode(`${cookie} `);
	const body = encodeNg(value);
	const datagram = new Uint8Array(head.length + body.length);
	datagram.set(head);
	datagram.set(body, head.length);
	return datagram;
}

function sdpOf(command: string, r: NgReply): string {
	if (typeof r.sdp !== 'string') throw new NgError(command, 'no SDP in the reply');
	return r.sdp;
}

// ---------------------------------------------------------------------------------------------------------
// DTMF log

/** A digit rtpengine saw in a call's RFC 2833 stream (reported once, at the end of the event). */
export interface DtmfEvent {
	callId: string;
	/** The tag of the party that pressed it (the caller's From tag). */
	fromTag: string;
	digit: string;
	/** When the app received it (`now()`: ms since the epoch). */
	at: number;
}

const EVENT_DIGITS = '0123456789*#ABCD';

/** One DTMF-log datagram → an event, or null for anything else (other event types, garbage). */
export function parseDtmfLog(datagram: Buffer | string, at = now()): DtmfEvent | null {
	let log: unknown;
	try {
		log = JSON.parse(datagram.toString());
	} catch {
		return null;
	}
	if (!log || typeof log !== 'object') return null;
	const { callid, source_tag: tag, event, type } = log as Record<string, unknown>;
	if (type !== undefined && type !== 'DTMF') return null;
	if (typeof callid !== 'string' || !callid || typeof tag !== 'string') return null;
	if (typeof event !== 'number' || !Number.isInteger(event) || event < 0 || event > 15) return null;
	return { callId: callid, fromTag: tag, digit: EVENT_DIGITS[event]!, at };
}

export interface DtmfListener extends EventEmitter<{ dtmf: [DtmfEvent] }> {
	address: UdpAddress;
	close(): void;
}

/** Binds the UDP socket rtpengine's `--dtmf-log-dest` points at (port 0: any free one) and emits `dtmf`. */
export async function listenDtmf(at: UdpAddress): Promise<DtmfListener> {
	const socket = createSocket('udp4');
	const emitter = new EventEmitter<{ dtmf: [DtmfEvent] }>();
	await new Promise<void>((resolve, reject) => {
		socket.once('error', reject);
		socket.bind(at.port, at.host, () => resolve());
	});
	socket.on('error', () => {});
	socket.on('message', (msg) => {
		const event = parseDtmfLog(msg);
		if (event) emitter.emit('dtmf', event);
	});
	return Object.assign(emitter, {
		address: { host: at.host, port: socket.address().port },
		close: () => socket.close()
	});
}

// ---------------------------------------------------------------------------------------------------------
// the child process

export interface RtpengineOptions {
	/** The media address (`--interface`), e.g. 127.0.0.1. */
	interface: string;
	/** ng control (`--listen-ng`). */
	ng: UdpAddress;
	/** Where DTMF events go (`--dtmf-log-dest`): a `listenDtmf` socket. */
	dtmfLog: UdpAddress;
	/** RTP port range. */
	portMin: number;
	portMax: number;
	/** `rtpengine` on the PATH unless given. */
	binary?: string;
	/** Its stderr log lines (rtpengine logs to stderr in the foreground). */
	onLog?: (line: string) => void;
	readyTimeoutMs?: number;
}

export interface RunningRtpengine {
	pid: number;
	ng: NgClient;
	/** SIGTERM, then SIGKILL after a grace; resolves once it has exited. */
	stop(): Promise<void>;
}

const STOP_GRACE_MS = 2_000;

/**
 * Starts rtpengine in the foreground (a child that dies with the app's stop) and resolves once it answers
 * an ng ping.
 * @throws Error naming the Debian package when rtpengine is not installed; Error with its last log lines
 *   when it exits or stays silent.
 */
export async function startRtpengine(o: RtpengineOptions): Promise<RunningRtpengine> {
	const binary = o.binary ?? 'rtpengine';
	const args = [
		// The package's /etc/rtpengine/rtpengine.conf would add its own listeners (and kernel table 0).
		'--config-file=none',
		'--table=-1',
		'--foreground',
		'--log-stderr',
		'--log-level=6',
		`--interface=${o.interface}`,
		`--listen-ng=${o.ng.host}:${o.ng.port}`,
		`--dtmf-log-dest=${o.dtmfLog.host}:${o.dtmfLog.port}`,
		`--port-min=${o.portMin}`,
		`--port-max=${o.portMax}`,
		// A deleted call is gone at once (no half-open call lingers to be counted).
		'--delete-delay=0',
		'--num-threads=2'
	];
	const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
	const tail: string[] = [];
	let partial = '';
	child.stderr!.on('data', (chunk: Buffer) => {
		const lines = (partial + chunk.toString()).split('\n');
		partial = lines.pop() ?? '';
		for (const line of lines) {
			tail.push(line);
			if (tail.length > 20) tail.shift();
			o.onLog?.(line);
		}
	});
	const spawned = new Promise<void>((resolve, reject) => {
		child.once('spawn', resolve);
		child.once('error', (err: NodeJS.ErrnoException) =>
			reject(
				err.code === 'ENOENT'
					? new Error(
							`${binary} is not installed: install the Debian package rtpengine-daemon (apt-get install --no-install-recommends rtpengine-daemon)`
						)
					: err
			)
		);
	});
	await spawned;
	const ng = new NgClient(o.ng, { timeoutMs: 300, resendMs: 100 });
	const stop = () => stopChild(child);
	const deadline = Date.now() + (o.readyTimeoutMs ?? 10_000);
	try {
		for (;;) {
			if (child.exitCode !== null || child.signalCode !== null) {
				throw new Error(
					`rtpengine exited (${child.signalCode ?? child.exitCode}):\n${tail.join('\n')}`
				);
			}
			try {
				await ng.ping();
				break;
			} catch (err) {
				if (Date.now() > deadline) {
					throw new Error(
						`rtpengine did not answer an ng ping within ${o.readyTimeoutMs ?? 10_000} ms:\n${tail.join('\n')}`,
						{ cause: err }
					);
				}
			}
		}
	} catch (err) {
		ng.close();
		await stop();
		throw err;
	}
	ng.close();
	const client = new NgClient(o.ng);
	return {
		pid: child.pid!,
		ng: client,
		stop: async () => {
			client.close();
			await stop();
		}
	};
}

function stopChild(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => {
		const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
		child.once('exit', () => {
			clearTimeout(kill);
			resolve();
		});
		child.kill('SIGTERM');
	});
}
