/**
 * The app's end of Kamailio's `evapi` socket: netstring-framed JSON both ways (`12:{"a":"b"...},`). Kamailio
 * suspends a call's transaction and tells the app; the app answers when it has decided — so a waiting call
 * holds no Kamailio worker. The app proves itself with the key of this start (first message, and in every
 * decision): Kamailio answers `linked` and sends its events to that connection only. Every event is checked
 * against its schema
 * before it reaches the ACD; anything else is dropped with a log line. Reconnects by itself while the app
 * runs.
 */
import { connect, type Socket } from 'node:net';
import * as v from 'valibot';

const RECONNECT_MS = 300;

const Index = v.pipe(v.number(), v.integer(), v.minValue(0));
const CallId = v.pipe(v.string(), v.minLength(1), v.maxLength(1024));
const Tag = v.pipe(v.string(), v.minLength(1), v.maxLength(256));
/** A caller's or hotline's number as Kamailio read it (user part of a URI). */
const Number_ = v.pipe(v.string(), v.maxLength(128));

/** What Kamailio's configuration (telephony-config.ts) sends, and nothing else. */
export const KamailioEvent = v.variant('event', [
	/** A hotline call, suspended: `tindex`/`tlabel` name its transaction. */
	v.strictObject({
		event: v.literal('offer'),
		tindex: Index,
		tlabel: Index,
		callid: CallId,
		ftag: Tag,
		from: Number_,
		to: Number_,
		/** #16 told again to an app server taking over: when the call first arrived (s since the epoch). */
		at: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
		/** #18 handed over by the voice menu: the Call-ID of the caller's call with the menu. */
		ivr: v.optional(CallId)
	}),
	/** The offered agent did not answer (status of the failure); suspended again. */
	v.strictObject({
		event: v.literal('retry'),
		tindex: Index,
		tlabel: Index,
		callid: CallId,
		status: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(699)),
		/** #16 the call's parties, for an app server that took over and never heard of it. */
		ftag: v.optional(Tag),
		from: v.optional(Number_),
		to: v.optional(Number_)
	}),
	/** The agent's phone answered (200 to the ACD's branch). */
	v.strictObject({ event: v.literal('answered'), callid: CallId, ftag: Tag, ttag: Tag }),
	/** A CANCEL matched to the call's transaction, or a BYE within its dialog. */
	v.strictObject({
		event: v.literal('ended'),
		callid: CallId,
		ftag: Tag,
		ttag: v.optional(Tag),
		cancelled: v.boolean()
	}),
	/** An agent (softphone or desk phone) dialled a number outside; Kamailio relayed it to the carrier. */
	v.strictObject({
		event: v.literal('outbound'),
		callid: CallId,
		ftag: Tag,
		agent: v.pipe(v.string(), v.regex(/^\d{2,20}$/))
	}),
	/** #17 a call outside the distribution rings an agent: a colleague's, or the carrier following a transfer. */
	v.strictObject({
		event: v.literal('agentCalled'),
		callid: CallId,
		ftag: Tag,
		agent: v.pipe(v.string(), v.regex(/^\d{2,20}$/)),
		kind: v.picklist(['internal', 'transfer']),
		/** The caller (user part of From): the transferred caller's number, for the screen pop. */
		from: Number_
	}),
	/** That call (or an agent's own call) failed before it was answered (busy, no answer, refused). */
	v.strictObject({
		event: v.literal('outboundFailed'),
		callid: CallId,
		status: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(699))
	})
]);
export type KamailioEvent = v.InferOutput<typeof KamailioEvent>;

export function connectEvapi(
	port: number,
	/** The key of this start, which Kamailio's configuration expects from the app. */
	key: string,
	/** Where evapi listens: loopback, or (#16) the shared telephony's address. */
	host: string,
	onEvent: (event: KamailioEvent) => void,
	log: (msg: string) => void = () => {},
	/** The link broke after being up: Kamailio restarted or stopped. */
	onDisconnect: () => void = () => {}
) {
	let socket: Socket | null = null;
	let linked = false;
	let stopped = false;
	let buffer: Buffer = Buffer.alloc(0);
	let markReady = () => {};
	// Pending until Kamailio says `linked`; a new one after each link lost, not after each failed attempt.
	const pending = () => new Promise<void>((resolve) => (markReady = resolve));
	let ready = pending();

	const write = (s: Socket, msg: object) => {
		const text = JSON.stringify({ key, ...msg });
		s.write(`${Buffer.byteLength(text)}:${text},`);
	};

	function received(text: string) {
		let parsed: unknown;
		try {
			parsed = JSON.parse(text);
		} catch (err) {
			log(
				`evapi: dropped a message that is not JSON (${(err as Error).message}): ${text.slice(0, 300)}`
			);
			return;
		}
		if ((parsed as { event?: unknown } | null)?.event === 'linked') {
			linked = true;
			markReady();
			return;
		}
		const event = v.safeParse(KamailioEvent, parsed);
		if (!event.success) {
			log(`evapi: dropped a malformed event: ${text.slice(0, 300)}`);
			return;
		}
		onEvent(event.output);
	}

	function open() {
		const s = connect(port, host);
		socket = s;
		let up = false;
		s.on('connect', () => {
			up = true;
			write(s, {}); // the key: Kamailio answers `linked`, and its events come here from then on
		});
		s.on('data', (chunk: Buffer) => {
			buffer = Buffer.concat([new Uint8Array(buffer), new Uint8Array(chunk)]);
			for (;;) {
				const colon = buffer.indexOf(0x3a);
				if (colon < 0) return;
				const length = Number(buffer.subarray(0, colon).toString());
				if (!Number.isInteger(length) || length < 0) {
					log('evapi: framing lost; reconnecting');
					s.destroy();
					return;
				}
				if (buffer.length < colon + 1 + length + 1) return;
				const text = buffer.subarray(colon + 1, colon + 1 + length).toString();
				buffer = buffer.subarray(colon + 2 + length);
				received(text);
			}
		});
		s.on('error', () => {});
		s.on('close', () => {
			socket = null;
			if (linked) ready = pending();
			linked = false;
			buffer = Buffer.alloc(0);
			if (up && !stopped) onDisconnect();
			if (!stopped) setTimeout(open, RECONNECT_MS);
		});
	}
	open();

	return {
		/** Resolves once Kamailio took the app's key (again after each reconnection). */
		connected: () => ready,
		linked: () => linked,
		send(msg: object) {
			if (socket) write(socket, msg);
		},
		close() {
			stopped = true;
			socket?.destroy();
		}
	};
}
export type Evapi = ReturnType<typeof connectEvapi>;
