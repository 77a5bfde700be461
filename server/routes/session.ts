/**
 * Sign-in and sign-out (F1), also for scripts: `POST /api/session {username, password}` sets the HttpOnly
 * session cookie and returns the user; `GET` returns who is signed in; `DELETE` signs out, and
 * `DELETE ?everywhere=1` ends every sign-in of the user (other browsers, tablets, the softphone).
 *
 * Failed sign-ins are limited per account and client address, per address and per account; each attempt is
 * counted before its password is checked (issue #13).
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { deleteCookie, setCookie } from 'hono/cookie';
import { normalizeUsername, PasswordChange, SignIn } from '#shared/schemas/user';
import { homeOf } from '#shared/permissions';
import { AppError } from '../errors';
import { requireUser, SESSION_COOKIE } from '../middleware/auth';
import { toSessionUser, type UserDoc } from '../services/accounts';
import { validJson, validQuery } from '../validate';
import { doc, send } from '../openapi';
import { Ok } from '#shared/wire/errors';
import { SessionAnswer } from '#shared/wire/accounts';
import { clientAddress, isHttps } from '../middleware/client-address';
import type { AppDeps, AppEnv } from '../context';
import type { Context } from 'hono';

/** `everywhere=1` signs out every sign-in of the user; anything else only this one. */
const SignOutQuery = v.object({ everywhere: v.optional(v.string(), '') });

export const sessionRoutes = ({ accounts, sessions, limiter, settings, audit }: AppDeps) => {
	const secure = (c: Context) =>
		settings.cookieSecure === 'auto' ? isHttps(c, settings.trustedProxies) : settings.cookieSecure;

	const tooMany = (c: Context, waitMs: number) => {
		c.header('Retry-After', String(Math.max(1, Math.ceil(waitMs / 1000))));
		return new AppError('rate_limited', 429, 'Too many failed sign-ins; try again later');
	};

	const answer = (user: UserDoc) => ({ user: toSessionUser(user), home: homeOf(user.permissions) });

	return new Hono<AppEnv>()
		.post(
			'/',
			doc('Signs in: sets the session cookie and answers who is signed in', SessionAnswer, {
				access: 'public'
			}),
			validJson(SignIn),
			async (c) => {
				const { username, password } = c.req.valid('json');
				const ip = clientAddress(c, settings.trustedProxies);
				const name = normalizeUsername(username);
				const keys = [
					[limiter.perPair, [`${ip}|${name}`]],
					[limiter.perAddress, [ip]],
					[limiter.perAccount, [name]]
				] as const;
				const wait = Math.max(...keys.map(([l, k]) => l.retryAfterMs([...k])));
				if (wait > 0) throw tooMany(c, wait);
				// Counted now, before the (slow) password hash; taken back if it was not a wrong guess.
				const taken: (() => void)[] = [];
				for (const [l, k] of keys) {
					const undo = l.reserve([...k]);
					if (!undo) {
						for (const t of taken) t();
						throw tooMany(c, Math.max(...keys.map(([l2, k2]) => l2.retryAfterMs([...k2]))));
					}
					taken.push(undo);
				}
				let user;
				try {
					user = await accounts.authenticate(username, password);
				} catch (err) {
					if (!(err instanceof AppError && err.code === 'invalid_credentials')) {
						for (const t of taken) t();
					}
					throw err;
				}
				for (const t of taken) t();
				limiter.perPair.succeed([`${ip}|${name}`]);
				const token = await sessions.create(user._id);
				setCookie(c, SESSION_COOKIE, token, {
					httpOnly: true,
					sameSite: 'Lax',
					secure: secure(c),
					path: '/',
					maxAge: Math.floor(sessions.ttlMs / 1000)
				});
				return send(c, SessionAnswer, answer(user));
			}
		)
		.get(
			'/',
			doc('Who is signed in, and their home screen', SessionAnswer),
			requireUser({ allowPasswordChange: true }),
			(c) => send(c, SessionAnswer, answer(c.get('user')!))
		)
		.delete(
			'/',
			doc('Signs out; with everywhere=1 ends every sign-in of the user (signed in only)', Ok, {
				access: 'public'
			}),
			validQuery(SignOutQuery),
			async (c) => {
				const token = c.get('sessionToken');
				const user = c.get('user');
				if (c.req.valid('query').everywhere === '1') {
					if (!user) throw new AppError('unauthorized', 401, 'Sign in first');
					await sessions.revokeAll(user._id);
					await audit.record({
						actor: user._id,
						action: 'user.signOutEverywhere',
						target: user._id
					});
				} else if (token) await sessions.revoke(token);
				deleteCookie(c, SESSION_COOKIE, { path: '/' });
				return send(c, Ok, { ok: true });
			}
		)
		.post(
			'/password',
			doc("Changes the own password; ends the user's other sign-ins", SessionAnswer),
			requireUser({ allowPasswordChange: true }),
			validJson(PasswordChange),
			async (c) => {
				const { currentPassword, newPassword } = c.req.valid('json');
				const user = await accounts.changePassword(c.get('user')!, currentPassword, newPassword);
				await sessions.revokeAll(user._id, c.get('sessionToken') ?? undefined);
				sessions.forgetUser(user._id);
				return send(c, SessionAnswer, answer(user));
			}
		);
};
