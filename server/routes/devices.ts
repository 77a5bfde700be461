/**
 * Device codes for ticket numbers people read aloud, and devices' reports on their replicas (DESIGN.md;
 * `services/devices.ts`): each browser asks once for its code and then numbers tickets offline.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { ApiErrorBody } from '#shared/wire/errors';
import { ConflictList, DeviceCode, DeviceHealthList, DeviceReport } from '#shared/wire/devices';
import { requirePermission, requireUser } from '../middleware/auth';
import { doc, send } from '../openapi';
import { validJson, validParam } from '../validate';
import type { AppDeps, AppEnv } from '../context';

const CodeParam = v.object({
	code: v.pipe(v.string(), v.regex(/^([0-9A-Z]{1,40}-)?[0-9A-Z]{3,8}$/))
});

export const deviceRoutes = ({ devices }: AppDeps) =>
	new Hono<AppEnv>()
		.use(requireUser())
		// Every device, what it holds and what waits on it — before the outage, not after (DESIGN.md, CHT).
		.get(
			'/health',
			doc("Lists every device's last report on its replica, per user", DeviceHealthList),
			requirePermission('admin.settings'),
			async (c) => send(c, DeviceHealthList, { devices: await devices.health() })
		)
		// Conflicts the union-of-events rule could not merge, with every version (DESIGN.md: surface the rest).
		.get(
			'/conflicts',
			doc('Lists the ticket conflicts that could not be merged, with every version', ConflictList),
			requirePermission('admin.settings'),
			async (c) => send(c, ConflictList, { conflicts: await devices.conflicts() })
		)
		.put(
			'/:code/health',
			doc("Keeps this device's report on its replica", null, { status: 204 }),
			validParam(CodeParam),
			validJson(DeviceReport),
			async (c) => {
				await devices.report(c.req.valid('param').code, c.get('user')!._id, c.req.valid('json'));
				return c.body(null, 204);
			}
		)
		.post(
			'/',
			doc('Gives this device its code for numbering tickets offline', DeviceCode, { status: 201 }),
			async (c) => {
				const code = await devices.newCode();
				return code
					? send(c, DeviceCode, { code }, 201)
					: send(
							c,
							ApiErrorBody,
							{ code: 'conflict', message: 'Too many devices registering at once; try again' },
							503
						);
			}
		);
