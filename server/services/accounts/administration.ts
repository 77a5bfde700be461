/**
 * User administration (F4–F10): the list with its search, filters, sorting and paging; adding a user with a
 * one-time password; password reset, agent ID, disable/enable, permissions and deletion — each checked
 * against the revision the administrator started from and recorded in the audit log. Ending the sessions a
 * change revokes is the caller's (`sessions.revokeAll`). Also the first administrator of a new store.
 */
import type { NewUser, UserQuery } from '#shared/schemas/user';
import type { UserSummary } from '#shared/wire/accounts';
import { CENTER_DEPARTMENT_ID } from '#shared/docs/config';
import { isPermission, PERMISSIONS } from '#shared/permissions';
import { AppError } from '../../errors';
import type { Audit } from '../audit';
import { hashPassword, oneTimePassword } from './passwords';
import { rightsOf, toSummary, userIdOf, type UserDoc, type UserStore } from './users';

const stale = () =>
	new AppError('stale', 409, 'The account was changed by someone else; reload it.');

export function createUserAdministration({ users, audit }: { users: UserStore; audit: Audit }) {
	return {
		/** F5: search, filter, sort and page over all accounts (from the incrementally kept index). */
		async listUsers(
			query: UserQuery,
			names: { department: (id: string) => string; role: (id: string | null) => string }
		): Promise<{ total: number; rows: UserSummary[] }> {
			const q = query.q.normalize('NFKC').toLowerCase();
			const matches = (await users.all())
				.filter((u) => !query.departmentId || u.departmentId === query.departmentId)
				.filter((u) => !query.roleId || u.roleId === query.roleId)
				.filter((u) => !query.status || u.status === query.status)
				.filter(
					(u) =>
						!q ||
						[u.username, u.name, u.phone, u.agentId ?? '', u.email].some((f) =>
							f.normalize('NFKC').toLowerCase().includes(q)
						)
				);
			const key: Record<UserQuery['sort'], (u: UserDoc) => string> = {
				username: (u) => u.username.toLowerCase(),
				name: (u) => u.name,
				department: (u) => names.department(u.departmentId),
				role: (u) => names.role(u.roleId),
				status: (u) => u.status,
				agentId: (u) => (u.agentId ?? '').padStart(8, '0'),
				createdAt: (u) => u.createdAt
			};
			const collator = new Intl.Collator(['zh-CN', 'en'], { numeric: true });
			const sortKey = key[query.sort];
			matches.sort(
				(a, b) => collator.compare(sortKey(a), sortKey(b)) || a._id.localeCompare(b._id)
			);
			if (query.dir === 'desc') matches.reverse();
			const start = (query.page - 1) * query.pageSize;
			return {
				total: matches.length,
				rows: matches.slice(start, start + query.pageSize).map(toSummary)
			};
		},

		/** F4: an administrator adds an active user; returns the one-time password to hand over. */
		async addUser(input: NewUser, actor: string): Promise<{ user: UserSummary; password: string }> {
			await users.requireDepartment(input.departmentId);
			const role = await users.requireRole(input.roleId);
			await users.checkAgentId(input.agentId, userIdOf(input.username));
			const password = oneTimePassword();
			const doc = await users.insertNew(input, {
				status: 'active',
				roleId: role._id,
				permissions: role.permissions.filter(isPermission),
				agentId: input.agentId || null,
				passwordHash: await hashPassword(password),
				mustChangePassword: true
			});
			await audit.record({ actor, action: 'user.create', target: doc._id, after: toSummary(doc) });
			return { user: toSummary(doc), password };
		},

		/** F6: a one-time password that must be changed at next sign-in. The caller ends the sessions. */
		async resetPassword(id: string, actor: string): Promise<string> {
			// One's own password is changed with the current one, not reset (which ends one's own session).
			if (id === actor) throw new AppError('self', 409, 'Change your own password instead');
			const user = await users.require(id);
			const password = oneTimePassword();
			await users.save({
				...user,
				passwordHash: await hashPassword(password),
				mustChangePassword: true
			});
			await audit.record({ actor, action: 'user.password.reset', target: id });
			return password;
		},

		/** F7: assign, change or remove (empty) the agent ID. */
		async setAgentId(
			id: string,
			agentId: string,
			rev: string,
			actor: string
		): Promise<UserSummary> {
			const user = await users.require(id);
			if (user._rev !== rev) throw stale();
			await users.checkAgentId(agentId, id);
			const saved = await users.save({ ...user, agentId: agentId || null });
			await audit.record({
				actor,
				action: 'user.agentId',
				target: id,
				before: rightsOf(user),
				after: rightsOf(saved)
			});
			return toSummary(saved);
		},

		/** F9: disable or enable. The caller ends a disabled user's sessions. */
		async setStatus(
			id: string,
			status: 'active' | 'disabled',
			actor: string
		): Promise<UserSummary> {
			if (id === actor) throw new AppError('self', 409, 'You cannot disable or enable yourself');
			const user = await users.require(id);
			if (user.status === 'pending') {
				throw new AppError('conflict', 409, 'Approve the account first');
			}
			const saved = await users.save({ ...user, status });
			await audit.record({
				actor,
				action: `user.${status === 'active' ? 'enable' : 'disable'}`,
				target: id,
				before: rightsOf(user),
				after: rightsOf(saved)
			});
			return toSummary(saved);
		},

		/** F10: the user's permissions by ticks; `roleId` records which role they were last taken from. */
		async setPermissions(
			id: string,
			permissions: string[],
			roleId: string | null,
			rev: string,
			actor: string
		): Promise<UserSummary> {
			const user = await users.require(id);
			if (user._rev !== rev) throw stale();
			const unknown = permissions.find((p) => !isPermission(p));
			if (unknown) {
				throw new AppError('validation', 400, `Unknown permission ${unknown}`, {
					field: 'permissions',
					issues: { permissions: 'invalid' }
				});
			}
			if (roleId) await users.requireRole(roleId);
			if (id === actor && !permissions.includes('admin.users')) {
				throw new AppError('self', 409, 'You cannot take user administration away from yourself');
			}
			const saved = await users.save({ ...user, permissions: [...new Set(permissions)], roleId });
			await audit.record({
				actor,
				action: 'user.permissions',
				target: id,
				before: rightsOf(user),
				after: rightsOf(saved)
			});
			return toSummary(saved);
		},

		/** F8: delete — refused once the user has recorded any ticket (`ticketCount` > 0). */
		async deleteUser(id: string, actor: string, ticketCount: number): Promise<void> {
			if (id === actor) throw new AppError('self', 409, 'You cannot delete yourself');
			const user = await users.require(id);
			if (ticketCount > 0) {
				throw new AppError(
					'in_use',
					409,
					'The user has recorded tickets; disable the account instead',
					{
						issues: { tickets: String(ticketCount) }
					}
				);
			}
			await users.remove(user);
			await audit.record({ actor, action: 'user.delete', target: id, before: toSummary(user) });
		},

		/**
		 * Creates the first administrator `admin` when the store has none: with ADMIN_PASSWORD when given,
		 * otherwise with a one-time password that must be changed at first sign-in. Returns what to print.
		 */
		async ensureFirstAdmin(
			adminPassword: string | null
		): Promise<{ password: string; oneTime: boolean } | null> {
			if (await users.get(userIdOf('admin'))) return null;
			const password = adminPassword ?? oneTimePassword();
			const now = new Date().toISOString();
			const doc: UserDoc = {
				_id: userIdOf('admin'),
				type: 'user',
				username: 'admin',
				name: '系统管理员',
				departmentId: CENTER_DEPARTMENT_ID,
				birthDate: '1970-01-01',
				phone: '0',
				email: '',
				status: 'active',
				roleId: 'role:admin',
				permissions: [...PERMISSIONS],
				agentId: null,
				passwordHash: await hashPassword(password),
				mustChangePassword: adminPassword === null,
				createdAt: now,
				updatedAt: now
			};
			if (!(await users.insertFirst(doc))) return null;
			await audit.record({ actor: 'system', action: 'user.create.firstAdmin', target: doc._id });
			return { password, oneTime: adminPassword === null };
		}
	};
}
