/**
 * Accounts in the server-only `cc_users` database. The document id is `user:<normalised user name>`, so the
 * store itself guarantees that a user name is unique regardless of case, width and spaces — even for two
 * registrations at the same instant.
 */
import * as v from 'valibot';
import {
	normalizeUsername,
	type AccountStatus,
	type PendingAccount,
	type Registration,
	type SessionUser
} from '#shared/schemas/user';
import { CENTER_DEPARTMENT_ID, type DepartmentDoc, type RoleDoc } from '#shared/docs/config';
import { PERMISSIONS } from '#shared/permissions';
import { AppError, storeStatus } from '../errors';
import { dummyHash, hashPassword, oneTimePassword, verifyPassword } from './passwords';
import type { Store } from '../store';
import type { Audit } from './audit';

export interface UserDoc {
	_id: string;
	_rev?: string;
	type: 'user';
	username: string;
	name: string;
	departmentId: string;
	birthDate: string;
	phone: string;
	email: string;
	status: AccountStatus;
	roleId: string | null;
	permissions: string[];
	agentId: string | null;
	passwordHash: string;
	mustChangePassword: boolean;
	createdAt: string;
	updatedAt: string;
}

export const userIdOf = (username: string) => `user:${normalizeUsername(username)}`;

export function toSessionUser(u: UserDoc): SessionUser {
	return {
		id: u._id,
		username: u.username,
		name: u.name,
		departmentId: u.departmentId,
		agentId: u.agentId,
		permissions: u.permissions,
		roleId: u.roleId,
		mustChangePassword: u.mustChangePassword
	};
}

