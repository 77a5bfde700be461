/** Account administration — the minimal approval screen of the foundation; the rest arrives with F4–F11. */
import { Hono } from 'hono';
import { Approval } from '#shared/schemas/user';
import { requirePermission } from '../middleware/auth';
import { ApproveParam } from '../services/accounts';
import { validJson, validParam } from '../validate';
import type { AppDeps, AppEnv } from '../context';

export const accountRoutes = ({ accounts, sessions }: AppDeps) =>
	new Hono<AppEnv>()
		.use(requirePermission('admin.users'))
		.get('/pending', async (c) => c.json({ accounts: await accounts.listPending() }, 200))
		.post('/:id/approve', validParam(ApproveParam), validJson(Approval), async (c) => {
			const { id } = c.req.valid('param');
			const { roleId, agentId } = c.req.valid('json');
			const user = await accounts.approve(id, roleId, agentId, c.get('user')!._id);
			sessions.forgetUser(id);
			return c.json({ user }, 200);
		});
