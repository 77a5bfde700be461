/**
 * Sign-in, sign-out, registration and the session for the UI. Decides between the server and this
 * device's cached copy (offline start, F27). Routes and components call this, never api/ or cache/.
 */
import { api, send, ApiError, onSessionLost } from '$lib/api/client';
import {
	cachedSession,
	localePreference,
	pendingSignOut,
	startupSettings,
	workstation,
	type StartupSettings,
	type Workstation
} from '$lib/cache/db';
import { destroyConfigReplica, startConfigSync, stopConfigSync } from '$lib/replication/config-db';
import {
	destroyTicketReplica,
	noteSharedReplicaOwner,
	startTicketSync,
	stopTicketSync
} from '$lib/replication/tickets-db';
import { startHealthReports, stopHealthReports } from './device-health';
import { ensureDeviceCode } from '$lib/data/tickets';
import { session } from '$lib/state/session.svelte';
import { i18n, isLocale, type Locale } from '$lib/i18n/index.svelte';
import { userIdOf, type Registration } from '#shared/schemas/user';
import {
	ApprovedAccount,
	PendingAccounts,
	RegisteredAccount,
	RegistrationDepartments,
	SessionAnswer,
	type PendingAccount,
	type RegistrationDepartment,
	type SessionUser
} from '#shared/wire/accounts';
import type { HomeKind } from '#shared/permissions';

export const HOME_PATHS = {
	admin: '/admin',
	supervisor: '/supervisor',
	agent: '/agent',
	department: '/department',
	field: '/field',
	none: '/welcome'
} as const satisfies Record<HomeKind, string>;

export type AppPath = (typeof HOME_PATHS)[HomeKind] | '/password';

export function homePath(): AppPath {
	if (session.user?.mustChangePassword) return '/password';
	return HOME_PATHS[session.home];
}

/** Counts the sessions applied: an answer that arrives after another sign-in or sign-out is not used. */
let applied = 0;

function apply(answer: SessionAnswer | null, offlineCopy = false) {
	applied += 1;
	session.user = answer?.user ?? null;
	session.home = answer?.home ?? 'none';
	session.isOfflineCopy = offlineCopy;
	if (answer && !answer.user.mustChangePassword) {
		startConfigSync();
		startTicketSync({
			userId: answer.user.id,
			departmentId: answer.home === 'field' ? null : answer.user.departmentId
		});
		if (offlineCopy) startHealthReports();
		else {
			void ensureDeviceCode()
				.catch(() => {})
				.finally(() => startHealthReports());
		}
	}
}

/** Stops the replicas and health reports; an answer about the session after this is not used. */
function stopSyncs() {
	applied += 1;
	stopConfigSync();
	stopTicketSync();
	stopHealthReports();
}

/**
 * Restores language and session at start-up. A session this device remembers is used at once and the
 * server asked in the background (#15: the warm start waits for no network): its answer replaces the copy,
 * a refusal signs out here too, no answer marks it as this device's copy (offline, F27). Without one, the
 * server's answer decides.
 */
export async function restoreSession(): Promise<void> {
	const saved: StartupSettings = await startupSettings().catch(() => ({ pendingSignOut: false }));
	if (isLocale(saved.locale)) await i18n.setLocale(saved.locale).catch(() => {});
	const remembered = saved.workstation;
	session.extension = remembered?.extension ?? '';
	// The replica of an earlier version is the browser's last user's (see tickets-db).
	noteSharedReplicaOwner(remembered ? userIdOf(remembered.username) : null);
	if (saved.pendingSignOut) {
		// Signed out while offline: the cookie may still be valid on the server, so end it now.
		try {
			await send('/session', { method: 'DELETE' });
			await pendingSignOut.set(false);
		} catch {
			// Still offline: stay signed out and try again at the next start.
		}
		apply(null);
		return;
	}
	if (saved.session) {
		apply(saved.session);
		void confirmSession(saved.session, applied);
		return;
	}
	await confirmSession(null, applied);
}

