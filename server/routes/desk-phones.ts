/**
 * `/api/desk-phones` (F1 本座位旁话机): the administrator issues, resets and withdraws desk phones' SIP
 * credentials. A new or reset password is in the answer once; the list never carries credentials.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { Extension, NewDeskPhone } from '#shared/schemas/desk-phone';
import { requirePermission } from '../middleware/auth';
import { validJson, validParam } from '../validate';
import type { AppDeps, AppEnv } from '../context';

const ExtensionParam = v.object({ extension: Extension });

export const deskPhoneRoutes = ({ deskPhones }: AppDeps) =>
	new Hono<AppEnv>()
		.use(requirePermission('admin.settings'))
		.get('/', async (c) => c.json({ phones: await deskPhones.list() }, 200))
		.post('/', validJson(NewDeskPhone), async (c) => {
			const issued = await deskPhones.add(c.req.valid('json'), c.get('user')!._id);
			return c.json(issued, 201);
		})
		.post('/:extension/password-reset', validParam(ExtensionParam), async (c) => {
			const { extension } = c.req.valid('param');
			const password = await deskPhones.resetPassword(extension, c.get('user')!._id);
			return c.json({ password }, 200);
		})
		.delete('/:extension', validParam(ExtensionParam), async (c) => {
			const { extension } = c.req.valid('param');
			await deskPhones.remove(extension, c.get('user')!._id);
			return c.json({ ok: true }, 200);
		});
