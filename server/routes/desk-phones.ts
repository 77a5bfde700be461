/**
 * `/api/desk-phones` (F1 本座位旁话机): the administrator issues, resets and withdraws desk phones' SIP
 * credentials. A new or reset password is in the answer once; the list never carries credentials.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { Extension, NewDeskPhone } from '#shared/schemas/desk-phone';
import { DeskPhoneList, IssuedDeskPhone } from '#shared/wire/desk-phones';
import { IssuedPassword } from '#shared/wire/accounts';
import { Ok } from '#shared/wire/errors';
import { requirePermission } from '../middleware/auth';
import { doc, send } from '../openapi';
import { validJson, validParam } from '../validate';
import type { AppDeps, AppEnv } from '../context';

const ExtensionParam = v.object({ extension: Extension });

export const deskPhoneRoutes = ({ deskPhones }: AppDeps) =>
	new Hono<AppEnv>()
		.use(requirePermission('admin.settings'))
		.get('/', doc('The desk phones, without credentials', DeskPhoneList), async (c) =>
			send(c, DeskPhoneList, { phones: await deskPhones.list() })
		)
		.post(
			'/',
			doc(
				'Issues a desk phone its SIP credentials; the password is in this answer only',
				IssuedDeskPhone,
				{
					status: 201
				}
			),
			validJson(NewDeskPhone),
			async (c) => {
				const issued = await deskPhones.add(c.req.valid('json'), c.get('user')!._id);
				return send(c, IssuedDeskPhone, issued, 201);
			}
		)
		.post(
			'/:extension/password-reset',
			doc("Issues a new password for the desk phone's SIP registration", IssuedPassword),
			validParam(ExtensionParam),
			async (c) => {
				const { extension } = c.req.valid('param');
				const password = await deskPhones.resetPassword(extension, c.get('user')!._id);
				return send(c, IssuedPassword, { password });
			}
		)
		.delete(
			'/:extension',
			doc('Withdraws a desk phone (it can no longer register)', Ok),
			validParam(ExtensionParam),
			async (c) => {
				const { extension } = c.req.valid('param');
				await deskPhones.remove(extension, c.get('user')!._id);
				return send(c, Ok, { ok: true });
			}
		);
