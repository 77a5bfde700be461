/**
 * #16 call routing under the lease (`TELEPHONY=shared`): the app server holding the lease runs the ACD on
 * the shared Kamailio and accepts the other servers' links (`cluster.ts`); the others link to it, mirror
 * its agents and SIP identities, and take over from that mirror when the lease comes to them — Kamailio
 * then tells them every call still waiting (`telephony-config.ts`, WAITING).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { EventHub } from '../services/events';
import type { AgentState } from './acd';
import type { CallHandling, CallHandlingOptions } from './calls';
import {
	createClusterHolder,
	linkToHolder,
	type ClusterHolder,
	type HolderLink,
	type IssuedIdentity,
	type RoutingHub
} from './cluster';
import type { SipCredentials } from './credentials';

export function createSharedRouting(o: {
	hub: EventHub;
	clusterKey: string;
	credentials: Pick<SipCredentials, 'identities' | 'adopt'>;
	/** The lease holder's internal address, when that is another server; null otherwise. */
	holderUrl: () => string | null;
	/** Starts call handling on Kamailio with the hub spanning every server. */
	startCalls: (
		hub: RoutingHub,
		mirror: Pick<CallHandlingOptions, 'onAgents' | 'onRecord'>
	) => CallHandling;
	log: (msg: string) => void;
}) {
	let holder: ClusterHolder | null = null;
	let calls: CallHandling | null = null;
	let link: HolderLink | null = null;
	let stopped = false;

	function follow() {
		if (stopped || calls || link) return;
		link = linkToHolder({
			hub: o.hub,
			key: o.clusterKey,
			holderUrl: o.holderUrl,
			onIdentities: (issued) => o.credentials.adopt(issued),
			log: o.log
		});
	}

	return {
		/** This server gained the lease: routing starts here from what the previous holder told. */
		gain(): CallHandling {
			if (calls) return calls;
			const mirror = link?.mirror() ?? [];
			const unstored = link?.unstored() ?? [];
			link?.stop();
			link = null;
			const cluster = createClusterHolder({
				hub: o.hub,
				key: o.clusterKey,
				snapshot: () => calls?.acd.snapshot() ?? [],
				identities: () => o.credentials.identities(),
				log: o.log
			});
			holder = cluster;
			calls = o.startCalls(cluster.hub, {
				onAgents: (changed) => cluster.agents(changed),
				onRecord: (record, stored) =>
					stored ? cluster.stored(record.callId) : cluster.finished(record)
			});
			const busy = mirror.filter((a) => a.state !== 'signedOut').length;
			if (mirror.length > 0) o.log(`call routing: taking over ${busy} signed-in agents`);
			calls.acd.adopt(mirror);
			// Calls the previous holder finished but may not have stored before it died (stored again: the
			// same document).
			for (const record of unstored) void calls.store(record);
			return calls;
		},
		/** This server lost the lease: routing stops here, and it follows the next holder. */
		lose() {
			calls?.stop();
			holder?.close();
			calls = holder = null;
			follow();
		},
		follow,
		calls: () => calls,
		/** `/internal/cluster` while this server routes calls; false for anything else. */
		upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer): boolean =>
			holder?.upgrade(req, socket, head) ?? false,
		/** An agent as the ACD here, or the holder's last word, has them. */
		agent: (agentId: string): AgentState | null =>
			calls?.acd.agent(agentId) ?? link?.agent(agentId) ?? null,
		/** A SIP identity issued here (as holder): the others keep it. */
		issued(identity: IssuedIdentity) {
			holder?.identities([identity]);
		},
		/** Whether the user has a page open: on any server while this one routes calls, else here. */
		connected: (userId: string): boolean =>
			holder ? holder.hub.connected(userId) : o.hub.connected(userId),
		/** Whether this server is linked to the holder (false on the holder itself). */
		linked: () => link?.linked() ?? false,
		stop() {
			stopped = true;
			calls?.stop();
			holder?.close();
			link?.stop();
			calls = holder = link = null;
		}
	};
}
export type SharedRouting = ReturnType<typeof createSharedRouting>;
