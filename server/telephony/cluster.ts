/**
 * #16 call routing on one of several app servers. With `TELEPHONY=shared`, Kamailio and Janus run apart
 * (`npm run telephony`) and every app server serves agents' pages; the ACD runs on the server holding the
 * lease only. The others keep one WebSocket to it (`/internal/cluster`, the shared telephony key):
 * - they tell it which users have pages open with them (presence, each page that connects), so that the
 *   ACD's presence rules and greetings see every page, whichever server it is connected to;
 * - it sends them every event for a user with pages there (the screen pop, the agent's state), which they
 *   hand to those pages — before the phone rings, as on one server;
 * - it sends them each agent's state as it changes (with the record of the call they ring or talk in) and
 *   the SIP identities it issued: what a server taking over call routing starts from (`acd.adopt`), so
 *   agents stay signed in and registered across a failover.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import * as v from 'valibot';
import { ServerEvent } from '#shared/wire/events';
import { Agent, CallRecord } from '#shared/wire/telephony';
import type { EventHub } from '../services/events';
import type { AgentSnapshot } from './acd';

export const CLUSTER_PATH = '/internal/cluster';
const KEY_HEADER = 'x-cc-cluster-key';
const RECONNECT_MS = 300;
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** A SIP identity the holder issued for a sign-in (`credentials.ts`). */
export interface IssuedIdentity {
	agentId: string;
	password: string;
	sessionToken: string;
}

const Snapshot = v.object({ ...Agent.entries, record: v.optional(CallRecord) });
const Identity = v.object({
	agentId: v.pipe(v.string(), v.regex(/^\d{2,20}$/)),
	password: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
	sessionToken: v.pipe(v.string(), v.minLength(1), v.maxLength(200))
});
const UserId = v.pipe(v.string(), v.minLength(1), v.maxLength(200));

/** What a server sends the holder. */
const ToHolder = v.variant('t', [
	/** Every user with pages open here now (at each connection). */
	v.object({ t: v.literal('hello'), users: v.array(UserId) }),
	/** A page of the user connected here. */
	v.object({ t: v.literal('page'), userId: UserId }),
	/** The user's last page here went away. */
	v.object({ t: v.literal('gone'), userId: UserId })
]);
/** What the holder sends the other servers. */
const FromHolder = v.variant('t', [
	v.object({ t: v.literal('event'), userId: UserId, event: ServerEvent }),
	v.object({ t: v.literal('agents'), agents: v.array(Snapshot) }),
	v.object({ t: v.literal('identities'), identities: v.array(Identity) }),
	/** A call finished: its record, kept until the holder says it is stored. */
	v.object({ t: v.literal('finished'), record: CallRecord }),
	v.object({ t: v.literal('stored'), callId: v.string() })
]);
type FromHolder = v.InferOutput<typeof FromHolder>;

const sameKey = (a: string, b: string) =>
	a.length === b.length &&
	timingSafeEqual(new Uint8Array(Buffer.from(a)), new Uint8Array(Buffer.from(b)));

function parse<T extends v.GenericSchema>(schema: T, data: RawData): v.InferOutput<T> | null {
	try {
		const result = v.safeParse(schema, JSON.parse(data.toString()));
		return result.success ? result.output : null;
	} catch {
		return null;
	}
}

/** The part of the event hub call routing uses (`calls.ts`): on the holder, it spans every server. */
export type RoutingHub = Pick<EventHub, 'send' | 'connected' | 'onPresence' | 'onSubscribe'>;

/**
 * The holder's side: accepts the other servers' links and gives call routing a hub that spans them.
 * `snapshot` and `identities` are what a server that links is told first.
 */
