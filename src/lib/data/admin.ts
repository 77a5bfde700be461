/** Administration for the UI: users through /api/users, configuration through /api/admin/config. */
import { api, send } from '$lib/api/client';
import type { ConfigDoc, ConfigType } from '#shared/docs/config';
import type { NewUser, UserQuery } from '#shared/schemas/user';
import type { NewDeskPhone } from '#shared/schemas/desk-phone';
import {
	AddedUser,
	ChangedUser,
	IssuedPassword,
	UserPage,
	type UserSummary
} from '#shared/wire/accounts';
import { ChangedConfigItem } from '#shared/wire/config';
import { AuditEntries, type AuditQuery } from '#shared/wire/audit';
import { DeskPhoneList, IssuedDeskPhone } from '#shared/wire/desk-phones';

export async function listUsers(query: Partial<Record<keyof UserQuery, string | number>>) {
	const params = new URLSearchParams(
		Object.entries(query)
			.filter(([, v]) => v !== '' && v !== undefined)
			.map(([k, v]) => [k, String(v)])
	);
	return api(`/users?${params}`, UserPage);
}

export const addUser = (input: NewUser) =>
	api('/users', AddedUser, { method: 'POST', body: input });

const userPath = (id: string, rest = '') => `/users/${encodeURIComponent(id)}${rest}`;

export const resetPassword = async ({ id }: { id: string }) =>
	(await api(userPath(id, '/password-reset'), IssuedPassword, { method: 'POST' })).password;

/** Ends every sign-in of the user: their pages, softphone and sync stop within seconds. */
export const signOutEverywhere = ({ id }: { id: string }) =>
	send(userPath(id, '/sign-out'), { method: 'POST' });

export const setAgentId = async ({ user, agentId }: { user: UserSummary; agentId: string }) =>
	(
		await api(userPath(user.id, '/agent-id'), ChangedUser, {
			method: 'PUT',
			body: { _rev: user._rev, agentId }
		})
	).user;

export const setStatus = async ({ id, status }: { id: string; status: 'active' | 'disabled' }) =>
	(await api(userPath(id, '/status'), ChangedUser, { method: 'PUT', body: { status } })).user;

export const setPermissions = async ({
	user,
	permissions,
	roleId
}: {
	user: UserSummary;
	permissions: string[];
	roleId: string | null;
}) =>
	(
		await api(userPath(user.id, '/permissions'), ChangedUser, {
			method: 'PUT',
			body: { _rev: user._rev, permissions, roleId }
		})
	).user;

export const deleteUser = ({ id }: { id: string }) => send(userPath(id), { method: 'DELETE' });

/** One user by id (for the detail screen). */
export async function getUser({ id }: { id: string }): Promise<UserSummary | null> {
	const username = id.replace(/^user:/, '');
	const { rows } = await listUsers({ q: username, pageSize: 200 });
	return rows.find((u) => u.id === id) ?? null;
}

const configPath = (type: ConfigType, id?: string) =>
	`/admin/config/${type}${id ? `/${encodeURIComponent(id)}` : ''}`;

/**
 * A new configuration document (changes reach every browser through replication).
 * @throws ApiError `validation` with the field's problem
 */
export const createConfig = async ({
	type,
	input
}: {
	type: ConfigType;
	input: Record<string, unknown>;
}) => (await api(configPath(type), ChangedConfigItem, { method: 'POST', body: input })).item;

/**
 * Saves a change made from `doc`'s revision.
 * @throws ApiError `stale` when someone else changed it first (never overwritten), `validation`,
 *   `not_found`
 */
export const updateConfig = async ({
	doc,
	input
}: {
	doc: ConfigDoc;
	input: Record<string, unknown>;
}) =>
	(
		await api(configPath(doc.type, doc._id), ChangedConfigItem, {
			method: 'PUT',
			body: { ...input, _rev: doc._rev }
		})
	).item;

/**
 * Deletes a configuration document at the revision shown.
 * @throws ApiError `in_use` with the reasons (sub-departments, users, crews, tickets …), `stale`
 */
export const deleteConfig = ({ doc }: { doc: ConfigDoc }) =>
	send(`${configPath(doc.type, doc._id)}?rev=${encodeURIComponent(doc._rev ?? '')}`, {
		method: 'DELETE'
	});

/** F33 the audit entries that match `filter` (empty fields do not filter), newest first. */
export async function auditLog(filter: Partial<Record<keyof AuditQuery, string>>) {
	const params = new URLSearchParams(
		Object.entries(filter).filter((e): e is [string, string] => Boolean(e[1]))
	);
	return (await api(`/audit?${params}`, AuditEntries)).entries;
}

/** F1 desk phones: the list carries no credentials; a new or reset password comes back once. */
export const listDeskPhones = async () => (await api('/desk-phones', DeskPhoneList)).phones;

export const addDeskPhone = (input: NewDeskPhone) =>
	api('/desk-phones', IssuedDeskPhone, { method: 'POST', body: input });

const deskPhonePath = (extension: string, rest = '') =>
	`/desk-phones/${encodeURIComponent(extension)}${rest}`;

export const resetDeskPhonePassword = async ({ extension }: { extension: string }) =>
	(await api(deskPhonePath(extension, '/password-reset'), IssuedPassword, { method: 'POST' }))
		.password;

export const deleteDeskPhone = ({ extension }: { extension: string }) =>
	send(deskPhonePath(extension), { method: 'DELETE' });
