/**
 * `/api/admin/config/<type>`: create, edit and delete configuration documents (F11–F14, crews,
 * catalogues). Each type is guarded by its own permission (`CONFIG_PERMISSION`), checked here once the type
 * is known; browsers read the result from their replica.
 */
import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import { CONFIG_TYPES, type ConfigType } from '#shared/docs/config';
import { Rev } from '#shared/schemas/config';
import { ChangedConfigItem, ConfigItems } from '#shared/wire/config';
import { Ok } from '#shared/wire/errors';
import { AppError } from '../errors';
import { requireUser } from '../middleware/auth';
import { doc, send } from '../openapi';
import { CONFIG_PERMISSION } from '../services/config-admin';
import { validParam, validQuery } from '../validate';
import type { AppDeps, AppEnv } from '../context';

const TypeName = v.picklist(CONFIG_TYPES);
const ItemParam = v.object({ type: v.string(), id: v.pipe(v.string(), v.maxLength(80)) });

/** For the document: what each type's body is (checked by the service, `CONFIG_INPUTS`) and who may send it. */
const PER_TYPE =
	'The body is the fields of the type (with `_rev` when changing). Each type needs its own permission: ' +
	Object.entries(CONFIG_PERMISSION)
		.map(([type, permission]) => `${type} ${permission}`)
		.join(', ');

/** The type named in the path, after checking the caller may administer it. */
function allowedType(c: Context<AppEnv>): ConfigType {
	const type = c.req.param('type');
	if (!v.is(TypeName, type)) {
		throw new AppError('not_found', 404, `No configuration type ${type}`);
	}
	const permission = CONFIG_PERMISSION[type];
	if (!c.get('user')!.permissions.includes(permission)) {
		throw new AppError('forbidden', 403, `Missing permission ${permission}`);
	}
	return type;
}

export const configAdminRoutes = ({ configAdmin }: AppDeps) =>
	new Hono<AppEnv>()
		.use(requireUser())
		// Who may administer the type is settled before the request is validated (404/403 before 400).
		.use('/:type/:id', async (c, next) => {
			allowedType(c);
			await next();
		})
		.get(
			'/:type',
			doc('The configuration documents of one type', ConfigItems, { description: PER_TYPE }),
			async (c) => {
				const type = allowedType(c);
				return send(c, ConfigItems, { items: await configAdmin.all(type) });
			}
		)
		.post(
			'/:type',
			doc('Creates a configuration document', ChangedConfigItem, {
				status: 201,
				description: PER_TYPE
			}),
			async (c) => {
				const type = allowedType(c);
				const item = await configAdmin.create(type, await c.req.json(), c.get('user')!._id);
				return send(c, ChangedConfigItem, { item }, 201);
			}
		)
		.put(
			'/:type/:id',
			doc(
				'Changes a configuration document from the revision the editor started from',
				ChangedConfigItem,
				{ description: PER_TYPE }
			),
			validParam(ItemParam),
			async (c) => {
				const type = allowedType(c);
				const { id } = c.req.valid('param');
				const item = await configAdmin.update(type, id, await c.req.json(), c.get('user')!._id);
				return send(c, ChangedConfigItem, { item });
			}
		)
		.delete(
			'/:type/:id',
			doc('Deletes a configuration document at the revision shown (refused while in use)', Ok, {
				description: PER_TYPE
			}),
			validParam(ItemParam),
			validQuery(v.object({ rev: Rev.entries._rev })),
			async (c) => {
				const type = allowedType(c);
				const { id } = c.req.valid('param');
				await configAdmin.remove(type, id, c.req.valid('query').rev, c.get('user')!._id);
				return send(c, Ok, { ok: true });
			}
		);
