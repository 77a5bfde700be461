/**
 * #16 with TELEPHONY=shared, the ACD runs on the app server holding the lease. The others pass the requests
 * that need it — an agent's state, the softphone's identity, the wallboard, Kamailio's questions — to that
 * server as they came (the session cookie, Kamailio's key), where they are checked again as on one server.
 * While nobody holds the lease (the seconds of a takeover) they are answered 503 with Retry-After.
 */
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors';
import { clientAddress } from '../middleware/client-address';
import type { AppEnv } from '../context';

/** What only the server routing calls can answer. */
const ROUTED =
	/^\/(api\/telephony\/(state|call-ended|board|calls|credentials)|internal\/sip\/(secret|outbound))$/;
const PASSED_HEADERS = ['cookie', 'content-type', 'accept', 'accept-language', 'user-agent'];
const ANSWER_HEADERS = ['content-type', 'cache-control', 'retry-after', 'set-cookie'];
const FORWARD_TIMEOUT_MS = 5_000;

export type CallRouting = 'here' | { url: string | null };

export function forwardCallRouting(
	routing: () => CallRouting,
	trustedProxies: readonly string[]
): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		if (!ROUTED.test(c.req.path)) return next();
		const where = routing();
		if (where === 'here') return next();
		const moving = new AppError(
			'too_busy',
			503,
			'Call routing is moving to another app server; try again in a moment'
		);
		if (!where.url) {
			c.header('retry-after', '1');
			throw moving;
		}
		const headers = new Headers();
		for (const name of PASSED_HEADERS) {
			const value = c.req.header(name);
			if (value !== undefined) headers.set(name, value);
		}
		headers.set('x-forwarded-for', clientAddress(c, trustedProxies));
		const target = new URL(c.req.path + new URL(c.req.url).search, where.url);
		// This server checked the page's origin already (postsFromThisOrigin): it vouches for it there.
		headers.set('origin', target.origin);
		const body =
			c.req.method === 'GET' || c.req.method === 'HEAD' ? undefined : await c.req.arrayBuffer();
		let answer: Response;
		try {
			answer = await fetch(target, {
				method: c.req.method,
				headers,
				body,
				redirect: 'manual',
				signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS)
			});
		} catch {
			c.header('retry-after', '1');
			throw moving;
		}
		const out = new Headers();
		for (const name of ANSWER_HEADERS) {
			const value = answer.headers.get(name);
			if (value !== null) out.set(name, value);
		}
		return new Response(await answer.arrayBuffer(), { status: answer.status, headers: out });
	};
}
