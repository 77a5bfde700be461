/**
 * `/api/admin/config/<type>`: create, edit and delete configuration documents (F11–F14, crews,
 * catalogues). One set of routes per type, each guarded by the type's own permission (`CONFIG_PERMISSION`)
 * before anything else and validating the body with the type's own schema (`CONFIG_INPUTS`), so the API
 * document shows each type's body and permission. Browsers read the result from their replica.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { CONFIG_TYPES, type ConfigType } from '#shared/docs/config';
import { CONFIG_INPUTS, Rev } from '#shared/schemas/config';
import { ChangedConfigItem, ConfigItems } from '#shared/wire/config';
import { Ok } from '#shared/wire/errors';
import { requirePermission } from '../middleware/auth';
import { doc, send } from '../openapi';
import { CONFIG_PERMISSION } from '../services/config-admin';
import { validJson, validParam, validQuery } from '../validate';
import type { AppDeps, AppEnv } from '../context';

const IdParam = v.object({ id: v.pipe(v.string(), v.maxLength(80)) });
const RevQuery = v.object({ rev: Rev.entries._rev });

function typeRoutes(type: ConfigType, { configAdmin }: AppDeps) {
	const input = CONFIG_INPUTS[type];
	const change = v.intersect([input, Rev]);
	return (
		new Hono<AppEnv>()
			// Who may administer the type is settled before the request is validated (403 before 400).
			.use(requirePermission(CONFIG_PERMISSION[type]))
			.get('/', doc(`The ${type} documents`, ConfigItems), async (c) =>
				send(c, ConfigItems, { items: await configAdmin.all(type) })
			)
			.post(
				'/',
				doc(`Creates a ${type}`, ChangedConfigItem, { status: 201 }),
				validJson(input),
				async (c) => {
					const item = await configAdmin.create(type, c.req.valid('json'), c.get('user')!._id);
					return send(c, ChangedConfigItem, { item }, 201);
				}
			)
			.put(
				'/:id',
				doc(
					`Changes a ${type} from the revision the editor started from (409 stale otherwise)`,
					ChangedConfigItem
				),
				validParam(IdParam),
				validJson(change),
				async (c) => {
					const { id } = c.req.valid('param');
					const item = await configAdmin.update(type, id, c.req.valid('json'), c.get('user')!._id);
					return send(c, ChangedConfigItem, { item });
				}
			)
			.delete(
				'/:id',
				doc(`Deletes a ${type} at the revision shown (refused while in use)`, Ok),
				validParam(IdParam),
				validQuery(RevQuery),
				async (c) => {
					const { id } = c.req.valid('param');
					await configAdmin.remove(type, id, c.req.valid('query').rev, c.get('user')!._id);
					return send(c, Ok, { ok: true });
				}
			)
	);
}

export const configAdminRoutes = (deps: AppDeps) => {
	const app = new Hono<AppEnv>();
	for (const type of CONFIG_TYPES) app.route(`/${type}`, typeRoutes(type, deps));
	return app;
};
