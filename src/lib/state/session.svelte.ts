/** The signed-in user for the whole SPA. Filled by data/session.ts; read by layouts and pages. */
import type { SessionUser } from '#shared/wire/accounts';
import type { HomeKind } from '#shared/permissions';

export class Session {
	user = $state<SessionUser | null>(null);
	home = $state<HomeKind>('none');
	/** True when the user comes from this device's cache because the server could not be reached. */
	isOfflineCopy = $state(false);
	extension = $state('');
	/** Set by sign-out so the sign-in page can confirm it. */
	justSignedOut = $state(false);
	/** Set when the server ended the sign-in (signed out elsewhere, password reset, disabled, expired). */
	endedByServer = $state(false);

	can(permission: string): boolean {
		return this.user?.permissions.includes(permission) ?? false;
	}
}

export const session = new Session();
