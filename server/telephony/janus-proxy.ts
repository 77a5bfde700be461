/**
 * The browser reaches Janus through the app: `GET /janus` upgraded to a WebSocket is checked like every
 * other request (a signed-in user with an agent ID and `call.take`, from a page of this origin), and every
 * message is relayed to Janus on loopback only if it is on a closed list — the Janus requests janus.js
 * sends, on the sessions and handles this socket created, and the SIP plugin's requests the softphone
 * makes, each with the fields it uses. Janus reads request names in any case ("Message", "REGISTER"), so
 * names are lower-cased before the check, and what goes to Janus is rebuilt from the checked fields, never
 * the page's own text. The SIP plugin registers only the agent's own identity, always at Kamailio; calls
 * and transfers go only to a colleague's agent ID, a hotline, or — with `call.outbound` — a number, always
 * through Kamailio, without custom headers or a chosen Call-ID; recordings are the server's (F32). #17 a
 * second handle may become the helper of a registered handle of the same socket (`type: helper` with the
 * `master_id` Janus reported to this socket — never another page's), for the consultation of an attended
 * transfer; a transfer may name the call it replaces (`replace`: Janus only finds the calls of the same
 * account).
 * The proxy also watches the calls on the way: when one is accepted it starts the recording itself, named
 * after the ACD's own call record (or, for a call the ACD does not know, after this agent's leg), and when
 * it ends it hands the files over (`onRecorded`). The server closes a user's sockets when the sign-in ends
 * (`closeSessions`), and every socket checks its sign-in again now and then and before each call.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import * as v from 'valibot';
import { parse as parseCookie } from 'hono/utils/cookie';
import type { UserDoc } from '../services/accounts';
import type { Sessions } from '../services/sessions';
import type { RecordingStarted } from './recordings';

export type { RecordingStarted } from './recordings';

export const JANUS_PATH = '/janus';
const PROTOCOL = 'janus-protocol';
const SIP_PLUGIN = 'janus.plugin.sip';
/** An SDP offer of a browser is a few KB; nothing the softphone sends comes near this. */
const MAX_MESSAGE_BYTES = 256 * 1024;
/** janus.js opens one session with two handles (the line and its helper); spare ones cover a retry. */
const MAX_SESSIONS = 2;
const MAX_HANDLES = 4;
/** Messages held while the connection to Janus opens. */
const MAX_WAITING = 100;
const RECHECK_MS = 10_000;
/** The close code the page sees when its sign-in ended (4000–4999: the application's own). */
export const SESSION_ENDED = 4401;

const Id = v.pipe(v.number(), v.integer(), v.minValue(1));
/** janus.js names its transactions with 12 letters and digits; the proxy's own contain a colon. */
const Transaction = v.pipe(v.string(), v.regex(/^[A-Za-z0-9]{1,64}$/));
const Jsep = v.strictObject({
	type: v.picklist(['offer', 'answer']),
	sdp: v.pipe(v.string(), v.maxLength(64 * 1024))
});
const Candidate = v.union([
	v.strictObject({
		candidate: v.pipe(v.string(), v.maxLength(1024)),
		sdpMid: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(64)))),
		sdpMLineIndex: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0))))
	}),
	v.strictObject({ completed: v.literal(true) })
]);

/** The Janus requests janus.js sends (janus.es.js), with the fields each may carry. */
const Requests = {
	create: v.strictObject({ janus: v.literal('create'), transaction: Transaction }),
	attach: v.strictObject({
		janus: v.literal('attach'),
		transaction: Transaction,
		session_id: Id,
		plugin: v.literal(SIP_PLUGIN)
	}),
	message: v.strictObject({
		janus: v.literal('message'),
		transaction: Transaction,
		session_id: Id,
		handle_id: Id,
		body: v.record(v.string(), v.unknown()),
		jsep: v.optional(Jsep)
	}),
	trickle: v.strictObject({
		janus: v.literal('trickle'),
		transaction: Transaction,
		session_id: Id,
		handle_id: Id,
		candidate: Candidate
	}),
	keepalive: v.strictObject({
		janus: v.literal('keepalive'),
		transaction: Transaction,
		session_id: Id
	}),
	hangup: v.strictObject({
		janus: v.literal('hangup'),
		transaction: Transaction,
		session_id: Id,
		handle_id: Id
	}),
	detach: v.strictObject({
		janus: v.literal('detach'),
		transaction: Transaction,
		session_id: Id,
		handle_id: Id
	}),
	destroy: v.strictObject({
		janus: v.literal('destroy'),
		transaction: Transaction,
		session_id: Id
	})
};
type Verb = keyof typeof Requests;

