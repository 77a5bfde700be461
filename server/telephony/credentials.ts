/**
 * SIP identities (F7 agent ID + permission `call.take`, F1 desk phones). An agent's password is issued by
 * the app for one sign-in and dies with it: signing out, expiry or disabling the account ends the SIP
 * identity too. Desk phones have credentials the administrator issued (`services/desk-phones`). Kamailio
 * asks for the digest's HA1 of a user (`/internal/sip/secret`) at every REGISTER and agent INVITE, and
 * learns which kind it is: an agent registers only through Janus, a phone only from where it is.
 */
import { randomBytes } from 'node:crypto';
import type { Sessions } from '../services/sessions';
import { digestHa1, type DeskPhones } from '../services/desk-phones';

interface Issued {
	password: string;
	sessionToken: string;
}

export interface SipSecret {
	kind: 'agent' | 'phone';
	/** md5(user:realm:password) */
	ha1: string;
}

export function createSipCredentials(
	sessions: Pick<Sessions, 'resolve'>,
	o: {
		realm: string;
		deskPhones: Pick<DeskPhones, 'ha1Of'>;
		/** #16 an identity was issued: the other app servers keep it, for a failover. */
		onIssue?: (issued: { agentId: string; password: string; sessionToken: string }) => void;
	}
) {
	// One live identity per agent ID: a new sign-in of the same agent replaces the previous one.
	const byAgent = new Map<string, Issued>();
	/** The sign-in of each agent working with a desk phone (no SIP password of their own). */
	const deskSessions = new Map<string, string>();

	async function passwordOf(agentId: string): Promise<string | null> {
		const issued = byAgent.get(agentId);
		if (!issued) return null;
		const user = await sessions.resolve(issued.sessionToken);
		if (!user || user.agentId !== agentId || !user.permissions.includes('call.take')) {
			byAgent.delete(agentId);
			return null;
		}
		return issued.password;
	}

	return {
		issue(agentId: string, sessionToken: string): string {
			const password = randomBytes(18).toString('base64url');
			byAgent.set(agentId, { password, sessionToken });
			o.onIssue?.({ agentId, password, sessionToken });
			return password;
		},
		/** #16 every identity issued (what another app server needs to take over). */
		identities: () => [...byAgent].map(([agentId, i]) => ({ agentId, ...i })),
		/** #16 identities another app server issued: valid here as long as their sign-ins are. */
		adopt(issued: { agentId: string; password: string; sessionToken: string }[]) {
			for (const { agentId, password, sessionToken } of issued) {
				byAgent.set(agentId, { password, sessionToken });
			}
		},
		passwordOf,
		/** Who may authenticate as `user`, and with what; null = nobody (Kamailio challenges again). */
		async secretOf(user: string): Promise<SipSecret | null> {
			const password = await passwordOf(user);
			if (password) return { kind: 'agent', ha1: digestHa1(user, o.realm, password) };
			const ha1 = await o.deskPhones.ha1Of(user);
			return ha1 ? { kind: 'phone', ha1 } : null;
		},
		/** The sign-in of an agent who works with a desk phone (what their phone's calls may do). */
		bindDeskPhone(agentId: string, sessionToken: string) {
			deskSessions.set(agentId, sessionToken);
		},
		/**
		 * Whether the agent's live sign-in may call numbers outside (permission `call.outbound`): the sign-in
		 * that holds the softphone, or with `from: 'desk'` the one working with a desk phone.
		 */
		async mayCallOut(agentId: string, from: 'softphone' | 'desk' = 'softphone'): Promise<boolean> {
			const token =
				from === 'desk' ? deskSessions.get(agentId) : byAgent.get(agentId)?.sessionToken;
			const user = token ? await sessions.resolve(token) : null;
			return !!user && user.agentId === agentId && user.permissions.includes('call.outbound');
		}
	};
}
export type SipCredentials = ReturnType<typeof createSipCredentials>;
