/**
 * The app's end of Kamailio's `evapi` socket: netstring-framed JSON both ways (`12:{"a":"b"...},`). Kamailio
 * suspends a call's transaction and tells the app; the app answers when it has decided — so a waiting call
 * holds no Kamailio worker. Reconnects by itself while the app runs.
 */
import { connect, type Socket } from 'node:net';

const RECONNECT_MS = 300;

export function connectEvapi(
	port: number,
	onMessage: (msg: Record<string, unknown>) => void,
	log: (msg: string) => void = () => {},
	/** The link broke after being up: Kamailio restarted or stopped. */
	onDisconnect: () => void = () => {}
) {
	let socket: Socket | null = null;
	let stopped = false;
	let buffer: Buffer = Buffer.alloc(0);
	let ready: Promise<void>;
	let markReady = () => {};

	function open() {
		ready = new Promise((resolve) => (markReady = resolve));
		const s = connect(port, '127.0.0.1');
		socket = s;
		let up = false;
		s.on('connect', () => {
			up = true;
			markReady();
		});
		s.on('data', (chunk: Buffer) => {
			buffer = Buffer.concat([new Uint8Array(buffer), new Uint8Array(chunk)]);
			for (;;) {
				const colon = buffer.indexOf(0x3a);
				if (colon < 0) return;
				const length = Number(buffer.subarray(0, colon).toString());
				if (buffer.length < colon + 1 + length + 1) return;
				const text = buffer.subarray(colon + 1, colon + 1 + length).toString();
				buffer = buffer.subarray(colon + 2 + length);
				try {
					onMessage(JSON.parse(text) as Record<string, unknown>);
				} catch (err) {
					log(`evapi: bad message ${text}: ${(err as Error).message}`);
				}
			}
		});
		s.on('error', () => {});
		s.on('close', () => {
			socket = null;
			buffer = Buffer.alloc(0);
			if (up && !stopped) onDisconnect();
			if (!stopped) setTimeout(open, RECONNECT_MS);
		});
	}
	open();

	return {
		connected: () => ready,
		send(msg: object) {
			const text = JSON.stringify(msg);
			socket?.write(`${Buffer.byteLength(text)}:${text},`);
		},
		close() {
			stopped = true;
			socket?.destroy();
		}
	};
}
export type Evapi = ReturnType<typeof connectEvapi>;