const SipUri = v.pipe(v.string(), v.maxLength(200));
/** No control characters, quotes or separators: the value goes into SIP headers. */
const Token = v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,128}$/));
/**
 * The SIP plugin's requests the softphone makes, with exactly the fields it uses. Everything else is
 * refused: other requests (recording, message, info, subscribe…) and fields such as `headers`, `call_id`,
 * `contact_params`, `type` (guest), `sips`, `authuser`, `refer_id`, `srtp`. A register with `type` is a
 * helper's (`HelperRegister`).
 */
const SipRequests = {
	register: v.strictObject({
		request: v.literal('register'),
		username: SipUri,
		secret: Token,
		proxy: v.optional(SipUri),
		outbound_proxy: v.optional(SipUri),
		display_name: v.optional(v.pipe(v.string(), v.maxLength(64)))
	}),
	unregister: v.strictObject({ request: v.literal('unregister') }),
	call: v.strictObject({ request: v.literal('call'), uri: SipUri }),
	accept: v.strictObject({ request: v.literal('accept') }),
	decline: v.strictObject({
		request: v.literal('decline'),
		code: v.optional(v.pipe(v.number(), v.integer(), v.minValue(400), v.maxValue(699)))
	}),
	hangup: v.strictObject({ request: v.literal('hangup') }),
	hold: v.strictObject({
		request: v.literal('hold'),
		direction: v.optional(v.picklist(['sendonly', 'recvonly', 'inactive']))
	}),
	unhold: v.strictObject({ request: v.literal('unhold') }),
	dtmf_info: v.strictObject({
		request: v.literal('dtmf_info'),
		digit: v.pipe(v.string(), v.regex(/^[0-9*#A-D]$/)),
		duration: v.optional(v.pipe(v.number(), v.integer(), v.minValue(40), v.maxValue(5000)))
	}),
	transfer: v.strictObject({
		request: v.literal('transfer'),
		uri: SipUri,
		replace: v.optional(Token)
	}),
	update: v.strictObject({ request: v.literal('update') })
};
type SipRequest = keyof typeof SipRequests;
/** #17 a helper of a registered line of this socket: no REGISTER goes out, calls use the master's account. */
const HelperRegister = v.strictObject({
	request: v.literal('register'),
	type: v.literal('helper'),
	/** Janus 1.1 asks for it even though a helper uses the master's: this agent's own identity only. */
	username: SipUri,
	master_id: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(0xffff_ffff))
});
/** Requests that carry the SDP of a call; no other may. */
const WITH_JSEP = new Set<SipRequest>(['call', 'accept', 'update']);

function refuse(socket: Duplex, status: string) {
	socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** May this user have a softphone at all? */
const mayPhone = (user: UserDoc | null): user is UserDoc & { agentId: string } =>
	!!user && !!user.agentId && user.permissions.includes('call.take') && !user.mustChangePassword;

const lower = (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value);
/** A name the page sent, as quoted back in a refusal. */
const shown = (value: unknown) => JSON.stringify(value ?? null).slice(0, 40);

/** The header by which Kamailio marks the calls it hands to Janus (telephony-config.ts, route TO_GATEWAY). */
export const GATE_HEADER = 'X-CC-Gate';

/** One open softphone socket, as `closeSessions` sees it. */
export interface JanusSocket {
	userId: string;
	agentId: string;
	/** The sign-in's session token (the cookie). */
	token: string;
}

export interface JanusProxyOptions {
	sessions: Pick<Sessions, 'resolve'>;
	cookieName: string;
	/** Janus's WebSocket port on loopback, or null while telephony does not run. */
	port: () => number | null;
	/** Kamailio as seen from Janus (`sip:host:port`), the agents' SIP domain and the hotline numbers. */
	sip: () => { proxy: string; domain: string; hotlines: readonly string[] };
	/** Whether `id` is an agent ID of this center (a colleague one may call or transfer to). */
	isAgent: (id: string) => Promise<boolean>;
	/**
	 * The ACD's hotline call this agent is offered or talking on, when its SIP Call-ID is `sipCallId`;
	 * null for any other call (agent to agent, outbound, or a Call-ID the ACD did not give this agent).
	 */
	acdCall: (agentId: string, sipCallId: string) => string | null;
	/**
	 * The mark Kamailio puts on calls it hands to Janus (`X-CC-Gate`), or null while telephony is off: an
	 * incoming call without it was sent straight to Janus's SIP port, past Kamailio, and is declined.
	 */
	gateToken: () => string | null;
	/** #16 the address of Janus's WebSocket (loopback, or the shared Janus of several app servers). */
	host?: string;
	/** Where a call's recording goes (path without extension), or null when calls are not recorded. */
	recordingBase: (acdCallId: string | null, agentId: string) => string | null;
	onRecorded: (recording: RecordingStarted) => void;
	/** How often an open socket checks that its sign-in still allows a softphone. */
	recheckMs?: number;
}

export function createJanusProxy(o: JanusProxyOptions) {
	const wss = new WebSocketServer({
		noServer: true,
		maxPayload: MAX_MESSAGE_BYTES,
		handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false)
	});
	/** The open sockets, each with how to end it. */
	const open = new Map<WebSocket, { socket: JanusSocket; end: () => void }>();

	return {
		/** The HTTP server's `upgrade` listener. */
		upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
			void admit(req, socket, head);
		},
		/**
		 * Closes every open softphone socket the predicate picks (a user signed out, disabled, or their
		 * password reset); Janus then ends their calls and registrations. Returns how many were closed.
		 */
		closeSessions(pick: (s: JanusSocket) => boolean): number {
			let closed = 0;
			for (const { socket, end } of [...open.values()]) {
				if (!pick(socket)) continue;
				end();
				closed += 1;
			}
			return closed;
		},
		/** The sockets open now. */
		sockets: (): JanusSocket[] => [...open.values()].map((s) => s.socket)
	};

	async function admit(req: IncomingMessage, socket: Duplex, head: Buffer) {
		socket.on('error', () => socket.destroy());
		const path = (req.url ?? '').split('?')[0];
		if (path !== JANUS_PATH) return refuse(socket, '404 Not Found');
		// Browsers send cookies with cross-site WebSockets too: only pages of this origin may open one.
		const origin = req.headers.origin;
		if (origin !== undefined && URL.parse(origin)?.host !== req.headers.host) {
			return refuse(socket, '403 Forbidden');
		}
		const port = o.port();
		if (port === null) return refuse(socket, '503 Service Unavailable');
		const token = parseCookie(req.headers.cookie ?? '', o.cookieName)[o.cookieName];
		const user = token ? await o.sessions.resolve(token).catch(() => null) : null;
		if (!user) return refuse(socket, '401 Unauthorized');
		if (!mayPhone(user)) return refuse(socket, '403 Forbidden');
		wss.handleUpgrade(req, socket, head, (client) => relay(client, port, user, token!));
	}

	function relay(
		client: WebSocket,
		port: number,
		first: UserDoc & { agentId: string },
		token: string
	) {
		const agentId = first.agentId;
		open.set(client, { socket: { userId: first._id, agentId, token }, end: () => end() });
		const upstream = new WebSocket(`ws://${o.host ?? '127.0.0.1'}:${port}`, PROTOCOL);
		const waiting: string[] = [];
		/** Janus sessions and handles (handle → session) this socket created; no other may be used. */
		const sessions = new Set<number>();
		const handles = new Map<number, number>();
		/** create/attach requests on their way: the answer's id becomes this socket's. */
		const pending = new Map<string, { verb: 'create' } | { verb: 'attach'; session: number }>();
		/** The call on each SIP handle, whether it came in, and the recordings this proxy started. */
		const callOf = new Map<number, { sipCallId: string; incoming: boolean }>();
		/** The `master_id`s Janus gave this socket's registered lines: the only ones a helper may name. */
		const masters = new Set<number>();
		const recording = new Map<number, RecordingStarted>();
		const ours = new Set<string>();
		let counter = 0;
		/** Calls declined because they bypassed Kamailio (handle → SIP Call-ID): their events stay here. */
		const bypassed = new Map<number, string>();
		/** Events rewritten on the way (the mark taken out): sent as re-serialised, not as received. */
		const marked = new WeakSet<object>();
		let closed = false;

		const toClient = (msg: object) => {
			if (client.readyState === WebSocket.OPEN) client.send(JSON.stringify(msg));
		};
		const toJanus = (msg: object) => {
			const text = JSON.stringify(msg);
			if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
			else if (waiting.length < MAX_WAITING) waiting.push(text);
			else closeBoth();
		};
		const refused = (msg: Record<string, unknown>, reason: string) =>
			toClient({
				janus: 'error',
				transaction: typeof msg.transaction === 'string' ? msg.transaction : undefined,
				session_id: typeof msg.session_id === 'number' ? msg.session_id : undefined,
				error: { code: 403, reason }
			});

		let known: UserDoc = first;
		/** The sign-in as it is now; the socket closes when it no longer allows a softphone. */
		async function current(): Promise<UserDoc | null> {
			// The store out of reach for a moment does not hang up the agent: the last answer holds.
			const now = await o.sessions.resolve(token).catch(() => known);
			if (!mayPhone(now) || now.agentId !== agentId) {
				end();
				return null;
			}
			known = now;
			return now;
		}
		const recheck = setInterval(() => void current(), o.recheckMs ?? RECHECK_MS);
		recheck.unref();

		upstream.on('open', () => {
			for (const text of waiting.splice(0)) upstream.send(text);
		});

		// One message at a time, in order: some checks wait for the store, and a trickle candidate must
		// never overtake the offer it belongs to.
		let queue = Promise.resolve();
		client.on('message', (data: RawData) => {
			queue = queue.then(() => handle(String(data))).catch(() => closeBoth());
		});

		async function handle(text: string) {
			if (closed) return;
			let raw: unknown;
			try {
				raw = JSON.parse(text);
			} catch {
				return refused({}, 'Not JSON');
			}
			if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
				return refused({}, 'Not a Janus request');
			}
			const msg = raw as Record<string, unknown>;
			const verb = String(lower(msg.janus));
			if (!Object.hasOwn(Requests, verb)) return refused(msg, `Not allowed: ${shown(msg.janus)}`);
			const parsed = v.safeParse(Requests[verb as Verb], { ...msg, janus: verb });
			if (!parsed.success) {
				const field = v.getDotPath(parsed.issues[0]) ?? verb;
				return refused(msg, `Not allowed in ${verb}: ${field}`);
			}
			const req = parsed.output as Record<string, unknown> & { transaction: string };
			const session = req.session_id as number | undefined;
			const handleId = req.handle_id as number | undefined;
			if (session !== undefined && !sessions.has(session)) {
				return refused(msg, 'Not a session of this connection');
			}
			if (handleId !== undefined && handles.get(handleId) !== session) {
				return refused(msg, 'Not a handle of this session');
			}
			if (pending.has(req.transaction)) return refused(msg, 'Transaction in use');
			const asked = [...pending.values()];
			switch (verb as Verb) {
				case 'create': {
					const creating = asked.filter((p) => p.verb === 'create').length;
					if (sessions.size + creating >= MAX_SESSIONS) return refused(msg, 'Too many sessions');
					pending.set(req.transaction, { verb: 'create' });
					break;
				}
				case 'attach': {
					const attached = [...handles.values(), ...asked.map((p) => 'session' in p && p.session)];
					if (attached.filter((s) => s === session).length >= MAX_HANDLES) {
						return refused(msg, 'Too many handles');
					}
					pending.set(req.transaction, { verb: 'attach', session: session! });
					break;
				}
				case 'message': {
					const body = await sipRequest(req.body as Record<string, unknown>, !!req.jsep);
					if (typeof body === 'string') return refused(msg, body);
					req.body = body;
					break;
				}
				case 'detach':
					handles.delete(handleId!);
					break;
				case 'destroy':
					sessions.delete(session!);
					for (const [h, s] of handles) if (s === session) handles.delete(h);
					break;
			}
			toJanus(req);
		}

		/** The SIP plugin request as it goes to Janus, or why it is refused. */
		async function sipRequest(
			raw: Record<string, unknown>,
			withJsep: boolean
		): Promise<Record<string, unknown> | string> {
			const name = String(lower(raw.request));
			if (!Object.hasOwn(SipRequests, name)) return `Not allowed: ${shown(raw.request)}`;
			if (name === 'register' && raw.type !== undefined) return helperRegister(raw);
			const parsed = v.safeParse(SipRequests[name as SipRequest], { ...raw, request: name });
			if (!parsed.success) {
				return `Not allowed in ${name}: ${v.getDotPath(parsed.issues[0]) ?? 'body'}`;
			}
			if (withJsep && !WITH_JSEP.has(name as SipRequest)) return `No SDP with ${name}`;
			const body = parsed.output as Record<string, unknown>;
			const { proxy, domain } = o.sip();
			switch (name as SipRequest) {
				case 'register': {
					if (!(await current())) return 'Signed out';
					const own = `sip:${agentId}@${domain}`;
					if (body.username !== own) return `Register only as ${own}`;
					for (const via of [body.proxy, body.outbound_proxy]) {
						if (via !== undefined && via !== proxy) return `Register only at ${proxy}`;
					}
					if (body.display_name !== undefined && body.display_name !== agentId) {
						return `Register only as ${agentId}`;
					}
					// Registration, and every call of this handle, through Kamailio; Janus reports Kamailio's
					// mark on incoming calls (GATE_HEADER), so calls that bypassed Kamailio are recognised.
					return {
						...body,
						proxy,
						outbound_proxy: proxy,
						incoming_header_prefixes: [GATE_HEADER]
					};
				}
				case 'call':
				case 'transfer': {
					const now = await current();
					if (!now) return 'Signed out';
					const why = await reachable(String(body.uri), now);
					return why ?? body;
				}
				default:
					return body;
			}
		}

		/** A helper's registration as it goes to Janus, or why it is refused. */
		async function helperRegister(raw: Record<string, unknown>) {
			const parsed = v.safeParse(HelperRegister, { ...raw, request: 'register' });
			if (!parsed.success) {
				return `Not allowed in register: ${v.getDotPath(parsed.issues[0]) ?? 'body'}`;
			}
			if (!masters.has(parsed.output.master_id)) return 'Helper only of a line of this page';
			if (!(await current())) return 'Signed out';
			const own = `sip:${agentId}@${o.sip().domain}`;
			if (parsed.output.username !== own) return `Register only as ${own}`;
			return { ...parsed.output };
		}

		/** Why the agent may not call or transfer to `uri`, or null when it may. */
		async function reachable(uri: string, now: UserDoc): Promise<string | null> {
			const { domain, hotlines } = o.sip();
			const m = /^sip:(\+?[0-9]{1,20})@([A-Za-z0-9.-]+)$/.exec(uri);
			if (!m || m[2]!.toLowerCase() !== domain.toLowerCase()) {
				return `Only sip:<agent ID, hotline or number>@${domain}`;
			}
			const target = m[1]!;
			if (hotlines.includes(target)) return null;
			if (/^[0-9]{3,8}$/.test(target) && (await o.isAgent(target).catch(() => false))) return null;
			if (!/^\+?[0-9]{3,20}$/.test(target)) return `Not a number: ${target}`;
			return now.permissions.includes('call.outbound')
				? null
				: 'Numbers outside need the permission call.outbound';
		}

		upstream.on('message', (data: RawData) => {
			const text = String(data);
			let msg: Record<string, unknown> = {};
			try {
				msg = JSON.parse(text) as Record<string, unknown>;
			} catch {
				// passed on as it is
			}
			if (typeof msg.transaction === 'string' && ours.has(msg.transaction)) {
				if (msg.janus !== 'ack') ours.delete(msg.transaction);
				return; // the answer to the proxy's own request
			}
			learn(msg);
			if (!admitCall(msg)) return;
			watch(msg);
			if (client.readyState === WebSocket.OPEN) {
				client.send(marked.has(msg) ? JSON.stringify(msg) : text);
			}
		});

		/**
		 * Incoming calls ring the softphone only when Kamailio handed them to Janus (its mark in GATE_HEADER):
		 * an INVITE sent straight to Janus's SIP port from the network is declined here, and the page hears
		 * nothing of it. The mark itself never reaches the page. False when the event is not for the page.
		 */
		function admitCall(msg: Record<string, unknown>): boolean {
			if (msg.janus !== 'event') return true;
			const handle = Number(msg.sender);
			const data = (msg.plugindata as { data?: Record<string, unknown> } | undefined)?.data;
			const result = (data?.result ?? {}) as Record<string, unknown>;
			const sipCallId = String(data?.call_id ?? result.call_id ?? '');
			const bypass = bypassed.get(handle);
			if (bypass !== undefined && (sipCallId === bypass || sipCallId === '')) {
				if (result.event === 'hangup') bypassed.delete(handle);
				return false;
			}
			if (result.event !== 'incomingcall' && result.event !== 'missed_call') return true;
			const headers = (result.headers ?? {}) as Record<string, unknown>;
			const mark = Object.entries(headers).find(
				([name]) => name.toLowerCase() === GATE_HEADER.toLowerCase()
			)?.[1];
			const token = o.gateToken();
			if (token !== null && mark === token) {
				for (const name of Object.keys(headers)) {
					if (name.toLowerCase() === GATE_HEADER.toLowerCase()) delete headers[name];
				}
				marked.add(msg);
				return true;
			}
			if (result.event === 'incomingcall') {
				bypassed.set(handle, sipCallId);
				const transaction = `gate:${Date.now().toString(36)}:${counter++}`;
				ours.add(transaction);
				toJanus({
					janus: 'message',
					session_id: msg.session_id,
					handle_id: handle,
					transaction,
					body: { request: 'decline', code: 403 }
				});
			}
			return false;
		}

		/** Janus's answers to create and attach: the ids this socket may use from now on. */
		function learn(msg: Record<string, unknown>) {
			const asked = typeof msg.transaction === 'string' ? pending.get(msg.transaction) : undefined;
			if (asked && msg.janus !== 'ack') pending.delete(msg.transaction as string);
			const id = Number((msg.data as { id?: unknown } | undefined)?.id);
			if (asked && msg.janus === 'success' && Number.isSafeInteger(id)) {
				if (asked.verb === 'create') sessions.add(id);
				else handles.set(id, asked.session);
			}
			if (msg.janus === 'detached') handles.delete(Number(msg.sender));
			if (msg.janus === 'timeout') {
				const gone = Number(msg.session_id);
				sessions.delete(gone);
				for (const [h, s] of handles) if (s === gone) handles.delete(h);
			}
		}

		/** Follows the SIP plugin's events of this page: start recording when a call is up, finish at its end. */
		function watch(msg: Record<string, unknown>) {
			if (msg.janus !== 'event') return;
			const handle = Number(msg.sender);
			const data = ((msg.plugindata as { data?: Record<string, unknown> } | undefined)?.data ??
				{}) as Record<string, unknown>;
			const result = (data.result ?? {}) as Record<string, unknown>;
			const sipCallId = String(data.call_id ?? result.call_id ?? '');
			switch (result.event) {
				case 'registering':
				case 'registered':
					if (result.helper !== true && typeof result.master_id === 'number') {
						masters.add(result.master_id);
					}
					return;
				case 'incomingcall':
				case 'calling':
					if (sipCallId) {
						callOf.set(handle, { sipCallId, incoming: result.event === 'incomingcall' });
					}
					return;
				case 'accepted': {
					const call = callOf.get(handle);
					if (!call || recording.has(handle)) return;
					// A hotline call is named after the ACD's record of it — only when the ACD itself gave this
					// agent that call; any other call after this agent's own leg.
					const acdCallId = call.incoming ? o.acdCall(agentId, call.sipCallId) : null;
					const base = o.recordingBase(acdCallId, agentId);
					if (!base) return;
					const transaction = `rec:${Date.now().toString(36)}:${counter++}`;
					ours.add(transaction);
					toJanus({
						janus: 'message',
						session_id: msg.session_id,
						handle_id: handle,
						transaction,
						body: {
							request: 'recording',
							action: 'start',
							audio: true,
							peer_audio: true,
							filename: base
						}
					});
					recording.set(handle, { callId: acdCallId, agentId, base });
					return;
				}
				case 'hangup': {
					const done = recording.get(handle);
					recording.delete(handle);
					callOf.delete(handle);
					if (done) o.onRecorded(done);
					return;
				}
			}
		}

		/** The sign-in ended: the page is told so, and Janus ends its calls and registration. */
		function end() {
			client.close(SESSION_ENDED, 'Session ended');
			closeBoth();
		}
		function closeBoth() {
			if (closed) return;
			closed = true;
			open.delete(client);
			clearInterval(recheck);
			if (client.readyState !== WebSocket.CLOSED) client.close();
			upstream.close();
			for (const done of recording.values()) o.onRecorded(done);
			recording.clear();
		}
		client.on('close', closeBoth);
		upstream.on('close', closeBoth);
		client.on('error', closeBoth);
		upstream.on('error', closeBoth);
	}
}
