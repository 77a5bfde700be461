/**
 * Accounts on the wire (F1–F10): the signed-in user and their home screen, pending registrations, the
 * administrators' user list, and the one-time passwords the server issues. The server builds these answers
 * with the schemas here and the browser reads them with the same ones, so each shape is written once.
 */
import * as v from 'valibot';
import { HOME_KINDS } from '../permissions';

export const ACCOUNT_STATUSES = ['pending', 'active', 'disabled'] as const;
export const AccountStatus = v.picklist(ACCOUNT_STATUSES);
export type AccountStatus = v.InferOutput<typeof AccountStatus>;

/** What the browser learns about the signed-in user (never the hash, never other users). */
export const SessionUser = v.object({
	id: v.string(),
	username: v.string(),
	name: v.string(),
	departmentId: v.string(),
	agentId: v.nullable(v.string()),
	permissions: v.array(v.string()),
	roleId: v.nullable(v.string()),
	mustChangePassword: v.boolean()
});
export type SessionUser = v.InferOutput<typeof SessionUser>;

/** The answer of sign-in, `GET /api/session` and a password change: who, and which home screen (F3). */
export const SessionAnswer = v.object({ user: SessionUser, home: v.picklist(HOME_KINDS) });
export type SessionAnswer = v.InferOutput<typeof SessionAnswer>;

/** A pending account as the administrator's approval screen shows it. */
export const PendingAccount = v.object({
	id: v.string(),
	username: v.string(),
	name: v.string(),
	departmentId: v.string(),
	birthDate: v.string(),
	phone: v.string(),
	email: v.string(),
	createdAt: v.string()
});
export type PendingAccount = v.InferOutput<typeof PendingAccount>;

export const PendingAccounts = v.object({ accounts: v.array(PendingAccount) });

/** F2 the answer to a registration: the account, waiting for approval. */
export const RegisteredAccount = v.object({ account: PendingAccount });

/** An approved account: the user it became. */
export const ApprovedAccount = v.object({ user: SessionUser });

/** A department as the registration form offers it (F2, anonymous: no more than the form needs). */
export const RegistrationDepartment = v.object({
	id: v.string(),
	name: v.string(),
	parentId: v.nullable(v.string()),
	order: v.number()
});
export type RegistrationDepartment = v.InferOutput<typeof RegistrationDepartment>;

export const RegistrationDepartments = v.object({
	departments: v.array(RegistrationDepartment)
});

/** A user as the administration screens show it (never the password hash). */
export const UserSummary = v.object({
	id: v.string(),
	_rev: v.string(),
	username: v.string(),
	name: v.string(),
	departmentId: v.string(),
	birthDate: v.string(),
	phone: v.string(),
	email: v.string(),
	status: AccountStatus,
	roleId: v.nullable(v.string()),
	permissions: v.array(v.string()),
	agentId: v.nullable(v.string()),
	mustChangePassword: v.boolean(),
	createdAt: v.string()
});
export type UserSummary = v.InferOutput<typeof UserSummary>;

/** F5 one page of the user list: the rows of `page`, and how many match in all. */
export const UserPage = v.object({
	total: v.number(),
	rows: v.array(UserSummary),
	page: v.number(),
	pageSize: v.number()
});

/** A user after a change (agent ID, status, permissions). */
export const ChangedUser = v.object({ user: UserSummary });

/** A password the server generated, shown to the administrator this once. */
export const IssuedPassword = v.object({ password: v.string() });

/** F4 a user an administrator added, with the one-time password to hand over. */
export const AddedUser = v.object({ user: UserSummary, password: v.string() });
