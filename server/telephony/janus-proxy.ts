/**
 * The browser reaches Janus through the app: `GET /janus` upgraded to a WebSocket is checked like every
 * other request (a signed-in user with an agent ID and `call.take`, from a page of this origin), and every
 * message is relayed to Janus on loopback only if the agent may send it — the SIP plugin only, registering
 * only the agent's own identity at Kamailio, no recording requests (recordings are the server's, F32).
 * The proxy also watches the calls on the way: when one is accepted it starts the recording itself, and
 * when it ends it hands the files over (`onRecorded`).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { parse as parseCookie } from 'hono/utils/cookie';
import type { UserDoc } from '../services/accounts';
import type { Sessions } from '../services/sessions';

export const JANUS_PATH = '/janus';
const PROTOCOL = 'janus-protocol';
/** What an agent's page may ask of the SIP plugin. */
const ALLOWED_REQUESTS = new Set([
	'register',
	'unregister',
	'call',
	'accept',
	'decline',
	'hangup',
	'hold',
	'unhold',
	'dtmf_info',
	'transfer',
	'update',
	'info'
]);

function refuse(socket: Duplex, status: string) {
	socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export interface RecordingStarted {
	callId: string;
	agentId: string;
	/** Janus's files are `<base>-user-audio.mjr` and `<base>-peer-audio.mjr`. */
	base: string;
}

export interface JanusProxyOptions {
	sessions: Pick<Sessions, 'resolve'>;
	cookieName: string;
	/** Janus's WebSocket port on loopback, or null while telephony does not run. */
	port: () => number | null;
	/** Kamailio as seen from Janus (`sip:host:port`) and the agents' SIP domain. */
	sip: () => { proxy: string; domain: string };
	/** Where a call's recording goes (path without extension), or null when calls are not recorded. */
	recordingBase: (callId: string) => string | null;
	onRecorded: (recording: RecordingStarted) => void;
}

export function createJanusProxy(o: JanusProxyOptions) {
	const wss = new WebSocketServer({
		noServer: true,
		handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false)
	});

	/** The HTTP server's `upgrade` listener. */
	return function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
		void admit(req, socket, head);
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
		if (!user.agentId || !user.permissions.includes('call.take') || user.mustChangePassword) {
			return refuse(socket, '403 Forbidden');
		}
		wss.handleUpgrade(req, socket, head, (client) => relay(client, port, user));
	}

	function relay(client: WebSocket, port: number, user: UserDoc) {
		const agentId = user.agentId!;
		const upstream = new WebSocket(`ws://127.0.0.1:${port}`, PROTOCOL);
		const waiting: string[] = [];
		/** The call on each SIP handle, and the recordings this proxy started (handle → recording). */
		const callOf = new Map<number, string>();
		const recording = new Map<number, RecordingStarted>();
		const ours = new Set<string>();
		let counter = 0;

		const toClient = (msg: object) => {
			if (client.readyState === WebSocket.OPEN) client.send(JSON.stringify(msg));
		};
		const toJanus = (text: string) => {
			if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
			else waiting.push(text);
		};
		const refused = (msg: Record<string, unknown>, reason: string) =>
			toClient({
				janus: 'error',
				transaction: msg.transaction,
				session_id: msg.session_id,
				error: { code: 403, reason }
			});

		upstream.on('open', () => {
			for (const text of waiting.splice(0)) upstream.send(text);
		});
		client.on('message', (data: RawData) => {
			let msg: Record<string, unknown>;
			try {
				msg = JSON.parse(String(data)) as Record<string, unknown>;
			} catch {
				return refused({}, 'Not JSON');
			}
			if (msg.janus === 'attach' && msg.plugin !== 'janus.plugin.sip') {
				return refused(msg, 'Only the SIP plugin');
			}
			if (msg.janus === 'message') {
				const body = (msg.body ?? {}) as Record<string, unknown>;
				const request = String(body.request ?? '');
				if (!ALLOWED_REQUESTS.has(request)) return refused(msg, `Not allowed: ${request}`);
				if (request === 'register') {
					const { proxy, domain } = o.sip();
					const own = `sip:${agentId}@${domain}`;
					if (
						body.username !== own ||
						body.proxy !== proxy ||
						(body.outbound_proxy !== undefined && body.outbound_proxy !== proxy) ||
						body.authuser !== undefined ||
						body.type !== undefined
					) {
						return refused(msg, `Register only as ${own} at ${proxy}`);
					}
				}
			}
			toJanus(String(data));
		});
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
			watch(msg);
			if (client.readyState === WebSocket.OPEN) client.send(text);
		});

		/** Follows the SIP plugin's events of this page: start recording when a call is up, finish at its end. */
		function watch(msg: Record<string, unknown>) {
			if (msg.janus !== 'event') return;
			const handle = Number(msg.sender);
			const data = ((msg.plugindata as { data?: Record<string, unknown> } | undefined)?.data ??
				{}) as Record<string, unknown>;
			const result = (data.result ?? {}) as Record<string, unknown>;
			const callId = String(data.call_id ?? result.call_id ?? '');
			if (callId) callOf.set(handle, callId);
			switch (result.event) {
				case 'accepted': {
					const call = callOf.get(handle);
					const base = call ? o.recordingBase(call) : null;
					if (!call || !base || recording.has(handle)) return;
					const transaction = `rec-${Date.now().toString(36)}-${counter++}`;
					ours.add(transaction);
					toJanus(
						JSON.stringify({
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
						})
					);
					recording.set(handle, { callId: call, agentId, base });
					return;
				}
				case 'hangup': {
					const done = recording.get(handle);
					recording.delete(handle);
					callOf.delete(handle);
					// Janus closes the files as the call ends; give it a moment.
					if (done) setTimeout(() => o.onRecorded(done), 500).unref();
					return;
				}
			}
		}

		const closeBoth = () => {
			client.close();
			upstream.close();
			for (const done of recording.values()) setTimeout(() => o.onRecorded(done), 500).unref();
			recording.clear();
		};
		client.on('close', closeBoth);
		upstream.on('close', closeBoth);
		client.on('error', closeBoth);
		upstream.on('error', closeBoth);
	}
}
