/** Administration for the UI: users through /api/users, configuration through /api/admin/config. */
import { untypedApi } from '$lib/api/client';
import type { ConfigDoc, ConfigType } from '#shared/docs/config';
import type { NewUser, UserQuery, UserSummary } from '#shared/schemas/user';
import type { DeskPhone, NewDeskPhone } from '#shared/schemas/desk-phone';

export async function listUsers(
	query: Partial<Record<keyof UserQuery, string | number>>
): Promise<{ total: number; rows: UserSummary[] }> {
	const params = new URLSearchParams(
		Object.entries(query)
			.filter(([, v]) => v !== '' && v !== undefined)
			.map(([k, v]) => [k, String(v)])
	);
	return untypedApi(`/users?${params}`);
}

export const addUser = (input: NewUser) =>
	untypedApi<{ user: UserSummary; password: string }>('/users', { method: 'POST', body: input });

const userPath = (id: string, rest = '') => `/users/${encodeURIComponent(id)}${rest}`;

export const resetPassword = async ({ id }: { id: string }) =>
	(await untypedApi<{ password: string }>(userPath(id, '/password-reset'), { method: 'POST' }))
		.password;

/** Ends every sign-in of the user: their pages, softphone and sync stop within seconds. */
export const signOutEverywhere = async ({ id }: { id: string }) => {
	await untypedApi(userPath(id, '/sign-out'), { method: 'POST' });
};

export const setAgentId = async ({ user, agentId }: { user: UserSummary; agentId: string }) =>
	(
		await untypedApi<{ user: UserSummary }>(userPath(user.id, '/agent-id'), {
			method: 'PUT',
			body: { _rev: user._rev, agentId }
		})
	).user;

export const setStatus = async ({ id, status }: { id: string; status: 'active' | 'disabled' }) =>
	(
		await untypedApi<{ user: UserSummary }>(userPath(id, '/status'), {
			method: 'PUT',
			body: { status }
		})
	).user;

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
		await untypedApi<{ user: UserSummary }>(userPath(user.id, '/permissions'), {
			method: 'PUT',
			body: { _rev: user._rev, permissions, roleId }
		})
	).user;

export const deleteUser = ({ id }: { id: string }) =>
	untypedApi(userPath(id), { method: 'DELETE' });

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
}) =>
	(await untypedApi<{ item: ConfigDoc }>(configPath(type), { method: 'POST', body: input })).item;

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
		await untypedApi<{ item: ConfigDoc }>(configPath(doc.type, doc._id), {
			method: 'PUT',
			body: { ...input, _rev: doc._rev }
		})
	).item;

/**
 * Deletes a configuration document at the revision shown.
 * @throws ApiError `in_use` with the reasons (sub-departments, users, crews, tickets …), `stale`
 */
export const deleteConfig = ({ doc }: { doc: ConfigDoc }) =>
	untypedApi(`${configPath(doc.type, doc._id)}?rev=${encodeURIComponent(doc._rev ?? '')}`, {
		method: 'DELETE'
	});

export interface AuditEntry {
	at: string;
	actor: string;
	action: string;
	target: string;
	before?: unknown;
	after?: unknown;
}

export async function auditLog(filter: Record<string, string>): Promise<AuditEntry[]> {
	const params = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== ''));
	return (await untypedApi<{ entries: AuditEntry[] }>(`/audit?${params}`)).entries;
}

/** F1 desk phones: the list carries no credentials; a new or reset password comes back once. */
export const listDeskPhones = async () =>
	(await untypedApi<{ phones: DeskPhone[] }>('/desk-phones')).phones;

export const addDeskPhone = (input: NewDeskPhone) =>
	untypedApi<{ phone: DeskPhone; password: string }>('/desk-phones', {
		method: 'POST',
		body: input
	});

const deskPhonePath = (extension: string, rest = '') =>
	`/desk-phones/${encodeURIComponent(extension)}${rest}`;

export const resetDeskPhonePassword = async ({ extension }: { extension: string }) =>
	(
		await untypedApi<{ password: string }>(deskPhonePath(extension, '/password-reset'), {
			method: 'POST'
		})
	).password;

export const deleteDeskPhone = ({ extension }: { extension: string }) =>
	untypedApi(deskPhonePath(extension), { method: 'DELETE' });
