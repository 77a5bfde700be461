/**
 * `/api/admin/config/<type>`: create, edit and delete configuration documents (F11–F14, crews,
 * catalogues). Each type is guarded by its own permission; browsers read the result from their replica.
 */
import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import { CONFIG_TYPES, type ConfigType } from '#shared/docs/config';
import { AppError } from '../errors';
import { requireUser } from '../middleware/auth';
import { CONFIG_PERMISSION } from '../services/config-admin';
import { parseOrThrow } from '../validate';
import type { AppDeps, AppEnv } from '../context';

const TypeParam = v.object({ type: v.picklist(CONFIG_TYPES, 'invalid') });
const ItemParam = v.object({ ...TypeParam.entries, id: v.pipe(v.string(), v.maxLength(80)) });

/** The type named in the path, after checking the caller may administer it. */
function allowedType(c: Context<AppEnv>): ConfigType {
	const type = c.req.param('type');
	if (!(CONFIG_TYPES as readonly string[]).includes(type ?? '')) {
		throw new AppError('not_found', 404, `No configuration type ${type}`);
	}
	const permission = CONFIG_PERMISSION[type as ConfigType];
	if (!c.get('user')!.permissions.includes(permission)) {
		throw new AppError('forbidden', 403, `Missing permission ${permission}`);
	}
	return type as ConfigType;
}

export const configAdminRoutes = ({ configAdmin }: AppDeps) =>
	new Hono<AppEnv>()
		.use(requireUser())
		.get('/:type', async (c) => {
			const type = allowedType(c);
			return c.json({ items: await configAdmin.all(type) }, 200);
		})
		.post('/:type', async (c) => {
			const type = allowedType(c);
			const item = await configAdmin.create(type, await c.req.json(), c.get('user')!._id);
			return c.json({ item }, 201);
		})
		.put('/:type/:id', async (c) => {
			const type = allowedType(c);
			const { id } = parseOrThrow(ItemParam, c.req.param());
			const item = await configAdmin.update(type, id, await c.req.json(), c.get('user')!._id);
			return c.json({ item }, 200);
		})
		.delete('/:type/:id', async (c) => {
			const type = allowedType(c);
			const { id } = parseOrThrow(ItemParam, c.req.param());
			const rev = c.req.query('rev');
			if (!rev) {
				throw new AppError('validation', 400, 'rev is required', { issues: { rev: 'required' } });
			}
			await configAdmin.remove(type, id, rev, c.get('user')!._id);
			return c.json({ ok: true }, 200);
		});
