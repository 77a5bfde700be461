/**
 * Bounds that depend on who is asking (issue #13): a branch office proves who it is before its body is
 * read, and one signed-in user may have only a few replication requests with bodies in flight at once, so
 * that nobody can hold the server's memory with many large uploads.
 */
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors';
import type { AppDeps, AppEnv } from '../context';

/** Replication requests with a body one user may have in flight (a device sends one at a time). */
export const SYNC_BODIES_PER_USER = 4;

/** `/replicate` answers 401 before reading a byte of a caller that is not a configured branch. */
export const branchFirst =
	({ branches }: Pick<AppDeps, 'branches'>): MiddlewareHandler<AppEnv> =>
	async (c, next) => {
		if (!branches.center.authenticate(c.req.header('authorization'))) {
			return c.json({ error: 'unauthorized', reason: 'A branch name and key are required' }, 401);
		}
		await next();
	};

/** Counts a signed-in user's replication requests that carry a body; more than the bound get 429. */
export function perUserLimits(): MiddlewareHandler<AppEnv> {
	const inFlight = new Map<string, number>();
	return async (c, next) => {
		const user = c.get('user');
		if (!user || !c.req.raw.body) return next();
		const open = inFlight.get(user._id) ?? 0;
		if (open >= SYNC_BODIES_PER_USER) {
			c.header('Retry-After', '1');
			throw new AppError('too_busy', 429, 'Too many replication requests at once');
		}
		inFlight.set(user._id, open + 1);
		try {
			await next();
		} finally {
			const left = (inFlight.get(user._id) ?? 1) - 1;
			if (left > 0) inFlight.set(user._id, left);
			else inFlight.delete(user._id);
		}
	};
}
