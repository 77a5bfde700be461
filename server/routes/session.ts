/**
 * Sign-in and sign-out (F1), also for scripts: `POST /api/session {username, password}` sets the HttpOnly
 * session cookie and returns the user; `GET` returns who is signed in; `DELETE` signs out.
 */
import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { normalizeUsername, PasswordChange, SignIn } from '#shared/schemas/user';
import { homeOf } from '#shared/permissions';
import { AppError } from '../errors';
import { requireUser, SESSION_COOKIE } from '../middleware/auth';
import { toSessionUser } from '../services/accounts';
import { validJson } from '../validate';
import { clientAddress } from '../middleware/client-address';
import type { AppDeps, AppEnv } from '../context';
import type { Context } from 'hono';

export const sessionRoutes = ({ accounts, sessions, limiter, config }: AppDeps) => {
	const secure = (c: Context) =>
		config.cookieSecure === 'auto' ? new URL(c.req.url).protocol === 'https:' : config.cookieSecure;

	return new Hono<AppEnv>()
		.post('/', validJson(SignIn), async (c) => {
			const { username, password } = c.req.valid('json');
			const ip = clientAddress(c);
			const userKey = [`${ip}|${normalizeUsername(username)}`];
			const ipKey = [ip];
			const wait = Math.max(
				limiter.perUser.retryAfterMs(userKey),
				limiter.perAddress.retryAfterMs(ipKey)
			);
			if (wait > 0) {
				c.header('Retry-After', String(Math.ceil(wait / 1000)));
				throw new AppError('rate_limited', 429, 'Too many failed sign-ins; try again later');
			}
			let user;
			try {
				user = await accounts.authenticate(username, password);
			} catch (err) {
				if (err instanceof AppError && err.code === 'invalid_credentials') {
					limiter.perUser.fail(userKey);
					limiter.perAddress.fail(ipKey);
				}
				throw err;
			}
			limiter.perUser.succeed(userKey);
			const token = await sessions.create(user._id);
			setCookie(c, SESSION_COOKIE, token, {
				httpOnly: true,
				sameSite: 'Lax',
				secure: secure(c),
				path: '/',
				maxAge: Math.floor(sessions.ttlMs / 1000)
			});
			return c.json({ user: toSessionUser(user), home: homeOf(user.permissions) }, 200);
		})
		.get('/', requireUser({ allowPasswordChange: true }), (c) => {
			const user = c.get('user')!;
			return c.json({ user: toSessionUser(user), home: homeOf(user.permissions) }, 200);
		})
		.delete('/', async (c) => {
			const token = c.get('sessionToken');
			if (token) await sessions.revoke(token);
			deleteCookie(c, SESSION_COOKIE, { path: '/' });
			return c.json({ ok: true }, 200);
		})
		.post(
			'/password',
			requireUser({ allowPasswordChange: true }),
			validJson(PasswordChange),
			async (c) => {
				const { currentPassword, newPassword } = c.req.valid('json');
				const user = await accounts.changePassword(c.get('user')!, currentPassword, newPassword);
				await sessions.revokeAll(user._id, c.get('sessionToken') ?? undefined);
				sessions.forgetUser(user._id);
				return c.json({ user: toSessionUser(user), home: homeOf(user.permissions) }, 200);
			}
		);
};