export function createClusterHolder({
	hub,
	key,
	snapshot,
	identities,
	log
}: {
	hub: EventHub;
	key: string;
	snapshot: () => AgentSnapshot[];
	identities: () => IssuedIdentity[];
	log: (msg: string) => void;
}) {
	const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
	/** Per linked server: how many pages each user has open there. */
	const peers = new Map<WebSocket, Map<string, number>>();
	const presence = new Set<(userId: string, online: boolean) => void>();
	const greeters = new Set<(userId: string, send: (e: ServerEvent) => void) => void>();
	/** Users online anywhere, as last told to the presence listeners. */
	const online = new Set<string>();

	const anywhere = (userId: string) =>
		hub.connected(userId) || [...peers.values()].some((users) => (users.get(userId) ?? 0) > 0);
	const settle = (userId: string) => {
		const now = anywhere(userId);
		if (now === online.has(userId)) return;
		if (now) online.add(userId);
		else online.delete(userId);
		for (const p of presence) p(userId, now);
	};
	const stopLocal = hub.onPresence((userId) => settle(userId));
	const post = (ws: WebSocket, msg: FromHolder) => {
		if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
	};

	function linked(ws: WebSocket) {
		const users = new Map<string, number>();
		peers.set(ws, users);
		post(ws, { t: 'agents', agents: snapshot() });
		post(ws, { t: 'identities', identities: identities() });
		ws.on('message', (data) => {
			const msg = parse(ToHolder, data);
			if (!msg) {
				log('cluster: dropped a malformed message from a server');
				return;
			}
			const greet = (userId: string) => {
				for (const g of greeters) g(userId, (event) => post(ws, { t: 'event', userId, event }));
			};
			if (msg.t === 'hello') {
				for (const userId of msg.users) {
					users.set(userId, Math.max(1, users.get(userId) ?? 0));
					settle(userId);
					greet(userId);
				}
			} else if (msg.t === 'page') {
				users.set(msg.userId, (users.get(msg.userId) ?? 0) + 1);
				settle(msg.userId);
				greet(msg.userId);
			} else {
				users.delete(msg.userId);
				settle(msg.userId);
			}
		});
		ws.on('close', () => {
			peers.delete(ws);
			for (const userId of users.keys()) settle(userId);
		});
		ws.on('error', () => {});
	}

	return {
		/** The HTTP server's upgrade for `/internal/cluster`; false when the request is for another path. */
		upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
			if ((req.url ?? '').split('?')[0] !== CLUSTER_PATH) return false;
			socket.on('error', () => socket.destroy());
			const given = req.headers[KEY_HEADER];
			if (typeof given !== 'string' || !sameKey(given, key)) {
				socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
				return true;
			}
			wss.handleUpgrade(req, socket, head, linked);
			return true;
		},
		hub: {
			send(userId: string, e: ServerEvent): number {
				let n = hub.send(userId, e);
				for (const [ws, users] of peers) {
					const pages = users.get(userId) ?? 0;
					if (pages === 0) continue;
					post(ws, { t: 'event', userId, event: e });
					n += pages;
				}
				return n;
			},
			connected: anywhere,
			onPresence(listener: (userId: string, online: boolean) => void) {
				presence.add(listener);
				return () => presence.delete(listener);
			},
			onSubscribe(greeter: (userId: string, send: (e: ServerEvent) => void) => void) {
				greeters.add(greeter);
				const local = hub.onSubscribe(greeter);
				return () => {
					greeters.delete(greeter);
					local();
				};
			}
		} satisfies RoutingHub,
		/** Agents whose state changed: every linked server mirrors them. */
		agents(changed: AgentSnapshot[]) {
			if (changed.length === 0) return;
			for (const ws of peers.keys()) post(ws, { t: 'agents', agents: changed });
		},
		/** A call finished: every linked server keeps its record until `stored` (a takeover stores it). */
		finished(record: CallRecord) {
			for (const ws of peers.keys()) post(ws, { t: 'finished', record });
		},
		stored(callId: string) {
			for (const ws of peers.keys()) post(ws, { t: 'stored', callId });
		},
		/** A SIP identity issued (or several): every linked server keeps them. */
		identities(issued: IssuedIdentity[]) {
			for (const ws of peers.keys()) post(ws, { t: 'identities', identities: issued });
		},
		/** How many servers are linked now. */
		peers: () => peers.size,
		close() {
			stopLocal();
			for (const ws of peers.keys()) ws.terminate();
			peers.clear();
			wss.close();
		}
	};
}
export type ClusterHolder = ReturnType<typeof createClusterHolder>;

