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
import { AddedUser, ChangedUser, IssuedPassword, UserPage } from '#shared/wire/accounts';
import { Ok } from '#shared/wire/errors';
import { requirePermission } from '../middleware/auth';
import { doc, send } from '../openapi';
import { validJson, validParam, validQuery } from '../validate';
import type { AppDeps, AppEnv } from '../context';

const UserParam = v.object({ id: v.pipe(v.string(), v.startsWith('user:'), v.maxLength(80)) });

export const userRoutes = ({ accounts, sessions, configAdmin, audit }: AppDeps) =>
	new Hono<AppEnv>()
		.use(requirePermission('admin.users'))
		.get(
			'/',
			doc('Searches, filters, sorts and pages the users', UserPage),
			validQuery(UserQuery),
			async (c) => {
				const query = c.req.valid('query');
				const [departments, roles] = await Promise.all([
					configAdmin.all<DepartmentDoc>('department'),
					configAdmin.all<RoleDoc>('role')
				]);
				const result = await accounts.listUsers(query, {
					department: (id) => departments.find((d) => d._id === id)?.name ?? id,
					role: (id) => roles.find((r) => r._id === id)?.name ?? ''
				});
				return send(c, UserPage, { ...result, page: query.page, pageSize: query.pageSize });
			}
		)
		.post(
			'/',
			doc('Adds an active user; answers the one-time password to hand over', AddedUser, {
				status: 201
			}),
			validJson(NewUser),
			async (c) => {
				const created = await accounts.addUser(c.req.valid('json'), c.get('user')!._id);
				return send(c, AddedUser, created, 201);
			}
		)
		.post(
			'/:id/password-reset',
			doc("Issues a new one-time password and ends the user's sign-ins", IssuedPassword),
			validParam(UserParam),
			async (c) => {
				const { id } = c.req.valid('param');
				const password = await accounts.resetPassword(id, c.get('user')!._id);
				await sessions.revokeAll(id);
				return send(c, IssuedPassword, { password });
			}
		)
		// Ends every sign-in of the user (a lost tablet, a shared password): pages, softphone, sync.
		.post(
			'/:id/sign-out',
			doc('Ends every sign-in of the user', Ok),
			validParam(UserParam),
			async (c) => {
				const { id } = c.req.valid('param');
				await sessions.revokeAll(id);
				await audit.record({
					actor: c.get('user')!._id,
					action: 'user.signOutEverywhere',
					target: id
				});
				return send(c, Ok, { ok: true });
			}
		)
		.put(
			'/:id/agent-id',
			doc("Sets or clears the user's agent ID (工号)", ChangedUser),
			validParam(UserParam),
			validJson(AgentIdChange),
			async (c) => {
				const { id } = c.req.valid('param');
				const { agentId, _rev } = c.req.valid('json');
				const user = await accounts.setAgentId(id, agentId, _rev, c.get('user')!._id);
				sessions.forgetUser(id);
				return send(c, ChangedUser, { user });
			}
		)
		.put(
			'/:id/status',
			doc('Disables (ending its sign-ins) or enables an account', ChangedUser),
			validParam(UserParam),
			validJson(StatusChange),
			async (c) => {
				const { id } = c.req.valid('param');
				const { status } = c.req.valid('json');
				const user = await accounts.setStatus(id, status, c.get('user')!._id);
				if (status === 'disabled') await sessions.revokeAll(id);
				sessions.forgetUser(id);
				return send(c, ChangedUser, { user });
			}
		)
		.put(
			'/:id/permissions',
			doc("Sets the user's role and permissions", ChangedUser),
			validParam(UserParam),
			validJson(PermissionsChange),
			async (c) => {
				const { id } = c.req.valid('param');
				const { permissions, roleId, _rev } = c.req.valid('json');
				const user = await accounts.setPermissions(
					id,
					permissions,
					roleId,
					_rev,
					c.get('user')!._id
				);
				sessions.forgetUser(id);
				return send(c, ChangedUser, { user });
			}
		)
		.delete(
			'/:id',
			doc('Deletes a user who has no tickets; ends their sign-ins', Ok),
			validParam(UserParam),
			async (c) => {
				const { id } = c.req.valid('param');
				await accounts.deleteUser(id, c.get('user')!._id, await configAdmin.ticketsBy(id));
				await sessions.revokeAll(id);
				return send(c, Ok, { ok: true });
			}
		);
