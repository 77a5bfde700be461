/**
 * Device codes for ticket numbers people read aloud, and devices' reports on their replicas (DESIGN.md;
 * `services/devices.ts`): each browser asks once for its code and then numbers tickets offline.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { requirePermission, requireUser } from '../middleware/auth';
import { parseOrThrow, validJson } from '../validate';
import { DeviceReport } from '../services/devices';
import type { AppDeps, AppEnv } from '../context';

const CodeParam = v.object({
	code: v.pipe(v.string(), v.regex(/^([0-9A-Z]{1,40}-)?[0-9A-Z]{3,8}$/))
});

export const deviceRoutes = ({ devices }: AppDeps) =>
	new Hono<AppEnv>()
		.use(requireUser())
		// Every device, what it holds and what waits on it — before the outage, not after (DESIGN.md, CHT).
		.get('/health', requirePermission('admin.settings'), async (c) =>
			c.json({ devices: await devices.health() }, 200)
		)
		// Conflicts the union-of-events rule could not merge, with every version (DESIGN.md: surface the rest).
		.get('/conflicts', requirePermission('admin.settings'), async (c) =>
			c.json({ conflicts: await devices.conflicts() }, 200)
		)
		.put('/:code/health', validJson(DeviceReport), async (c) => {
			const { code } = parseOrThrow(CodeParam, c.req.param());
			await devices.report(code, c.get('user')!._id, c.req.valid('json'));
			return c.body(null, 204);
		})
		.post('/', async (c) => {
			const code = await devices.newCode();
			return code
				? c.json({ code }, 201)
				: c.json(
						{ code: 'conflict', message: 'Too many devices registering at once; try again' },
						503
					);
		});
