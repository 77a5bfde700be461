/**
 * Self-registration and approval (F2): a newcomer's account waits, unable to sign in, until an
 * administrator approves it with a role (and optionally an agent ID).
 */
import * as v from 'valibot';
import type { Registration } from '#shared/schemas/user';
import type { PendingAccount, SessionUser } from '#shared/wire/accounts';
import { isPermission } from '#shared/permissions';
import { AppError } from '../../errors';
import type { Audit } from '../audit';
import { hashPassword } from './passwords';
import { toPending, toSessionUser, type UserStore } from './users';

export const ApproveParam = v.object({
	id: v.pipe(v.string(), v.startsWith('user:'), v.maxLength(80))
});

export function createRegistration({ users, audit }: { users: UserStore; audit: Audit }) {
	return {
		/** F2: a pending account; `actor` is who registered it (null: the newcomer). */
		async register(input: Registration, actor: string | null): Promise<PendingAccount> {
			await users.requireDepartment(input.departmentId);
			const doc = await users.insertNew(input, {
				status: 'pending',
				roleId: null,
				permissions: [],
				agentId: null,
				passwordHash: await hashPassword(input.password),
				mustChangePassword: false
			});
			await audit.record({
				actor: actor ?? doc._id,
				action: 'user.register',
				target: doc._id,
				after: toPending(doc)
			});
			return toPending(doc);
		},

		/** The accounts waiting for approval, oldest first. */
		async listPending(): Promise<PendingAccount[]> {
			return (await users.pending()).map(toPending);
		},

		/** Activates a pending account with a role's permissions. @throws AppError 404/409/400 */
		async approve(
			id: string,
			roleId: string,
			agentId: string,
			actor: string
		): Promise<SessionUser> {
			const user = await users.require(id);
			if (user.status !== 'pending') {
				throw new AppError('conflict', 409, 'The account is not pending');
			}
			const role = await users.requireRole(roleId);
			await users.checkAgentId(agentId, id);
			const saved = await users.save({
				...user,
				agentId: agentId || null,
				status: 'active',
				roleId: role._id,
				permissions: role.permissions.filter(isPermission)
			});
			await audit.record({
				actor,
				action: 'user.approve',
				target: id,
				before: {
					status: user.status,
					roleId: user.roleId,
					permissions: user.permissions,
					agentId: user.agentId
				},
				after: {
					status: saved.status,
					roleId: saved.roleId,
					permissions: saved.permissions,
					agentId: saved.agentId
				}
			});
			return toSessionUser(saved);
		}
	};
}
