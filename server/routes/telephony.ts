/**
 * Telephony for the browser (F30 groundwork): an agent's SIP identity for this sign-in, and the internal
 * endpoint Kamailio asks for an agent's password — loopback only, with the key generated at each start.
 */
import { Hono } from 'hono';
import { timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors';
import { requirePermission } from '../middleware/auth';
import { clientAddress } from '../middleware/client-address';
import type { AppDeps, AppEnv } from '../context';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const sameKey = (a: string, b: string) =>
	a.length === b.length &&
	timingSafeEqual(new Uint8Array(Buffer.from(a)), new Uint8Array(Buffer.from(b)));

export const telephonyRoutes = (deps: AppDeps) =>
	new Hono<AppEnv>().post('/credentials', requirePermission('call.take'), (c) => {
		const user = c.get('user')!;
		const phone = deps.phone();
		if (!phone) throw new AppError('conflict', 409, 'Telephony is not running');
		if (!user.agentId) {
			throw new AppError('conflict', 409, 'An agent ID (工号) is needed to take calls');
		}
		const password = phone.credentials.issue(user.agentId, c.get('sessionToken')!);
		const { domain, janusWsPort } = deps.config.sip;
		return c.json(
			{
				username: user.agentId,
				password,
				uri: `sip:${user.agentId}@${domain}`,
				registrar: `sip:${domain}`,
				janusPort: janusWsPort
			},
			200
		);
	});

/** Kamailio's questions; answered as plain text (http_client_query reads the body). */
export const internalRoutes = (deps: AppDeps) =>
	new Hono<AppEnv>().get('/sip/password', async (c) => {
		const phone = deps.phone();
		if (
			!phone ||
			!LOOPBACK.has(clientAddress(c)) ||
			!sameKey(c.req.query('key') ?? '', phone.key)
		) {
			return c.text('', 403);
		}
		const password = await phone.credentials.passwordOf(c.req.query('user') ?? '');
		return password ? c.text(password, 200) : c.text('', 404);
	});
