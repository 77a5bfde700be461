/**
 * #16 the secrets of one telephony installation shared by several app servers (`TELEPHONY=shared`), all
 * derived from TELEPHONY_KEY, so that `npm run telephony` (Kamailio, Janus) and every app server agree on
 * them without passing more than one secret around.
 */
import { createHmac } from 'node:crypto';

export interface TelephonySecrets {
	/** The app's proof to Kamailio (evapi, `/internal` requests). */
	internalKey: string;
	/** Kamailio's mark on the calls it hands to Janus (`X-CC-Gate`). */
	gateToken: string;
	/** Kamailio's nonce secret and Janus's admin secret. */
	secret: string;
	/** The app servers' proof to each other (`/internal/cluster`). */
	clusterKey: string;
}

export function sharedSecrets(key: string): TelephonySecrets {
	const derive = (label: string) =>
		createHmac('sha256', key).update(`guangdian-telephony:${label}`).digest('base64url');
	return {
		internalKey: derive('internal'),
		gateToken: derive('gate').slice(0, 24),
		secret: derive('secret'),
		clusterKey: derive('cluster')
	};
}
