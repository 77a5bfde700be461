/**
 * Accounts as stored: `user:<normalised user name>` documents in the server-only `cc_users`, so the store
 * itself guarantees that a user name is unique regardless of case, width and spaces — even for two
 * registrations at the same instant. This module is the only one that writes them (sessions, crews and
 * branches read them); it also keeps every account in memory, brought up to date from the database's
 * changes feed, for the user list.
 */
import { normalizeUsername } from '#shared/schemas/user';
import type {
	AccountStatus,
	PendingAccount,
	SessionUser,
	UserSummary
} from '#shared/wire/accounts';
import type { DepartmentDoc, RoleDoc } from '#shared/docs/config';
import { AppError, storeStatus } from '../../errors';
import type { Store } from '../../store';

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

/** The person an account is for, as registered or added. */
export type PersonFields = Pick<
	UserDoc,
	'username' | 'name' | 'departmentId' | 'birthDate' | 'phone' | 'email'
>;
/** What an account may do and how it signs in. */
export type AccountFields = Pick<
	UserDoc,
	'status' | 'roleId' | 'permissions' | 'agentId' | 'passwordHash' | 'mustChangePassword'
>;

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

export function toPending(u: UserDoc): PendingAccount {
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

/** What an audit entry says of an account's rights. */
export const rightsOf = (u: UserDoc) => ({
	status: u.status,
	roleId: u.roleId,
	permissions: u.permissions,
	agentId: u.agentId
});

export function createUserStore({ store }: { store: Store }) {
	const users = store.db<UserDoc>('users');
	const config = store.db<DepartmentDoc | RoleDoc>('config');

	async function get(id: string): Promise<UserDoc | null> {
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

	return {
		/** The account, or null (also for an id that is not an account's). */
		get,

		/** @throws AppError 404 */
		async require(id: string): Promise<UserDoc> {
			const user = await get(id);
			if (!user) throw new AppError('not_found', 404, 'No such account');
			return user;
		},

		/** Every account, as of now (our own writes included). */
		async all(): Promise<UserDoc[]> {
			// Wait for a catch-up already under way, then read what changed after it.
			if (catchingUp) await catchingUp.catch(() => {});
			catchingUp = catchUp();
			try {
				await catchingUp;
			} finally {
				catchingUp = null;
			}
			return [...index.users.values()];
		},

		/** Accounts waiting for an administrator, oldest first. */
		async pending(): Promise<UserDoc[]> {
			const res = await users.view('users_by_status', { key: 'pending', include_docs: true });
			return res.rows
				.map((r) => r.doc as UserDoc)
				.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
		},

		/**
		 * Stores a new account; the id makes the user name unique.
		 * @throws AppError username_taken
		 */
		async insertNew(person: PersonFields, account: AccountFields): Promise<UserDoc> {
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
		},

		/**
		 * Stores the first administrator unless an account of that name exists; false when it does.
		 */
		async insertFirst(doc: UserDoc): Promise<boolean> {
			try {
				await users.insert(doc);
				return true;
			} catch (err) {
				if (storeStatus(err) === 409) return false;
				throw err;
			}
		},

		/**
		 * Writes a changed account over the revision it was read at.
		 * @throws AppError stale when someone else changed it first
		 */
		async save(doc: UserDoc): Promise<UserDoc> {
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
		},

		async remove(user: UserDoc): Promise<void> {
			await users.destroy(user._id, user._rev!);
		},

		/** Whether an account has this agent ID (工号). */
		async isAgentId(agentId: string): Promise<boolean> {
			return (await users.view('users_by_agent_id', { key: agentId, limit: 1 })).rows.length > 0;
		},

		/** @throws AppError 409 when another account has this agent ID */
		async checkAgentId(agentId: string, id: string): Promise<void> {
			if (!agentId) return;
			const taken = await users.view('users_by_agent_id', { key: agentId });
			if (taken.rows.some((r) => r.id !== id)) {
				throw new AppError('validation', 409, 'This agent ID is taken', {
					field: 'agentId',
					issues: { agentId: 'agent_id_taken' }
				});
			}
		},

		/** @throws AppError 400 for a department that does not exist */
		async requireDepartment(id: string): Promise<DepartmentDoc> {
			const department = await getConfig<DepartmentDoc>(id, 'department');
			if (department) return department;
			throw new AppError('validation', 400, 'Unknown department', {
				field: 'departmentId',
				issues: { departmentId: 'department_unknown' }
			});
		},

		/** @throws AppError 400 for a role that does not exist */
		async requireRole(id: string): Promise<RoleDoc> {
			const role = await getConfig<RoleDoc>(id, 'role');
			if (role) return role;
			throw new AppError('validation', 400, 'Unknown role', {
				field: 'roleId',
				issues: { roleId: 'role_unknown' }
			});
		}
	};
}
export type UserStore = ReturnType<typeof createUserStore>;
