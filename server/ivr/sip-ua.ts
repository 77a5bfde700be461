/**
 * A minimal SIP user agent over UDP for the IVR's B2BUA: answers calls (100, 200 with SDP retransmitted until
 * ACK, CANCEL → 487), hears BYE, INFO DTMF and OPTIONS, hangs up, and places a call of its own (ACK, CANCEL,
 * BYE). Everything it receives passes `parseSip`, which drops malformed messages — a datagram never throws
 * out of the socket handler. Not here: TCP/TLS, authentication, strict routing, session timers, re-INVITEs
 * (answered 488: the session stays as it was), forking (the first 2xx wins).
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { now, type UdpAddress } from './rtpengine';

// ---------------------------------------------------------------------------------------------------------
// messages

export interface SipHeader {
	/** Lower case, long form ("v" arrives as "via"). */
	name: string;
	value: string;
}

export interface SipRequest {
	kind: 'request';
	method: string;
	uri: string;
	headers: SipHeader[];
	body: string;
}

export interface SipResponse {
	kind: 'response';
	status: number;
	reason: string;
	headers: SipHeader[];
	body: string;
}

export type SipMessage = SipRequest | SipResponse;

const MAX_MESSAGE_BYTES = 65_535;
const MAX_HEADERS = 100;
const COMPACT: Record<string, string> = {
	v: 'via',
	f: 'from',
	t: 'to',
	i: 'call-id',
	m: 'contact',
	l: 'content-length',
	c: 'content-type',
	k: 'supported',
	s: 'subject',
	e: 'content-encoding',
	o: 'event',
	r: 'refer-to'
};
/** Headers whose comma-separated values are separate entries (their order matters). */
const LISTS = new Set(['via', 'route', 'record-route']);
const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;

/** Splits at commas outside quotes and <…>. */
function splitList(value: string): string[] {
	const out: string[] = [];
	let depth = 0;
	let quoted = false;
	let start = 0;
	for (let i = 0; i < value.length; i++) {
		const c = value[i];
		if (c === '\\' && quoted) i++;
		else if (c === '"') quoted = !quoted;
		else if (!quoted && c === '<') depth++;
		else if (!quoted && c === '>') depth = Math.max(0, depth - 1);
		else if (!quoted && depth === 0 && c === ',') {
			out.push(value.slice(start, i).trim());
			start = i + 1;
		}
	}
	out.push(value.slice(start).trim());
	return out.filter(Boolean);
}

/**
 * One datagram → a SIP message, or null when it is not one we can trust: a bad start line or header, a
 * missing Via/From/To/Call-ID/CSeq, a CSeq not matching the method, a body shorter than its Content-Length,
 * more than 64 KiB or 100 headers.
 */