/** The server's word on the session this device started with (`cached`, applied as number `at`). */
async function confirmSession(cached: SessionAnswer | null, at: number): Promise<void> {
	try {
		const answer = await api('/session', SessionAnswer);
		if (at !== applied) return;
		await cachedSession.set(answer);
		// Roles, permissions or the name may have changed since the copy was made.
		if (at === applied && JSON.stringify(answer) !== JSON.stringify(cached)) apply(answer);
	} catch (err) {
		if (at !== applied) return;
		if (err instanceof ApiError && err.code === 'network') {
			if (cached) session.isOfflineCopy = true;
			else apply(null, true);
		} else if (cached) {
			// The server no longer knows the remembered sign-in (ended elsewhere, expired, disabled).
			await sessionEndedByServer();
		} else {
			await cachedSession.clear();
			apply(null);
		}
	}
}

export async function signIn(input: {
	username: string;
	password: string;
	extension: string;
}): Promise<void> {
	const answer = await api('/session', SessionAnswer, {
		method: 'POST',
		body: { username: input.username, password: input.password }
	});
	const remembered = await workstation.get().catch(() => undefined);
	noteSharedReplicaOwner(remembered ? userIdOf(remembered.username) : null);
	await workstation.set({
		username: answer.user.username,
		agentId: answer.user.agentId,
		extension: input.extension.trim()
	});
	session.extension = input.extension.trim();
	await pendingSignOut.set(false);
	await cachedSession.set(answer);
	apply(answer);
	session.justSignedOut = false;
	session.endedByServer = false;
}

/** Signs out this device; with `everywhere`, every other sign-in of the user too (online only). */
export async function signOut({
	everywhere = false
}: { everywhere?: boolean } = {}): Promise<void> {
	if (everywhere) await send('/session?everywhere=1', { method: 'DELETE' });
	stopSyncs();
	try {
		if (!everywhere) await send('/session', { method: 'DELETE' });
	} catch {
		await pendingSignOut.set(true);
	}
	await cachedSession.clear();
	await destroyConfigReplica().catch(() => {});
	await destroyTicketReplica().catch(() => {});
	apply(null);
	session.justSignedOut = true;
}

/**
 * The server ended this sign-in (sign-out everywhere, a password reset, a disabled account, expiry): stop
 * talking to it and go to the sign-in page. The device's replicas stay, so nothing recorded here and not
 * yet synced is lost; it syncs at the next sign-in.
 */
export async function sessionEndedByServer(): Promise<void> {
	stopSyncs();
	await cachedSession.clear().catch(() => {});
	apply(null);
	session.endedByServer = true;
}

onSessionLost(() => {
	if (session.user && !session.isOfflineCopy) void sessionEndedByServer();
});

export async function changePassword(input: { currentPassword: string; newPassword: string }) {
	const answer = await api('/session/password', SessionAnswer, {
		method: 'POST',
		body: input
	});
	await cachedSession.set(answer);
	apply(answer);
}

export function rememberedWorkstation(): Promise<Workstation | undefined> {
	return workstation.get();
}

export async function setLocale({ locale }: { locale: Locale }): Promise<void> {
	await i18n.setLocale(locale);
	await localePreference.set(locale);
}

export async function registrationDepartments(): Promise<RegistrationDepartment[]> {
	return (await api('/register/departments', RegistrationDepartments)).departments;
}

export async function register(input: Registration): Promise<PendingAccount> {
	return (await api('/register', RegisteredAccount, { method: 'POST', body: input })).account;
}

export async function pendingAccounts(): Promise<PendingAccount[]> {
	return (await api('/accounts/pending', PendingAccounts)).accounts;
}

export async function approveAccount({
	id,
	roleId,
	agentId
}: {
	id: string;
	roleId: string;
	agentId: string;
}): Promise<SessionUser> {
	return (
		await api(`/accounts/${encodeURIComponent(id)}/approve`, ApprovedAccount, {
			method: 'POST',
			body: { roleId, agentId }
		})
	).user;
}

export { ApiError };
