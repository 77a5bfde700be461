/** User administration (F4–F10): list, add, password reset, agent ID, disable/enable, permissions, delete. */
import { Hono } from 'hono';
import * as v from 'valibot';
import {
	AgentIdChange,
	NewUser,
	PermissionsChange,
	StatusChange,
	UserQuery
} from '#shared/schemas/user';
import type { DepartmentDoc, RoleDoc } from '#shared/docs/config';
import { requirePermission } from '../middleware/auth';
import { validJson, validParam, parseOrThrow } from '../validate';
import type { AppDeps, AppEnv } from '../context';

const UserParam = v.object({ id: v.pipe(v.string(), v.startsWith('user:'), v.maxLength(80)) });

export const userRoutes = ({ accounts, sessions, configAdmin, audit }: AppDeps) =>
	new Hono<AppEnv>()
		.use(requirePermission('admin.users'))
		.get('/', async (c) => {
			const query = parseOrThrow(UserQuery, c.req.query());
			const [departments, roles] = await Promise.all([
				configAdmin.all<DepartmentDoc>('department'),
				configAdmin.all<RoleDoc>('role')
			]);
			const result = await accounts.listUsers(query, {
				department: (id) => departments.find((d) => d._id === id)?.name ?? id,
				role: (id) => roles.find((r) => r._id === id)?.name ?? ''
			});
			return c.json({ ...result, page: query.page, pageSize: query.pageSize }, 200);
		})
		.post('/', validJson(NewUser), async (c) => {
			const created = await accounts.addUser(c.req.valid('json'), c.get('user')!._id);
			return c.json(created, 201);
		})
		.post('/:id/password-reset', validParam(UserParam), async (c) => {
			const { id } = c.req.valid('param');
			const password = await accounts.resetPassword(id, c.get('user')!._id);
			await sessions.revokeAll(id);
			return c.json({ password }, 200);
		})
		// Ends every sign-in of the user (a lost tablet, a shared password): pages, softphone, sync.
		.post('/:id/sign-out', validParam(UserParam), async (c) => {
			const { id } = c.req.valid('param');
			await sessions.revokeAll(id);
			await audit.record({
				actor: c.get('user')!._id,
				action: 'user.signOutEverywhere',
				target: id
			});
			return c.json({ ok: true }, 200);
		})
		.put('/:id/agent-id', validParam(UserParam), validJson(AgentIdChange), async (c) => {
			const { id } = c.req.valid('param');
			const { agentId, _rev } = c.req.valid('json');
			const user = await accounts.setAgentId(id, agentId, _rev, c.get('user')!._id);
			sessions.forgetUser(id);
			return c.json({ user }, 200);
		})
		.put('/:id/status', validParam(UserParam), validJson(StatusChange), async (c) => {
			const { id } = c.req.valid('param');
			const { status } = c.req.valid('json');
			const user = await accounts.setStatus(id, status, c.get('user')!._id);
			if (status === 'disabled') await sessions.revokeAll(id);
			sessions.forgetUser(id);
			return c.json({ user }, 200);
		})
		.put('/:id/permissions', validParam(UserParam), validJson(PermissionsChange), async (c) => {
			const { id } = c.req.valid('param');
			const { permissions, roleId, _rev } = c.req.valid('json');
			const user = await accounts.setPermissions(id, permissions, roleId, _rev, c.get('user')!._id);
			sessions.forgetUser(id);
			return c.json({ user }, 200);
		})
		.delete('/:id', validParam(UserParam), async (c) => {
			const { id } = c.req.valid('param');
			await accounts.deleteUser(id, c.get('user')!._id, await configAdmin.ticketsBy(id));
			await sessions.revokeAll(id);
			return c.json({ ok: true }, 200);
		});
