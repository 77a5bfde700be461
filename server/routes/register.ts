/**
 * Self-registration (F2), anonymous: the department list its form needs, and the registration itself,
 * which creates a pending account that cannot sign in until an administrator approves it.
 */
import { Hono } from 'hono';
import { Registration } from '#shared/schemas/user';
import type { DepartmentDoc } from '#shared/docs/config';
import { validJson } from '../validate';
import { AppError } from '../errors';
import { clientAddress } from '../middleware/client-address';
import type { AppDeps, AppEnv } from '../context';

export const registerRoutes = ({ accounts, configAdmin, limiter, settings }: AppDeps) =>
	new Hono<AppEnv>()
		.get('/departments', async (c) => {
			const departments = (await configAdmin.all<DepartmentDoc>('department')).map((d) => ({
				id: d._id,
				name: d.name,
				parentId: d.parentId,
				order: d.order
			}));
			return c.json({ departments }, 200);
		})
		.post('/', validJson(Registration), async (c) => {
			// Anonymous registrations are limited per client address like failed sign-ins.
			const key = [`register|${clientAddress(c, settings.trustedProxies)}`];
			const wait = limiter.perAddress.retryAfterMs(key);
			if (wait > 0) {
				c.header('Retry-After', String(Math.ceil(wait / 1000)));
				throw new AppError(
					'rate_limited',
					429,
					'Too many registrations from this address; try again later'
				);
			}
			limiter.perAddress.fail(key);
			const account = await accounts.register(c.req.valid('json'), c.get('user')?._id ?? null);
			return c.json({ account }, 201);
		});
