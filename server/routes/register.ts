/**
 * Self-registration (F2), anonymous: the department list its form needs, and the registration itself,
 * which creates a pending account that cannot sign in until an administrator approves it.
 */
import { Hono } from 'hono';
import { Registration } from '#shared/schemas/user';
import type { DepartmentDoc } from '#shared/docs/config';
import { RegisteredAccount, RegistrationDepartments } from '#shared/wire/accounts';
import { validJson } from '../validate';
import { AppError } from '../errors';
import { doc, send } from '../openapi';
import { clientAddress } from '../middleware/client-address';
import type { AppDeps, AppEnv } from '../context';

export const registerRoutes = ({ accounts, configAdmin, limiter, settings }: AppDeps) =>
	new Hono<AppEnv>()
		.get(
			'/departments',
			doc('The departments a newcomer may register in', RegistrationDepartments, {
				access: 'public'
			}),
			async (c) => {
				const departments = (await configAdmin.all<DepartmentDoc>('department')).map((d) => ({
					id: d._id,
					name: d.name,
					parentId: d.parentId,
					order: d.order
				}));
				return send(c, RegistrationDepartments, { departments });
			}
		)
		.post(
			'/',
			doc('Registers a newcomer: a pending account, waiting for approval', RegisteredAccount, {
				status: 201,
				access: 'public'
			}),
			validJson(Registration),
			async (c) => {
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
				return send(c, RegisteredAccount, { account }, 201);
			}
		);
