/**
 * SIP identities for agents (F7 agent ID + permission `call.take`): a password issued by the app for one
 * sign-in. Kamailio asks for it (`/internal/sip/password`) at every REGISTER and agent INVITE, and gets it
 * only while that sign-in is alive — signing out, expiry or disabling the account ends the SIP identity too.
 */
import { randomBytes } from 'node:crypto';
import type { Sessions } from '../services/sessions';

interface Issued {
	password: string;
	sessionToken: string;
}

export function createSipCredentials(sessions: Pick<Sessions, 'resolve'>) {
	// One live identity per agent ID: a new sign-in of the same agent replaces the previous one.
	const byAgent = new Map<string, Issued>();
	return {
		issue(agentId: string, sessionToken: string): string {
			const password = randomBytes(18).toString('base64url');
			byAgent.set(agentId, { password, sessionToken });
			return password;
		},
		async passwordOf(agentId: string): Promise<string | null> {
			const issued = byAgent.get(agentId);
			if (!issued) return null;
			const user = await sessions.resolve(issued.sessionToken);
			if (!user || user.agentId !== agentId || !user.permissions.includes('call.take')) {
				byAgent.delete(agentId);
				return null;
			}
			return issued.password;
		},
		/** Whether the agent's live sign-in may call numbers outside (permission `call.outbound`). */
		async mayCallOut(agentId: string): Promise<boolean> {
			const issued = byAgent.get(agentId);
			const user = issued ? await sessions.resolve(issued.sessionToken) : null;
			return !!user && user.agentId === agentId && user.permissions.includes('call.outbound');
		}
	};
}
export type SipCredentials = ReturnType<typeof createSipCredentials>;
