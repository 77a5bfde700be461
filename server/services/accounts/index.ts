/**
 * Accounts (F1–F10) in the server-only `cc_users`: the user store and its in-memory index (`users.ts`),
 * registration and approval (`registration.ts`), administration (`administration.ts`), and signing in with
 * passwords (`authentication.ts`, `passwords.ts`) — one service for the routes, in coherent parts.
 */
import type { Store } from '../../store';
import type { Audit } from '../audit';
import { createUserAdministration } from './administration';
import { createAuthentication } from './authentication';
import { createRegistration } from './registration';
import { createUserStore } from './users';

export { ApproveParam } from './registration';
export { toSessionUser, toSummary, userIdOf, type UserDoc } from './users';

export function createAccounts({ store, audit }: { store: Store; audit: Audit }) {
	const users = createUserStore({ store });
	return {
		/** The account, or null. */
		getUser: users.get,
		/** Whether an account has this agent ID (the softphone's SIP identity). */
		isAgentId: users.isAgentId,
		...createUserAdministration({ users, audit }),
		...createRegistration({ users, audit }),
		...createAuthentication({ users, audit })
	};
}
export type Accounts = ReturnType<typeof createAccounts>;
