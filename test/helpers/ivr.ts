/**
 * What the IVR tests share: free loopback ports for rtpengine, its RTP range, and the app's sockets.
 */
import { createSocket } from 'node:dgram';

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
