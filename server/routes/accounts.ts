/** Account administration — the minimal approval screen of the foundation; the rest arrives with F4–F11. */
import { Hono } from 'hono';
import { Approval } from '#shared/schemas/user';
import { ApprovedAccount, PendingAccounts } from '#shared/wire/accounts';
import { requirePermission } from '../middleware/auth';
import { doc, send } from '../openapi';
import { ApproveParam } from '../services/accounts';
import { validJson, validParam } from '../validate';
import type { AppDeps, AppEnv } from '../context';

export const accountRoutes = ({ accounts, sessions }: AppDeps) =>
	new Hono<AppEnv>()
		.use(requirePermission('admin.users'))
		.get(
			'/pending',
			doc('The registrations waiting for approval, oldest first', PendingAccounts),
			async (c) => send(c, PendingAccounts, { accounts: await accounts.listPending() })
		)
		.post(
			'/:id/approve',
			doc('Approves a pending account with a role (and an agent ID)', ApprovedAccount),
			validParam(ApproveParam),
			validJson(Approval),
			async (c) => {
				const { id } = c.req.valid('param');
				const { roleId, agentId } = c.req.valid('json');
				const user = await accounts.approve(id, roleId, agentId, c.get('user')!._id);
				sessions.forgetUser(id);
				return send(c, ApprovedAccount, { user });
			}
		);