export function parseSip(data: Buffer | string): SipMessage | null {
	const buf = typeof data === 'string' ? Buffer.from(data) : data;
	if (buf.length === 0 || buf.length > MAX_MESSAGE_BYTES) return null;
	let end = buf.indexOf('\r\n\r\n');
	let sepLength = 4;
	if (end < 0) {
		end = buf.indexOf('\n\n');
		sepLength = 2;
	}
	if (end < 0) return null;
	const lines = buf.toString('utf8', 0, end).split(/\r?\n/);
	const first = lines.shift() ?? '';
	let start:
		Pick<SipRequest, 'kind' | 'method' | 'uri'> | Pick<SipResponse, 'kind' | 'status' | 'reason'>;
	const response = /^SIP\/2\.0 ([1-6]\d\d)(?: (.*))?$/.exec(first);
	const request = /^([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP\/2\.0$/.exec(first);
	if (response) {
		start = { kind: 'response', status: Number(response[1]), reason: response[2] ?? '' };
	} else if (request) {
		start = { kind: 'request', method: request[1]!.toUpperCase(), uri: request[2]! };
	} else return null;

	const headers: SipHeader[] = [];
	let last: SipHeader | null = null;
	for (const line of lines) {
		if (/^[ \t]/.test(line)) {
			if (!last) return null;
			last.value = `${last.value} ${line.trim()}`;
			continue;
		}
		const colon = line.indexOf(':');
		if (colon <= 0) return null;
		const raw = line.slice(0, colon).trim().toLowerCase();
		if (!TOKEN.test(raw)) return null;
		last = { name: COMPACT[raw] ?? raw, value: line.slice(colon + 1).trim() };
		headers.push(last);
		if (headers.length > MAX_HEADERS) return null;
	}
	const expanded = headers.flatMap((h) =>
		LISTS.has(h.name) ? splitList(h.value).map((value) => ({ name: h.name, value })) : [h]
	);
	const one = (name: string) => expanded.find((h) => h.name === name)?.value;
	for (const name of ['via', 'from', 'to', 'call-id', 'cseq']) if (!one(name)) return null;
	const cseq = parseCSeq(one('cseq')!);
	if (!cseq) return null;
	if (start.kind === 'request') {
		const expected = start.method === 'ACK' || start.method === 'CANCEL' ? 'INVITE' : start.method;
		if (cseq.method !== start.method && cseq.method !== expected) return null;
		if (cseq.method !== start.method && start.method !== 'ACK' && start.method !== 'CANCEL') {
			return null;
		}
	}
	if (!/^SIP\/2\.0\/UDP\s+\S+/i.test(one('via')!)) return null;

	let body = buf.subarray(end + sepLength);
	const length = one('content-length');
	if (length !== undefined) {
		if (!/^\d{1,6}$/.test(length)) return null;
		const n = Number(length);
		if (n > body.length) return null; // cut short on the way
		body = body.subarray(0, n);
	}
	return { ...start, headers: expanded, body: body.toString('utf8') } as SipMessage;
}

/** The first value of header `name` (long form, any case). */
export function header(msg: SipMessage, name: string): string | undefined {
	const n = name.toLowerCase();
	return msg.headers.find((h) => h.name === n)?.value;
}

/** Every value of header `name`, in order. */
export function headerValues(msg: SipMessage, name: string): string[] {
	const n = name.toLowerCase();
	return msg.headers.filter((h) => h.name === n).map((h) => h.value);
}

export function parseCSeq(value: string): { seq: number; method: string } | null {
	const m = /^(\d{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)$/.exec(value.trim());
	if (!m || Number(m[1]) > 2 ** 31 - 1) return null;
	return { seq: Number(m[1]), method: m[2]!.toUpperCase() };
}

/** The `tag` parameter of a From/To value (outside its <URI>). */
export function tagOf(value: string | undefined): string | undefined {
	if (!value) return undefined;
	const close = value.lastIndexOf('>');
	return /;\s*tag=([^;\s>]+)/i.exec(close >= 0 ? value.slice(close) : value)?.[1];
}

/** The URI of a name-addr (`"Name" <sip:…>;tag=…`) or addr-spec (`sip:…;tag=…`). */
export function uriOf(value: string): string {
	const m = /<([^>]*)>/.exec(value);
	return (m ? m[1]! : value.split(';')[0]!).trim();
}

/** user, host and port of a sip: URI (port 5060 when none). Null for anything else. */
export function parseSipUri(uri: string): { user?: string; host: string; port: number } | null {
	const m = /^sips?:(?:([^@;?]+)@)?([^:;?>]+|\[[^\]]+\])(?::(\d{1,5}))?(?:[;?].*)?$/i.exec(
		uri.trim()
	);
	if (!m) return null;
	const port = m[3] ? Number(m[3]) : 5060;
	if (port < 1 || port > 65_535) return null;
	return { user: m[1]?.split(':')[0], host: m[2]!, port };
}

/** A message's text: start line, headers, Content-Length, blank line, body. */
export function serializeSip(msg: SipMessage): string {
	const start =
		msg.kind === 'request'
			? `${msg.method} ${msg.uri} SIP/2.0`
			: `SIP/2.0 ${msg.status} ${msg.reason}`;
	const lines = [start];
	for (const h of msg.headers) {
		if (h.name !== 'content-length') lines.push(`${display(h.name)}: ${h.value}`);
	}
	lines.push(`Content-Length: ${Buffer.byteLength(msg.body)}`, '', msg.body);
	return lines.join('\r\n');
}

const DISPLAY: Record<string, string> = {
	'call-id': 'Call-ID',
	cseq: 'CSeq',
	via: 'Via',
	'www-authenticate': 'WWW-Authenticate'
};
const display = (name: string) =>
	DISPLAY[name] ??
	name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());

const DTMF_KEYS = '0123456789*#ABCD';

/**
 * The key of an INFO body: `application/dtmf-relay` (`Signal=5`, also 10/11 for * and #) or
 * `application/dtmf` (the key, or its event number). Null when there is none.
 */
export function parseDtmfInfo(contentType: string | undefined, body: string): string | null {
	const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
	let value: string | undefined;
	if (type === 'application/dtmf-relay') value = /^\s*signal\s*=\s*(\S+)\s*$/im.exec(body)?.[1];
	else if (type === 'application/dtmf') value = body.trim();
	if (!value) return null;
	if (/^\d{1,2}$/.test(value) && Number(value) <= 15) return DTMF_KEYS[Number(value)]!;
	const key = value.toUpperCase();
	return key.length === 1 && DTMF_KEYS.includes(key) ? key : null;
}

// ---------------------------------------------------------------------------------------------------------
// the user agent

const rand = (bytes = 6) => randomBytes(bytes).toString('hex');
const newBranch = () => `z9hG4bK${rand(8)}`;
const ALLOW = 'INVITE, ACK, CANCEL, BYE, INFO, OPTIONS';

export interface SipUaOptions {
	host: string;
	/** 0 (the default): any free port. */
	port?: number;
	/** The user part of our Contact and From. */
	user?: string;
	/** RFC 3261 T1 and T2 (500 ms, 4 s): retransmissions start at T1 and double up to T2; give-up at 64·T1. */
	t1Ms?: number;
	t2Ms?: number;
	/** Told about dropped datagrams and timeouts. */
	log?: (msg: string) => void;
}

export type EndedBy = 'remote' | 'local' | 'cancel' | 'timeout';

export interface CallEnd {
	by: EndedBy;
	/** The status that ended it when it never got answered, else 0. */
	status: number;
}

interface ServerTx {
	/** The last answer, sent again for a retransmitted request. */
	response?: string;
	to: UdpAddress;
	/** An INVITE's refusal was acknowledged. */
	acked?: boolean;
}

/**
 * A dialog's sending side: where in-dialog requests go (its first Route when it has one, else the remote
 * target — loose routing only) and what they carry.
 */
class Dialog {
	cseq = Math.floor(Math.random() * 10_000) + 1;
	constructor(
		readonly callId: string,
		/** Our From/To value, with our tag. */
		public local: string,
		/** Theirs, with their tag once known. */
		public remote: string,
		public target: string,
		public routes: string[]
	) {}

	destination(): UdpAddress | null {
		const uri = parseSipUri(this.routes[0] ? uriOf(this.routes[0]) : this.target);
		return uri && { host: uri.host.replace(/^\[|\]$/g, ''), port: uri.port };
	}
}

/** The call a caller placed to us. `sdp` is their offer. */
export class IncomingCall extends EventEmitter<{
	/** Our 200 was acknowledged. */
	ack: [];
	dtmf: [{ digit: string; at: number }];
	ended: [CallEnd];
}> {
	state: 'offered' | 'answered' | 'confirmed' | 'ended' = 'offered';
	readonly callId: string;
	/** The caller's From tag (rtpengine's from-tag). */
	readonly fromTag: string;
	/** Ours (rtpengine's to-tag). */
	readonly toTag = rand(4);
	/** The caller's URI (From). */
	readonly caller: string;
	readonly sdp: string;
	/** When the INVITE arrived (`now()`). */
	readonly at: number;
	readonly dialog: Dialog;

	constructor(
		private readonly ua: SipUa,
		readonly invite: SipRequest,
		private readonly tx: ServerTx
	) {
		super();
		this.at = now();
		this.callId = header(invite, 'call-id')!;
		this.fromTag = tagOf(header(invite, 'from')) ?? '';
		this.caller = uriOf(header(invite, 'from')!);
		this.sdp = invite.body;
		this.dialog = new Dialog(
			this.callId,
			`${header(invite, 'to')!};tag=${this.toTag}`,
			header(invite, 'from')!,
			uriOf(header(invite, 'contact') ?? header(invite, 'from')!),
			headerValues(invite, 'record-route')
		);
	}

	/**
	 * Sends 200 OK with `sdp`, again and again (T1 doubling to T2) until the ACK; no ACK within 64·T1 →
	 * BYE and `ended` by timeout. False when the call is no longer on offer (cancelled meanwhile).
	 */
	answer(sdp: string): boolean {
		if (this.state !== 'offered') return false;
		this.state = 'answered';
		const text = this.ua.respond(this.invite, this.tx, 200, 'OK', {
			toTag: this.toTag,
			body: sdp,
			contentType: 'application/sdp'
		});
		this.ua.retransmit(
			() => this.state === 'answered',
			() => this.ua.sendText(text, this.tx.to),
			() => {
				this.ua.log(`no ACK for the 200 of ${this.callId}: hanging up`);
				this.ua.sendBye(this.dialog);
				this.end({ by: 'timeout', status: 0 });
			}
		);
		return true;
	}

	/** A final refusal (e.g. 488, 480, 503) of a call not yet answered. */
	reject(status: number, reason: string): void {
		if (this.state !== 'offered') return;
		this.ua.rejectInvite(this.invite, this.tx, status, reason, this.toTag);
		this.end({ by: 'local', status });
	}

	/** Hangs up: BYE once answered, 480 before. */
	hangup(): void {
		if (this.state === 'offered') return this.reject(480, 'Temporarily Unavailable');
		if (this.state === 'ended') return;
		this.ua.sendBye(this.dialog);
		this.end({ by: 'local', status: 0 });
	}

	/** @internal */
	onAck() {
		if (this.state !== 'answered') return;
		this.state = 'confirmed';
		this.emit('ack');
	}

	/** @internal */
	onCancel() {
		if (this.state !== 'offered') return false;
		this.ua.rejectInvite(this.invite, this.tx, 487, 'Request Terminated', this.toTag);
		this.end({ by: 'cancel', status: 487 });
		return true;
	}

	/** @internal */
	end(how: CallEnd) {
		if (this.state === 'ended') return;
		this.state = 'ended';
		this.ua.forget(this.callId, this.toTag);
		this.emit('ended', how);
	}
}

export interface InviteOptions {
	/** The Request-URI and To, e.g. `sip:agent1@127.0.0.1:5080`. */
	target: string;
	sdp: string;
	/** Where to send it instead of the target's host:port (an outbound proxy, e.g. Kamailio). */
	proxy?: UdpAddress;
	/** The From user (our own user by default). */
	fromUser?: string;
	/** Extra headers (`X-IVR-Path` …). */
	headers?: Record<string, string>;
}

/** A call we placed (the hand-off leg to an agent). */
export class OutgoingCall extends EventEmitter<{
	/** A provisional answer (180 …). */
	progress: [number];
	/** Answered: their SDP. Acknowledged already. */
	answered: [string];
	ended: [CallEnd];
}> {
	state: 'calling' | 'ringing' | 'answered' | 'ended' = 'calling';
	readonly callId = `${rand(10)}@ivr`;
	readonly localTag = rand(4);
	readonly dialog: Dialog;
	/** @internal */
	readonly branch = newBranch();
	/** @internal */
	inviteText = '';
	/** @internal */
	readonly destination: UdpAddress;
	private cancelWanted = false;
	private cancelled = false;

	constructor(
		private readonly ua: SipUa,
		readonly options: InviteOptions
	) {
		super();
		const uri = parseSipUri(options.target);
		if (!uri) throw new Error(`not a SIP URI: ${options.target}`);
		this.destination = options.proxy ?? { host: uri.host, port: uri.port };
		this.dialog = new Dialog(
			this.callId,
			`<sip:${options.fromUser ?? ua.user}@${ua.address.host}>;tag=${this.localTag}`,
			`<${options.target}>`,
			options.target,
			[]
		);
	}

	/** CANCEL while it rings (or as soon as it starts to), BYE once answered. */
	hangup(): void {
		if (this.state === 'ended') return;
		if (this.state === 'answered') {
			this.ua.sendBye(this.dialog);
			this.end({ by: 'local', status: 0 });
			return;
		}
		this.cancelWanted = true;
		// A CANCEL may only follow a provisional answer (RFC 3261 §9.1); before one it waits.
		if (this.state === 'ringing') this.sendCancel();
	}

	/** @internal */
	sendCancel() {
		if (this.cancelled) return;
		this.cancelled = true;
		this.ua.sendCancel(this);
	}

	/** @internal A response to our INVITE. */
	onResponse(res: SipResponse) {
		if (res.status < 200) {
			if (this.state === 'calling') this.state = 'ringing';
			this.emit('progress', res.status);
			if (this.cancelWanted) this.sendCancel();
			return;
		}
		if (res.status < 300) {
			const first = this.state !== 'answered' && this.state !== 'ended';
			if (first) {
				this.dialog.remote = header(res, 'to')!;
				this.dialog.target = uriOf(header(res, 'contact') ?? this.options.target);
				this.dialog.routes = headerValues(res, 'record-route').reverse();
			}
			this.ua.sendAck(this.dialog, this.dialog.cseq);
			if (!first) return;
			if (this.cancelWanted || this.state === 'ended') {
				// Answered while we were cancelling: end it properly.
				this.ua.sendBye(this.dialog);
				this.end({ by: 'local', status: 0 });
				return;
			}
			this.state = 'answered';
			this.emit('answered', res.body);
			return;
		}
		this.ua.ackFailure(this, res);
		this.end({ by: this.cancelWanted ? 'local' : 'remote', status: res.status });
	}

	/** @internal */
	end(how: CallEnd) {
		if (this.state === 'ended') return;
		this.state = 'ended';
		this.ua.forget(this.callId, this.localTag, this.branch);
		this.emit('ended', how);
	}
}

/** The user agent: one UDP socket, our calls by dialog, transactions by branch. */
export class SipUa extends EventEmitter<{ invite: [IncomingCall] }> {
	private readonly incoming = new Map<string, IncomingCall>();
	private readonly outgoing = new Map<string, OutgoingCall>();
	/** Server transactions by `branch|method` (ACK and CANCEL look up the INVITE's). */
	private readonly serverTx = new Map<string, ServerTx & { call?: IncomingCall }>();
	/** Our client transactions by branch. */
	private readonly clientTx = new Map<string, (res: SipResponse) => void>();
	private readonly timers = new Set<NodeJS.Timeout>();
	private closed = false;
	readonly user: string;
	private readonly t1: number;
	private readonly t2: number;
	/** @internal */
	log: (msg: string) => void;

	private constructor(
		private readonly socket: Socket,
		readonly address: UdpAddress,
		o: SipUaOptions
	) {
		super();
		this.user = o.user ?? 'ivr';
		this.t1 = o.t1Ms ?? 500;
		this.t2 = o.t2Ms ?? 4_000;
		this.log = o.log ?? (() => {});
		socket.on('message', (msg, from) => {
			try {
				this.receive(msg, from);
			} catch (err) {
				this.log(`dropped a datagram from ${from.address}:${from.port}: ${(err as Error).message}`);
			}
		});
		socket.on('error', (err) => this.log(`socket: ${err.message}`));
	}

	/** Binds the socket and starts answering. */
	static async listen(o: SipUaOptions): Promise<SipUa> {
		const socket = createSocket('udp4');
		await new Promise<void>((resolve, reject) => {
			socket.once('error', reject);
			socket.bind(o.port ?? 0, o.host, () => resolve());
		});
		return new SipUa(socket, { host: o.host, port: socket.address().port }, o);
	}

	/** Places a call; listen to its events. */
	invite(o: InviteOptions): OutgoingCall {
		const call = new OutgoingCall(this, o);
		const d = call.dialog;
		const extra = Object.entries(o.headers ?? {}).map(([name, value]) => ({
			name: name.toLowerCase(),
			value
		}));
		call.inviteText = serializeSip({
			kind: 'request',
			method: 'INVITE',
			uri: o.target,
			headers: [
				this.via(call.branch),
				{ name: 'max-forwards', value: '70' },
				{ name: 'from', value: d.local },
				{ name: 'to', value: d.remote },
				{ name: 'call-id', value: call.callId },
				{ name: 'cseq', value: `${d.cseq} INVITE` },
				{ name: 'contact', value: this.contact() },
				{ name: 'allow', value: ALLOW },
				...extra,
				{ name: 'content-type', value: 'application/sdp' }
			],
			body: o.sdp
		});
		this.outgoing.set(`${call.callId}|${call.localTag}`, call);
		let answered = false;
		this.clientTx.set(call.branch, (res) => {
			answered = true;
			call.onResponse(res);
		});
		this.retransmit(
			() => !answered && call.state !== 'ended',
			() => this.sendText(call.inviteText, call.destination),
			() => call.end({ by: 'timeout', status: 408 }),
			true
		);
		return call;
	}

	/** Stops everything: timers, socket. Calls still up are not hung up (hang them up first). */
	close() {
		if (this.closed) return;
		this.closed = true;
		for (const t of this.timers) clearTimeout(t);
		this.timers.clear();
		this.socket.close();
	}

	private active = 0;

	/** How many messages are being sent again now, waiting for their answer or ACK (for tests). */
	get retransmitting(): number {
		return this.active;
	}

	/** Calls known now (for diagnostics and tests). */
	get calls() {
		return { incoming: this.incoming.size, outgoing: this.outgoing.size };
	}

	// --- receiving -------------------------------------------------------------------------------------

	private receive(datagram: Buffer, from: RemoteInfo) {
		if (this.closed) return;
		const msg = parseSip(datagram);
		if (!msg) {
			// Keep-alives (CRLF) are not worth a line.
			if (datagram.toString().trim()) {
				this.log(`dropped a malformed datagram from ${from.address}:${from.port}`);
			}
			return;
		}
		const source = { host: from.address, port: from.port };
		if (msg.kind === 'response') return this.onResponse(msg);
		const branch = /;\s*branch=([^;,\s]+)/i.exec(header(msg, 'via')!)?.[1] ?? '';
		const txKey = `${branch}|${msg.method === 'ACK' || msg.method === 'CANCEL' ? 'INVITE' : msg.method}`;
		const toTag = tagOf(header(msg, 'to'));
		const callId = header(msg, 'call-id')!;

		if (msg.method === 'ACK') {
			// For our 2xx: the dialog; for a refusal: the INVITE's transaction.
			const tx = this.serverTx.get(txKey);
			if (tx) tx.acked = true;
			this.incoming.get(`${callId}|${toTag}`)?.onAck();
			return;
		}
		if (msg.method === 'CANCEL') {
			const tx = this.serverTx.get(txKey);
			if (!tx?.call) {
				return void this.replyOnce(msg, source, 481, 'Call/Transaction Does Not Exist');
			}
			this.replyOnce(msg, source, 200, 'OK');
			tx.call.onCancel();
			return;
		}
		// A retransmitted request: the same answer again.
		const seen = this.serverTx.get(`${branch}|${msg.method}`);
		if (seen) {
			if (seen.response) this.sendText(seen.response, seen.to);
			return;
		}
		if (msg.method === 'INVITE' && !toTag) return this.onInvite(msg, source, txKey);
		if (msg.method === 'OPTIONS' && !toTag) {
			return void this.replyOnce(msg, source, 200, 'OK', [
				{ name: 'allow', value: ALLOW },
				{ name: 'accept', value: 'application/sdp, application/dtmf-relay, application/dtmf' }
			]);
		}
		if (!toTag) {
			return void this.replyOnce(msg, source, 405, 'Method Not Allowed', [
				{ name: 'allow', value: ALLOW }
			]);
		}

		const incoming = this.incoming.get(`${callId}|${toTag}`);
		const outgoing = this.outgoing.get(`${callId}|${toTag}`);
		if (!incoming && !outgoing) {
			return void this.replyOnce(msg, source, 481, 'Call/Transaction Does Not Exist');
		}
		switch (msg.method) {
			case 'BYE':
				this.replyOnce(msg, source, 200, 'OK');
				incoming?.end({ by: 'remote', status: 0 });
				outgoing?.end({ by: 'remote', status: 0 });
				return;
			case 'INFO': {
				this.replyOnce(msg, source, 200, 'OK');
				const digit = parseDtmfInfo(header(msg, 'content-type'), msg.body);
				if (digit && incoming) incoming.emit('dtmf', { digit, at: now() });
				return;
			}
			case 'OPTIONS':
				return void this.replyOnce(msg, source, 200, 'OK', [{ name: 'allow', value: ALLOW }]);
			case 'INVITE':
				// A re-INVITE: refused, the session goes on as it was (RFC 3261 §14.2).
				return void this.replyOnce(msg, source, 488, 'Not Acceptable Here');
			default:
				return void this.replyOnce(msg, source, 501, 'Not Implemented', [
					{ name: 'allow', value: ALLOW }
				]);
		}
	}

	private onInvite(msg: SipRequest, source: UdpAddress, txKey: string) {
		const tx: ServerTx & { call?: IncomingCall } = { to: source };
		this.serverTx.set(txKey, tx);
		this.expire(txKey, 64 * this.t1 + 60_000);
		const trying = this.respond(msg, tx, 100, 'Trying', {});
		this.sendText(trying, source);
		const call = new IncomingCall(this, msg, tx);
		tx.call = call;
		this.incoming.set(`${call.callId}|${call.toTag}`, call);
		if (this.listenerCount('invite') === 0) return call.reject(503, 'Service Unavailable');
		this.emit('invite', call);
	}

	private onResponse(res: SipResponse) {
		const branch = /;\s*branch=([^;,\s]+)/i.exec(header(res, 'via')!)?.[1] ?? '';
		const handler = this.clientTx.get(branch);
		if (handler) return handler(res);
		// A 2xx retransmitted after the INVITE transaction ended: ACK it again.
		if (
			parseCSeq(header(res, 'cseq')!)?.method === 'INVITE' &&
			res.status < 300 &&
			res.status >= 200
		) {
			const call = this.outgoing.get(`${header(res, 'call-id')}|${tagOf(header(res, 'from'))}`);
			if (call) call.onResponse(res);
		}
	}

	// --- sending -----------------------------------------------------------------------------------------

	/** @internal */
	sendText(text: string, to: UdpAddress) {
		if (this.closed) return;
		this.socket.send(text, to.port, to.host);
	}

	private via(branch: string) {
		return {
			name: 'via',
			value: `SIP/2.0/UDP ${this.address.host}:${this.address.port};branch=${branch};rport`
		};
	}

	private contact() {
		return `<sip:${this.user}@${this.address.host}:${this.address.port}>`;
	}

	/** @internal A response's text for `req`, remembered in `tx` for retransmitted requests. */
	respond(
		req: SipRequest,
		tx: ServerTx,
		status: number,
		reason: string,
		o: { toTag?: string; body?: string; contentType?: string; extra?: SipHeader[] }
	): string {
		let to = header(req, 'to')!;
		if (o.toTag && !tagOf(to)) to = `${to};tag=${o.toTag}`;
		const dialogForming = req.method === 'INVITE' && status > 100 && status < 300;
		const headers: SipHeader[] = [
			...req.headers.filter((h) => h.name === 'via'),
			...(dialogForming ? req.headers.filter((h) => h.name === 'record-route') : []),
			{ name: 'from', value: header(req, 'from')! },
			{ name: 'to', value: to },
			{ name: 'call-id', value: header(req, 'call-id')! },
			{ name: 'cseq', value: header(req, 'cseq')! },
			...(dialogForming ? [{ name: 'contact', value: this.contact() }] : []),
			...(o.extra ?? []),
			...(o.body ? [{ name: 'content-type', value: o.contentType ?? 'application/sdp' }] : [])
		];
		const text = serializeSip({ kind: 'response', status, reason, headers, body: o.body ?? '' });
		tx.response = text;
		return text;
	}

	/** Answers a non-INVITE request once; its retransmissions get the same answer for 64·T1. */
	private replyOnce(
		req: SipRequest,
		to: UdpAddress,
		status: number,
		reason: string,
		extra: SipHeader[] = []
	) {
		const branch = /;\s*branch=([^;,\s]+)/i.exec(header(req, 'via')!)?.[1] ?? '';
		const key = `${branch}|${req.method}`;
		const tx: ServerTx = { to };
		this.serverTx.set(key, tx);
		this.expire(key, 64 * this.t1);
		this.sendText(this.respond(req, tx, status, reason, { toTag: rand(4), extra }), to);
	}

	/** @internal A final refusal of an INVITE, sent again until its ACK (or 64·T1). */
	rejectInvite(req: SipRequest, tx: ServerTx, status: number, reason: string, toTag: string) {
		const text = this.respond(req, tx, status, reason, { toTag });
		this.retransmit(
			() => !tx.acked,
			() => this.sendText(text, tx.to),
			() => {}
		);
	}

	/** @internal An in-dialog request of ours, resent until a final answer (or 64·T1). */
	request(d: Dialog, method: string, body = '', contentType?: string): Promise<number> {
		const to = d.destination();
		if (!to) return Promise.resolve(0);
		const branch = newBranch();
		d.cseq += 1;
		const text = serializeSip({
			kind: 'request',
			method,
			uri: d.target,
			headers: [
				this.via(branch),
				{ name: 'max-forwards', value: '70' },
				...d.routes.map((value) => ({ name: 'route', value })),
				{ name: 'from', value: d.local },
				{ name: 'to', value: d.remote },
				{ name: 'call-id', value: d.callId },
				{ name: 'cseq', value: `${d.cseq} ${method}` },
				{ name: 'contact', value: this.contact() },
				...(body ? [{ name: 'content-type', value: contentType ?? 'application/sdp' }] : [])
			],
			body
		});
		return new Promise((resolve) => {
			let final = 0;
			this.clientTx.set(branch, (res) => {
				if (res.status < 200 || final) return;
				final = res.status;
				this.clientTx.delete(branch);
				resolve(res.status);
			});
			this.retransmit(
				() => !final,
				() => this.sendText(text, to),
				() => {
					this.clientTx.delete(branch);
					resolve(408);
				}
			);
		});
	}

	/** @internal */
	sendBye(d: Dialog) {
		void this.request(d, 'BYE');
	}

	/** @internal The ACK for a 2xx: its own transaction, sent along the dialog's route. */
	sendAck(d: Dialog, cseq: number) {
		const to = d.destination();
		if (!to) return;
		this.sendText(
			serializeSip({
				kind: 'request',
				method: 'ACK',
				uri: d.target,
				headers: [
					this.via(newBranch()),
					{ name: 'max-forwards', value: '70' },
					...d.routes.map((value) => ({ name: 'route', value })),
					{ name: 'from', value: d.local },
					{ name: 'to', value: d.remote },
					{ name: 'call-id', value: d.callId },
					{ name: 'cseq', value: `${cseq} ACK` },
					{ name: 'contact', value: this.contact() }
				],
				body: ''
			}),
			to
		);
	}

	/** @internal The ACK for a refusal of our INVITE: same branch, hop by hop. */
	ackFailure(call: OutgoingCall, res: SipResponse) {
		this.clientTx.delete(call.branch);
		this.sendText(
			serializeSip({
				kind: 'request',
				method: 'ACK',
				uri: call.options.target,
				headers: [
					this.via(call.branch),
					{ name: 'max-forwards', value: '70' },
					{ name: 'from', value: call.dialog.local },
					{ name: 'to', value: header(res, 'to')! },
					{ name: 'call-id', value: call.callId },
					{ name: 'cseq', value: `${call.dialog.cseq} ACK` }
				],
				body: ''
			}),
			call.destination
		);
	}

	/** @internal CANCEL of our INVITE: same Request-URI, branch, From, To and CSeq number. */
	sendCancel(call: OutgoingCall) {
		const text = serializeSip({
			kind: 'request',
			method: 'CANCEL',
			uri: call.options.target,
			headers: [
				this.via(call.branch),
				{ name: 'max-forwards', value: '70' },
				{ name: 'from', value: call.dialog.local },
				{ name: 'to', value: `<${call.options.target}>` },
				{ name: 'call-id', value: call.callId },
				{ name: 'cseq', value: `${call.dialog.cseq} CANCEL` }
			],
			body: ''
		});
		// Its 200 shares the INVITE's branch; the INVITE's handler ignores a CANCEL's answer by CSeq.
		const inviteHandler = this.clientTx.get(call.branch);
		let done = false;
		if (inviteHandler) {
			this.clientTx.set(call.branch, (res) => {
				if (parseCSeq(header(res, 'cseq')!)?.method === 'CANCEL') done = true;
				else inviteHandler(res);
			});
		}
		this.retransmit(
			() => !done && call.state !== 'ended',
			() => this.sendText(text, call.destination),
			() => call.end({ by: 'timeout', status: 408 })
		);
	}

	/**
	 * @internal Calls `send` now and again at T1, 2·T1, … (capped at T2 unless `invite`: INVITEs keep
	 * doubling) while `going()`; `gaveUp` after 64·T1.
	 */
	retransmit(going: () => boolean, send: () => void, gaveUp: () => void, invite = false) {
		this.active += 1;
		let timer: NodeJS.Timeout | undefined;
		const stop = () => {
			this.active -= 1;
			clearTimeout(timer);
			clearTimeout(giveUp);
			this.timers.delete(timer!);
			this.timers.delete(giveUp);
		};
		// RFC 3261 timers B/F/H: the whole exchange gives up after 64·T1, however far the doubling got.
		const giveUp = setTimeout(() => {
			stop();
			if (!this.closed && going()) gaveUp();
		}, 64 * this.t1);
		this.timers.add(giveUp);
		const tick = (wait: number) => {
			if (this.closed || !going()) return stop();
			send();
			this.timers.delete(timer!);
			timer = setTimeout(() => tick(invite ? wait * 2 : Math.min(wait * 2, this.t2)), wait);
			this.timers.add(timer);
		};
		tick(this.t1);
	}

	/** @internal Forgets a call's dialog and our INVITE's transaction (server transactions expire). */
	forget(callId: string, localTag: string, inviteBranch?: string) {
		this.incoming.delete(`${callId}|${localTag}`);
		this.outgoing.delete(`${callId}|${localTag}`);
		if (inviteBranch) this.clientTx.delete(inviteBranch);
	}

	private expire(key: string, ms: number) {
		const t = setTimeout(() => {
			this.timers.delete(t);
			this.serverTx.delete(key);
		}, ms);
		this.timers.add(t);
	}
}
