/**
 * The browser reaches Janus through the app: `GET /janus` upgraded to a WebSocket is checked like every
 * other request (a signed-in user with an agent ID and `call.take`) and then piped byte for byte to Janus's
 * WebSocket transport on loopback. Janus itself listens on 127.0.0.1 only, so nobody uses the gateway
 * without signing in, no other site's page can open it with the user's cookie, and the softphone works through the same origin, port and TLS as the app.
 */
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { parse as parseCookie } from 'hono/utils/cookie';
import type { Sessions } from '../services/sessions';

export const JANUS_PATH = '/janus';

function refuse(socket: Duplex, status: string) {
	socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function createJanusProxy(o: {
	sessions: Pick<Sessions, 'resolve'>;
	cookieName: string;
	/** Janus's WebSocket port on loopback, or null while telephony does not run. */
	port: () => number | null;
}) {
	/** The HTTP server's `upgrade` listener. */
	return function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
		void pipeToJanus(req, socket, head);
	};

	async function pipeToJanus(req: IncomingMessage, socket: Duplex, head: Buffer) {
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
		const upstream: Socket = connect(port, '127.0.0.1');
		upstream.on('error', () => {
			refuse(socket, '502 Bad Gateway');
			upstream.destroy();
		});
		upstream.on('connect', () => {
			// The same handshake, minus the cookie (Janus has no use for the app's session).
			const lines = [`${req.method} ${JANUS_PATH} HTTP/1.1`];
			for (let i = 0; i < req.rawHeaders.length; i += 2) {
				const name = req.rawHeaders[i]!;
				if (name.toLowerCase() === 'cookie') continue;
				lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
			}
			upstream.write(lines.join('\r\n') + '\r\n\r\n');
			if (head.length) upstream.write(new Uint8Array(head));
			upstream.pipe(socket);
			socket.pipe(upstream);
		});
		socket.on('close', () => upstream.destroy());
		upstream.on('close', () => socket.destroy());
	}
}
