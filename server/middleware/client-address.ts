/**
 * The client's address, for sign-in limits and logs: the TCP peer, or — when the peer is one of the
 * reverse proxies named in TRUST_PROXY — the address that proxy reports in `X-Forwarded-For` (the nearest
 * one that is not itself a trusted proxy). Without TRUST_PROXY the header is ignored: anyone can send it.
 * Behind an untrusted proxy every client would share one address, and one client's failures would lock
 * out all of them (issue #13).
 */
import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';

/** `::ffff:10.0.0.1` and `10.0.0.1` are the same client. */
const plain = (address: string) => address.trim().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');

function peerAddress(c: Context): string {
	try {
		return plain(getConnInfo(c).remote.address ?? 'unknown');
	} catch {
		return 'unknown';
	}
}

export function clientAddress(c: Context, trusted: readonly string[] = []): string {
	const peer = peerAddress(c);
	if (!trusted.includes(peer)) return peer;
	const hops = (c.req.header('x-forwarded-for') ?? '').split(',').map(plain).filter(Boolean);
	for (let i = hops.length - 1; i >= 0; i--) {
		if (!trusted.includes(hops[i]!)) return hops[i]!;
	}
	return hops[0] ?? peer;
}

/** Whether the request reached us over HTTPS: its own URL, or a trusted proxy's `X-Forwarded-Proto`. */
export function isHttps(c: Context, trusted: readonly string[] = []): boolean {
	if (new URL(c.req.url).protocol === 'https:') return true;
	return (
		trusted.includes(peerAddress(c)) &&
		(c.req.header('x-forwarded-proto') ?? '').split(',')[0]?.trim() === 'https'
	);
}
