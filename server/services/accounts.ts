/**
 * Accounts in the server-only `cc_users` database. The document id is `user:<normalised user name>`, so the
 * store itself guarantees that a user name is unique regardless of case, width and spaces — even for two
 * registrations at the same instant.
 */
import * as v from 'valibot';
import {
	normalizeUsername,
	type AccountStatus,
	type NewUser,
	type PendingAccount,
	type Registration,
	type SessionUser,
	type UserQuery,
	type UserSummary
} from '#shared/schemas/user';
import { CENTER_DEPARTMENT_ID, type DepartmentDoc, type RoleDoc } from '#shared/docs/config';
import { isPermission, PERMISSIONS } from '#shared/permissions';
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

export function toSummary(u: UserDoc): UserSummary {
	return {
		id: u._id,
		_rev: u._rev ?? '',
		username: u.username,
		name: u.name,
		departmentId: u.departmentId,
		birthDate: u.birthDate,
		phone: u.phone,
		email: u.email,
		status: u.status,
		roleId: u.roleId,
		permissions: u.permissions,
		agentId: u.agentId,
		mustChangePassword: u.mustChangePassword,
		createdAt: u.createdAt
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

	async function requireDepartment(id: string): Promise<DepartmentDoc> {
		const department = await getConfig<DepartmentDoc>(id, 'department');
		if (department) return department;
		throw new AppError('validation', 400, 'Unknown department', {
			field: 'departmentId',
			issues: { departmentId: 'department_unknown' }
		});
	}

	async function requireRole(id: string): Promise<RoleDoc> {
		const role = await getConfig<RoleDoc>(id, 'role');
		if (role) return role;
		throw new AppError('validation', 400, 'Unknown role', {
			field: 'roleId',
			issues: { roleId: 'role_unknown' }
		});
	}

	type PersonFields = Pick<
		UserDoc,
		'username' | 'name' | 'departmentId' | 'birthDate' | 'phone' | 'email'
	>;
	type AccountFields = Pick<
		UserDoc,
		'status' | 'roleId' | 'permissions' | 'agentId' | 'passwordHash' | 'mustChangePassword'
	>;

	/** Stores a new account; the id makes the user name unique, so a clash is `username_taken`. */
	async function insertNewUser(person: PersonFields, account: AccountFields): Promise<UserDoc> {
		const now = new Date().toISOString();
		const doc: UserDoc = {
			_id: userIdOf(person.username),
			type: 'user',
			username: person.username,
			name: person.name,
			departmentId: person.departmentId,
			birthDate: person.birthDate,
			phone: person.phone,
			email: person.email,
			...account,
			createdAt: now,
			updatedAt: now
		};
		try {
			const res = await users.insert(doc);
			return { ...doc, _rev: res.rev };
		} catch (err) {
			if (storeStatus(err) === 409) {
				throw new AppError('username_taken', 409, 'This user name is taken', {
					field: 'username',
					issues: { username: 'username_taken' }
				});
			}
			throw err;
		}
	}

	async function requireUser(id: string): Promise<UserDoc> {
		const user = await getUser(id);
		if (!user) throw new AppError('not_found', 404, 'No such account');
		return user;
	}

	async function checkAgentId(agentId: string, id: string) {
		if (!agentId) return;
		const taken = await users.view('users_by_agent_id', { key: agentId });
		if (taken.rows.some((r) => r.id !== id)) {
			throw new AppError('validation', 409, 'This agent ID is taken', {
				field: 'agentId',
				issues: { agentId: 'agent_id_taken' }
			});
		}
	}

	/**
	 * Every account, kept in memory and brought up to date from the database's changes feed on each call:
	 * a list request reads only what changed since the last one (sessions included, then skipped).
	 */
	const index = { seq: '0' as string | number, users: new Map<string, UserDoc>() };
	let catchingUp: Promise<void> | null = null;
	async function catchUp(): Promise<void> {
		const res = await users.changes({ since: String(index.seq), include_docs: 'true' });
		for (const change of res.results) {
			if (change.deleted || !change.doc) index.users.delete(change.id);
			else if (change.doc.type === 'user') index.users.set(change.id, change.doc);
		}
		index.seq = res.last_seq;
	}
	async function allUsers(): Promise<UserDoc[]> {
		// Wait for a catch-up already under way, then read what changed after it (our own writes included).
		if (catchingUp) await catchingUp.catch(() => {});
		catchingUp = catchUp();
		try {
			await catchingUp;
		} finally {
			catchingUp = null;
		}
		return [...index.users.values()];
	}

	const summaryOf = (u: UserDoc) => ({
		status: u.status,
		roleId: u.roleId,
		permissions: u.permissions,
		agentId: u.agentId
	});

	return {
		getUser,

		/** F5: search, filter, sort and page over all accounts (from the incrementally kept index). */
		async listUsers(
			query: UserQuery,
			names: { department: (id: string) => string; role: (id: string | null) => string }
		): Promise<{ total: number; rows: UserSummary[] }> {
			const q = query.q.normalize('NFKC').toLowerCase();
			const matches = (await allUsers())
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
			await requireDepartment(input.departmentId);
			const role = await requireRole(input.roleId);
			await checkAgentId(input.agentId, userIdOf(input.username));
			const password = oneTimePassword();
			const doc = await insertNewUser(input, {
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
			const user = await requireUser(id);
			const password = oneTimePassword();
			await save({ ...user, passwordHash: await hashPassword(password), mustChangePassword: true });
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
			const user = await requireUser(id);
			if (user._rev !== rev) {
				throw new AppError('stale', 409, 'The account was changed by someone else; reload it.');
			}
			await checkAgentId(agentId, id);
			const saved = await save({ ...user, agentId: agentId || null });
			await audit.record({
				actor,
				action: 'user.agentId',
				target: id,
				before: summaryOf(user),
				after: summaryOf(saved)
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
			const user = await requireUser(id);
			if (user.status === 'pending') {
				throw new AppError('conflict', 409, 'Approve the account first');
			}
			const saved = await save({ ...user, status });
			await audit.record({
				actor,
				action: `user.${status === 'active' ? 'enable' : 'disable'}`,
				target: id,
				before: summaryOf(user),
				after: summaryOf(saved)
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
			const user = await requireUser(id);
			if (user._rev !== rev) {
				throw new AppError('stale', 409, 'The account was changed by someone else; reload it.');
			}
			const unknown = permissions.find((p) => !isPermission(p));
			if (unknown) {
				throw new AppError('validation', 400, `Unknown permission ${unknown}`, {
					field: 'permissions',
					issues: { permissions: 'invalid' }
				});
			}
			if (roleId) await requireRole(roleId);
			if (id === actor && !permissions.includes('admin.users')) {
				throw new AppError('self', 409, 'You cannot take user administration away from yourself');
			}
			const saved = await save({ ...user, permissions: [...new Set(permissions)], roleId });
			await audit.record({
				actor,
				action: 'user.permissions',
				target: id,
				before: summaryOf(user),
				after: summaryOf(saved)
			});
			return toSummary(saved);
		},

		/** F8: delete — refused once the user has recorded any ticket (`ticketCount` > 0). */
		async deleteUser(id: string, actor: string, ticketCount: number): Promise<void> {
			if (id === actor) throw new AppError('self', 409, 'You cannot delete yourself');
			const user = await requireUser(id);
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
			await users.destroy(id, user._rev!);
			await audit.record({ actor, action: 'user.delete', target: id, before: toSummary(user) });
		},

		async register(input: Registration, actor: string | null): Promise<PendingAccount> {
			await requireDepartment(input.departmentId);
			const doc = await insertNewUser(input, {
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
			const res = await users.view('users_by_status', {
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
			const role = await requireRole(roleId);
			await checkAgentId(agentId, id);
			const saved = await save({
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