export function createAccounts({ store, audit }: { store: Store; audit: Audit }) {
	const users = store.db<UserDoc>('users');
	const config = store.db<DepartmentDoc | RoleDoc>('config');

	async function getUser(id: string): Promise<UserDoc | null> {
		try {
			const doc = await users.get(id);
			return doc.type === 'user' ? doc : null;
		} catch (err) {
			if (storeStatus(err) === 404) return null;
			throw err;
		}
	}

	async function getConfig<T extends DepartmentDoc | RoleDoc>(id: string, type: T['type']) {
		try {
			const doc = await config.get(id);
			return doc.type === type ? (doc as T) : null;
		} catch (err) {
			if (storeStatus(err) === 404) return null;
			throw err;
		}
	}

	async function save(doc: UserDoc): Promise<UserDoc> {
		const next = { ...doc, updatedAt: new Date().toISOString() };
		try {
			const res = await users.insert(next);
			return { ...next, _rev: res.rev };
		} catch (err) {
			if (storeStatus(err) === 409) {
				throw new AppError('stale', 409, 'The account was changed by someone else; reload it.');
			}
			throw err;
		}
	}

	return {
		getUser,

		async register(input: Registration, actor: string | null): Promise<PendingAccount> {
			const department = await getConfig<DepartmentDoc>(input.departmentId, 'department');
			if (!department) {
				throw new AppError('validation', 400, 'Unknown department', {
					field: 'departmentId',
					issues: { departmentId: 'department_unknown' }
				});
			}
			const now = new Date().toISOString();
			const doc: UserDoc = {
				_id: userIdOf(input.username),
				type: 'user',
				username: input.username,
				name: input.name,
				departmentId: input.departmentId,
				birthDate: input.birthDate,
				phone: input.phone,
				email: input.email,
				status: 'pending',
				roleId: null,
				permissions: [],
				agentId: null,
				passwordHash: await hashPassword(input.password),
				mustChangePassword: false,
				createdAt: now,
				updatedAt: now
			};
			try {
				await users.insert(doc);
			} catch (err) {
				if (storeStatus(err) === 409) {
					throw new AppError('username_taken', 409, 'This user name is taken', {
						field: 'username',
						issues: { username: 'username_taken' }
					});
				}
				throw err;
			}
			await audit.record({
				actor: actor ?? doc._id,
				action: 'user.register',
				target: doc._id,
				after: pending(doc)
			});
			return pending(doc);
		},

		/** Checks the password first, then the account state — strangers learn nothing about an account. */
		async authenticate(username: string, password: string): Promise<UserDoc> {
			const user = await getUser(userIdOf(username));
			const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash()), password);
			if (!user || !ok) {
				throw new AppError('invalid_credentials', 401, 'Wrong user name or password');
			}
			if (user.status === 'pending') {
				throw new AppError('account_pending', 403, 'The account waits for an administrator');
			}
			if (user.status === 'disabled') {
				throw new AppError('account_disabled', 403, 'The account is disabled');
			}
			return user;
		},

		async changePassword(user: UserDoc, current: string, next: string): Promise<UserDoc> {
			if (!(await verifyPassword(user.passwordHash, current))) {
				throw new AppError('invalid_credentials', 400, 'The current password is wrong', {
					field: 'currentPassword',
					issues: { currentPassword: 'password_wrong' }
				});
			}
			if (current === next) {
				throw new AppError('validation', 400, 'Choose a new password', {
					field: 'newPassword',
					issues: { newPassword: 'password_same' }
				});
			}
			const saved = await save({
				...user,
				passwordHash: await hashPassword(next),
				mustChangePassword: false
			});
			await audit.record({ actor: user._id, action: 'user.password.change', target: user._id });
			return saved;
		},

		async listPending(): Promise<PendingAccount[]> {
			const res = await users.view<null>('app', 'users_by_status', {
				key: 'pending',
				include_docs: true
			});
			return res.rows
				.map((r) => r.doc as UserDoc)
				.map(pending)
				.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
		},

		async approve(
			id: string,
			roleId: string,
			agentId: string,
			actor: string
		): Promise<SessionUser> {
			const user = await getUser(id);
			if (!user) throw new AppError('not_found', 404, 'No such account');
			if (user.status !== 'pending') {
				throw new AppError('conflict', 409, 'The account is not pending');
			}
			const role = await getConfig<RoleDoc>(roleId, 'role');
			if (!role) {
				throw new AppError('validation', 400, 'Unknown role', {
					field: 'roleId',
					issues: { roleId: 'role_unknown' }
				});
			}
			if (agentId) {
				const taken = await users.view('app', 'users_by_agent_id', { key: agentId });
				if (taken.rows.some((r) => r.id !== id)) {
					throw new AppError('validation', 409, 'This agent ID is taken', {
						field: 'agentId',
						issues: { agentId: 'agent_id_taken' }
					});
				}
			}
			const saved = await save({
				...user,
				agentId: agentId || null,
				status: 'active',
				roleId: role._id,
				permissions: role.permissions.filter((p) => (PERMISSIONS as readonly string[]).includes(p))
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
		},

		/**
		 * Creates the first administrator `admin` when the store has none: with ADMIN_PASSWORD when given,
		 * otherwise with a one-time password that must be changed at first sign-in. Returns what to print.
		 */
		async ensureFirstAdmin(
			adminPassword: string | null
		): Promise<{ password: string; oneTime: boolean } | null> {
			if (await getUser(userIdOf('admin'))) return null;
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
			try {
				await users.insert(doc);
			} catch (err) {
				if (storeStatus(err) === 409) return null;
				throw err;
			}
			await audit.record({ actor: 'system', action: 'user.create.firstAdmin', target: doc._id });
			return { password, oneTime: adminPassword === null };
		}
	};
}
export type Accounts = ReturnType<typeof createAccounts>;

function pending(u: UserDoc): PendingAccount {
	return {
		id: u._id,
		username: u.username,
		name: u.name,
		departmentId: u.departmentId,
		birthDate: u.birthDate,
		phone: u.phone,
		email: u.email,
		createdAt: u.createdAt
	};
}

export const ApproveParam = v.object({
	id: v.pipe(v.string(), v.startsWith('user:'), v.maxLength(80))
});
