/**
 * #16 the link between app servers when calls are routed on one of them: pages connected to another server
 * count for the ACD's presence, get their events (screen pop, state) and their greeting; the other server
 * mirrors agents and SIP identities; a link without the cluster key is refused.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ServerEvent } from '#shared/wire/events';
import { createEventHub } from '../services/events';
import { until } from '../../test/helpers/until';
import { CLUSTER_PATH, createClusterHolder, linkToHolder, type IssuedIdentity } from './cluster';
import type { AgentSnapshot } from './acd';

const KEY = 'cluster-key-of-this-test-0123456789';
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
	for (const c of cleanups.splice(0).reverse()) await c();
});

const agent = (agentId: string, state: AgentSnapshot['state']): AgentSnapshot => ({
	agentId,
	userId: `user:${agentId}`,
	name: agentId,
	state,
	reason: '',
	since: 1,
	idleSince: 1,
	callId: null,
	deskPhone: ''
});

async function holderServer(snapshot: AgentSnapshot[] = [], identities: IssuedIdentity[] = []) {
	const hub = createEventHub();
	const logged: string[] = [];
	const holder = createClusterHolder({
		hub,
		key: KEY,
		snapshot: () => snapshot,
		identities: () => identities,
		log: (m) => logged.push(m)
	});
	const server: Server = createServer((_req, res) => res.end());
	server.on('upgrade', (req, socket, head) => {
		if (!holder.upgrade(req, socket, head)) socket.destroy();
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	cleanups.push(() => {
		holder.close();
		return new Promise<void>((r) => server.close(() => r()));
	});
	return { hub, holder, url, logged };
}

function follower(url: string) {
	const hub = createEventHub();
	const adopted: IssuedIdentity[] = [];
	const link = linkToHolder({
		hub,
		key: KEY,
		holderUrl: () => url,
		onIdentities: (issued) => adopted.push(...issued),
		log: () => {}
	});
	cleanups.push(() => link.stop());
	return { hub, link, adopted };
}

describe('#16 app servers linked to the one routing calls', () => {
	it("a page on another server counts as the agent's presence, is greeted, and gets the screen pop", async () => {
		const { holder, url } = await holderServer();
		const presence: [string, boolean][] = [];
		holder.hub.onPresence((userId, online) => presence.push([userId, online]));
		holder.hub.onSubscribe((userId, send) =>
			send({
				event: 'state',
				data: { state: 'ready', reason: '', since: 1, callId: null }
			})
		);
		const other = follower(url);
		await until(() => other.link.linked(), 'the link up');

		const seen: ServerEvent[] = [];
		const leave = other.hub.subscribe('user:1001', (e) => seen.push(e));
		await until(() => holder.hub.connected('user:1001'), 'the page seen by the holder');
		expect(presence).toEqual([['user:1001', true]]);
		await until(() => seen.length === 1, 'the greeting');
		expect(seen[0]).toMatchObject({ event: 'state', data: { state: 'ready' } });

		const pop: ServerEvent = {
			event: 'offer',
			data: { callId: 'c1', caller: '13900000000', hotline: '96000', customers: [], history: [] }
		};
		expect(holder.hub.send('user:1001', pop)).toBe(1);
		// Nobody else's pages: nothing is sent for a user without pages there.
		expect(holder.hub.send('user:1002', pop)).toBe(0);
		await until(() => seen.length === 2, 'the screen pop on the other server');
		expect(seen[1]).toEqual(pop);

		leave();
		await until(() => !holder.hub.connected('user:1001'), 'the page gone');
		expect(presence).toEqual([
			['user:1001', true],
			['user:1001', false]
		]);
	});

	it('the other server mirrors agents and SIP identities: what it starts from when it takes over', async () => {
		const identity = { agentId: '1001', password: 'p', sessionToken: 't' };
		const { holder, url } = await holderServer([agent('1001', 'ready')], [identity]);
		const other = follower(url);
		await until(() => other.link.agent('1001') !== null, 'the first snapshot');
		expect(other.adopted).toEqual([identity]);
		holder.agents([{ ...agent('1001', 'talking'), callId: 'c9' }, agent('1002', 'notReady')]);
		holder.identities([{ agentId: '1002', password: 'q', sessionToken: 'u' }]);
		await until(() => other.link.mirror().length === 2, 'the changes mirrored');
		expect(other.link.agent('1001')).toMatchObject({ state: 'talking', callId: 'c9' });
		await until(() => other.adopted.length === 2, 'the new identity kept');

		// A finished call's record is kept until the holder has stored it: a takeover stores what is left.
		const record = {
			callId: 'c9',
			caller: '13900000000',
			hotline: '96000',
			arrivedAt: 1,
			offeredAt: 2,
			answeredAt: 3,
			endedAt: 4,
			agentId: '1001',
			outcome: 'completed' as const,
			tried: ['1001']
		};
		holder.finished(record);
		holder.finished({ ...record, callId: 'c10' });
		holder.stored('c9');
		await until(
			() =>
				other.link
					.unstored()
					.map((r) => r.callId)
					.join() === 'c10',
			'the stored one forgotten'
		);
		expect(other.link.unstored()).toEqual([{ ...record, callId: 'c10' }]);
	});

	it('a page connected before the link is reported when the link comes up; a lost link takes its pages away', async () => {
		const { holder, url } = await holderServer();
		const other = follower(url);
		other.hub.subscribe('user:1003', () => {});
		await until(() => holder.hub.connected('user:1003'), 'the page reported by hello');
		other.link.stop();
		await until(() => !holder.hub.connected('user:1003'), 'the pages of a lost link gone');
		expect(holder.peers()).toBe(0);
	});

	it('refuses a link without the cluster key, and drops malformed messages', async () => {
		const { holder, url, logged } = await holderServer();
		const target = url.replace('http', 'ws') + CLUSTER_PATH;
		const status = await new Promise<number>((resolve) => {
			const ws = new WebSocket(target, { headers: { 'x-cc-cluster-key': 'wrong-key' } });
			ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
			ws.on('open', () => resolve(101));
			ws.on('error', () => {});
		});
		expect(status).toBe(403);
		expect(holder.peers()).toBe(0);

		const ws = new WebSocket(target, { headers: { 'x-cc-cluster-key': KEY } });
		cleanups.push(() => ws.terminate());
		await new Promise((r) => ws.once('open', r));
		ws.send(JSON.stringify({ t: 'page', userId: 42 }));
		ws.send('not json');
		await until(() => logged.length === 2, 'both dropped');
		expect(logged).toEqual([
			'cluster: dropped a malformed message from a server',
			'cluster: dropped a malformed message from a server'
		]);
		expect(holder.hub.connected('42')).toBe(false);
	});
});
