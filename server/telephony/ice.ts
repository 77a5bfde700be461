/**
 * ICE servers handed to each softphone with its SIP identity, so agents' and crews' browsers behind NAT reach
 * Janus's media through TURN. With `TURN_SECRET` the credentials are short-lived and tied to the agent, the
 * "TURN REST API" scheme coturn (`use-auth-secret` / `static-auth-secret`) and most TURN services accept:
 * username `<expiry unix seconds>:<agent ID>`, password base64(HMAC-SHA1(secret, username)).
 */
import { createHmac } from 'node:crypto';

export interface IceSettings {
	/** `stun:`, `turn:` or `turns:` URIs; empty = host candidates only (a LAN or a public Janus). */
	urls: string[];
	/** Shared secret of the TURN server (coturn `static-auth-secret`): time-limited credentials. */
	secret: string;
	/** Fixed credentials, used when no secret is set. */
	username: string;
	password: string;
}

export interface IceServer {
	urls: string[];
	username?: string;
	credential?: string;
}

export function iceServers(
	ice: IceSettings,
	agentId: string,
	validForMs: number,
	now = Date.now()
): IceServer[] {
	if (!ice.urls.length) return [];
	const stun = ice.urls.filter((u) => u.startsWith('stun:'));
	const turn = ice.urls.filter((u) => !u.startsWith('stun:'));
	const servers: IceServer[] = stun.length ? [{ urls: stun }] : [];
	if (!turn.length) return servers;
	if (ice.secret) {
		const username = `${Math.floor((now + validForMs) / 1000)}:${agentId}`;
		const credential = createHmac('sha1', ice.secret).update(username).digest('base64');
		servers.push({ urls: turn, username, credential });
	} else {
		servers.push({ urls: turn, username: ice.username, credential: ice.password });
	}
	return servers;
}