/**
 * A server that does not hold the lease: links to the holder (`holderUrl()`, looked at again after each
 * loss of the link), reports its pages and hands the holder's events to them, and mirrors the agents'
 * states and SIP identities.
 */
export function linkToHolder({
	hub,
	key,
	holderUrl,
	onIdentities,
	log
}: {
	hub: EventHub;
	key: string;
	/** The holder's internal address, or null while nobody (else) holds the lease. */
	holderUrl: () => string | null;
	onIdentities: (issued: IssuedIdentity[]) => void;
	log: (msg: string) => void;
}) {
	let ws: WebSocket | null = null;
	let stopped = false;
	let timer: ReturnType<typeof setTimeout> | null = null;
	let linkedTo: string | null = null;
	const mirror = new Map<string, AgentSnapshot>();
	/** Records of finished calls the holder has not said are stored. */
	const unstored = new Map<string, CallRecord>();
	const send = (msg: v.InferOutput<typeof ToHolder>) => {
		if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
	};
	const stopPresence = hub.onPresence((userId, online) => {
		if (!online) send({ t: 'gone', userId });
	});
	const stopPages = hub.onSubscribe((userId) => send({ t: 'page', userId }));

	function again() {
		if (stopped || timer) return;
		timer = setTimeout(() => {
			timer = null;
			open();
		}, RECONNECT_MS);
		timer.unref?.();
	}

	function open() {
		if (stopped) return;
		const url = holderUrl();
		if (!url) return again();
		const target = url.replace(/^http/, 'ws').replace(/\/$/, '') + CLUSTER_PATH;
		const socket = new WebSocket(target, {
			headers: { [KEY_HEADER]: key },
			maxPayload: MAX_MESSAGE_BYTES
		});
		ws = socket;
		socket.on('open', () => {
			if (linkedTo !== url) log(`cluster: linked to the call-routing server ${url}`);
			linkedTo = url;
			send({ t: 'hello', users: hub.users() });
		});
		socket.on('message', (data) => {
			const msg = parse(FromHolder, data);
			if (!msg) {
				log('cluster: dropped a malformed message from the call-routing server');
				return;
			}
			if (msg.t === 'event') hub.send(msg.userId, msg.event);
			else if (msg.t === 'agents') for (const a of msg.agents) mirror.set(a.agentId, a);
			else if (msg.t === 'finished') unstored.set(msg.record.callId, msg.record);
			else if (msg.t === 'stored') unstored.delete(msg.callId);
			else onIdentities(msg.identities);
		});
		socket.on('error', () => {});
		socket.on('close', () => {
			if (ws === socket) ws = null;
			again();
		});
	}
	open();

	return {
		/** The agents as the holder last told them (what a takeover starts from). */
		mirror: () => [...mirror.values()],
		agent: (agentId: string) => mirror.get(agentId) ?? null,
		/** Finished calls whose records the holder may not have stored (it died meanwhile). */
		unstored: () => [...unstored.values()],
		/** Whether the link to the holder is up. */
		linked: () => ws?.readyState === WebSocket.OPEN,
		/** The holder changed (the lease was taken over): link to the new one. */
		reconnect() {
			ws?.terminate();
		},
		stop() {
			stopped = true;
			if (timer) clearTimeout(timer);
			stopPresence();
			stopPages();
			ws?.terminate();
		}
	};
}
export type HolderLink = ReturnType<typeof linkToHolder>;
