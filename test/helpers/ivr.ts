/**
 * What the IVR tests and the bench share: free loopback ports for rtpengine, its RTP range, the engine test's
 * menu, and the caller's media — a UDP socket that keeps what arrives and replays sip-tester's RFC 2833 pcaps.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MenuTree } from '../../server/ivr/menu';
import { now } from '../../server/ivr/rtpengine';

const HOST = '127.0.0.1';
/** sip-tester's audio and DTMF captures. */
export const PCAPS = '/usr/share/sip-tester';

/** A UDP port nothing holds right now (bound once, let go). */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
	const s = createSocket('udp4');
	await new Promise<void>((r) => s.bind(0, host, () => r()));
	const { port } = s.address();
	await new Promise<void>((r) => s.close(() => r()));
	return port;
}

/**
 * A range of `size` RTP ports for one rtpengine, apart from other tests' (random base, 42000–49999: Janus's
 * media ports in the tests are 40000–40999, sipp's below 30000).
 */
export function rtpRange(size = 50): { portMin: number; portMax: number } {
	const base = 42_000 + Math.floor(Math.random() * Math.floor(8_000 / size)) * size;
	return { portMin: base, portMax: base + size - 1 };
}

/** The prompts of the engine's test and bench (spoken by espeak-ng): greeting → 1 → tv → 2 → billing → 0. */
export const TEST_PROMPTS: Record<string, string> = {
	greeting:
		'您好，欢迎致电有线电视客服热线。数字电视请按1，人工服务请按0。我们将竭诚为您服务，请在提示音后选择。',
	tv: '数字电视业务。账单查询请按2，人工服务请按0。',
	billing: '账单查询。人工服务请按0。'
};
export const TEST_MENU: MenuTree = {
	root: 'main',
	nodes: {
		main: {
			prompt: 'greeting',
			keys: { '1': { kind: 'submenu', node: 'tv' }, '0': { kind: 'queue', queue: 'general' } }
		},
		tv: {
			prompt: 'tv',
			keys: { '2': { kind: 'submenu', node: 'billing' }, '0': { kind: 'queue', queue: 'tv' } }
		},
		billing: { prompt: 'billing', keys: { '0': { kind: 'queue', queue: 'billing' } } }
	}
};

/** The caller's RTP endpoint: keeps what arrives (time, source, bytes); sends RTP from the SDP's port. */
export async function mediaSocket() {
	const socket = createSocket('udp4');
	const packets: { at: number; from: { host: string; port: number }; data: Buffer }[] = [];
	let firstPacket: (p: (typeof packets)[number]) => void = () => {};
	const first = new Promise<(typeof packets)[number]>((r) => (firstPacket = r));
	socket.on('message', (data: Buffer, from: RemoteInfo) => {
		const p = { at: now(), from: { host: from.address, port: from.port }, data };
		packets.push(p);
		if (packets.length === 1) firstPacket(p);
	});
	await new Promise<void>((r) => socket.bind(0, HOST, () => r()));
	return {
		port: socket.address().port,
		packets,
		first,
		send: (data: Uint8Array, to: { host: string; port: number }) =>
			new Promise<void>((r) => socket.send(data, to.port, to.host, () => r())),
		close: () => socket.close()
	};
}
export type Media = Awaited<ReturnType<typeof mediaSocket>>;

/** The RTP payloads (with their capture offsets) of a sip-tester pcap: Ethernet, IPv4, UDP. */
export function pcapRtp(file: string): { offsetMs: number; rtp: Uint8Array }[] {
	const d = readFileSync(join(PCAPS, file));
	const out: { offsetMs: number; rtp: Uint8Array }[] = [];
	let first: number | null = null;
	for (let off = 24; off + 16 <= d.length;) {
		const t = d.readUInt32LE(off) * 1000 + d.readUInt32LE(off + 4) / 1000;
		const length = d.readUInt32LE(off + 8);
		const frame = d.subarray(off + 16, off + 16 + length);
		off += 16 + length;
		const ihl = (frame[14]! & 0x0f) * 4;
		first ??= t;
		out.push({ offsetMs: t - first, rtp: new Uint8Array(frame.subarray(14 + ihl + 8)) });
	}
	return out;
}

/**
 * Plays a pcap's RTP to rtpengine at its own pacing (the media's timing, not a wait for an event).
 * Resolves with when the first RFC 2833 end-of-event packet (E bit) left: rtpengine reports the digit then.
 */
export async function playPcap(media: Media, file: string, to: { host: string; port: number }) {
	const started = now();
	let endSentAt = NaN;
	for (const p of pcapRtp(file)) {
		const wait = started + p.offsetMs - now();
		if (wait > 0) await new Promise((r) => setTimeout(r, wait));
		const isEnd = (p.rtp[1]! & 0x7f) === 101 && (p.rtp[13]! & 0x80) !== 0;
		if (isEnd && Number.isNaN(endSentAt)) endSentAt = now();
		await media.send(p.rtp, to);
	}
	return endSentAt;
}
