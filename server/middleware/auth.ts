/**
 * Session resolution and permission checks. Every /api route except sign-in, registration and health, and
 * every /sync request, goes through `requireUser`; a user who must change a one-time password may do
 * nothing else until it is changed.
 */
import { createMiddleware } from 'hono/factory';
import { getCookie } from 'hono/cookie';
import type { Permission } from '#shared/permissions';
import { AppError } from '../errors';
import type { AppDeps, AppEnv } from '../context';
import { ACCESS_ANY_FIELD, ACCESS_FIELD, documents } from '../openapi';

export const SESSION_COOKIE = 'cc_session';

export const loadSession = ({ sessions }: Pick<AppDeps, 'sessions'>) =>
	createMiddleware<AppEnv>(async (c, next) => {
		const token = getCookie(c, SESSION_COOKIE) ?? null;
		c.set('sessionToken', token);
		c.set('user', token ? await sessions.resolve(token) : null);
		await next();
	});

export const requireUser = ({ allowPasswordChange = false } = {}) =>
	documents(
		createMiddleware<AppEnv>(async (c, next) => {
			const user = c.get('user');
			if (!user) throw new AppError('unauthorized', 401, 'Sign in first');
			if (user.mustChangePassword && !allowPasswordChange) {
				throw new AppError('password_change_required', 403, 'Change your one-time password first');
			}
			await next();
		}),
		{ [ACCESS_FIELD]: 'signed-in' }
	);

/**
 * Any one of `permissions` (a route several roles read). The document names the first as `x-access`, the
 * one an integrator's account is usually given, and all of them as `x-access-any`.
 */
export const requireAnyPermission = (...permissions: [Permission, ...Permission[]]) =>
	documents(
		createMiddleware<AppEnv>(async (c, next) => {
			const user = c.get('user');
			if (!user) throw new AppError('unauthorized', 401, 'Sign in first');
			if (user.mustChangePassword) {
				throw new AppError('password_change_required', 403, 'Change your one-time password first');
			}
			if (!permissions.some((p) => user.permissions.includes(p))) {
				throw new AppError('forbidden', 403, `Missing permission ${permissions.join(' or ')}`);
			}
			await next();
		}),
		{
			[ACCESS_FIELD]: permissions[0],
			...(permissions.length > 1 ? { [ACCESS_ANY_FIELD]: permissions } : {})
		}
	);

export const requirePermission = (permission: Permission) => requireAnyPermission(permission);
