/**
 * #16 what Kamailio does for an app server taking over call routing (TELEPHONY=shared), with the real
 * Kamailio the app runs: only the newest connection that proves the key hears events and may decide; a
 * newly linked one is told every call still waiting (with when it arrived); a decision from a connection
 * that is no longer the app's is refused and the connection closed; what happened to calls while nobody was
 * linked (a caller hanging up) is told to the next, in order. sipp plays the carrier.
 */
import { connect, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';
import { callerCancelScenario, inviteScenario, runSipp } from '../helpers/sipp';
import { telephonyPorts } from '../helpers/telephony';
import { until } from '../helpers/until';

const SIP_PORT = 36_200 + Math.floor(Math.random() * 300) * 6;
const EVAPI_PORT = Number(telephonyPorts(SIP_PORT).EVAPI_PORT);
const DOMAIN = 'callcenter.local';
const target = `127.0.0.1:${SIP_PORT}`;
let server: TestServer;

beforeAll(async () => {
	if (!['/usr/sbin/kamailio', '/usr/bin/janus', '/usr/bin/sipp'].every(existsSync)) {
		throw new Error('kamailio, janus and sipp are needed: npm test installs them as root');
	}
	server = await startTestServer({
		TELEPHONY: 'on',
		...telephonyPorts(SIP_PORT),
		SIP_TRUNKS: '127.0.0.1',
		HOTLINES: '96000',
		// Nobody is ready: calls wait, suspended in Kamailio, longer than the test.
		ACD_MAX_WAIT_SECONDS: '60'
	});
}, 30_000);
afterAll(async () => {
	await server?.close();
});

type Event = Record<string, unknown> & { event: string };

/** Another app server's evapi link: netstring JSON both ways, the key in every message. */
function link(key: string) {
	const events: Event[] = [];
	let closed = false;
	let buffer = '';
	const socket: Socket = connect(EVAPI_PORT, '127.0.0.1');
	socket.setEncoding('utf8');
	socket.on('data', (chunk: string) => {
		buffer += chunk;
		for (;;) {
			const colon = buffer.indexOf(':');
			if (colon < 0) return;
			const length = Number(buffer.slice(0, colon));
			if (buffer.length < colon + 2 + length) return;
			events.push(JSON.parse(buffer.slice(colon + 1, colon + 1 + length)) as Event);
			buffer = buffer.slice(colon + 2 + length);
		}
	});
	socket.on('close', () => (closed = true));
	socket.on('error', () => {});
	const send = (msg: object) => {
		const text = JSON.stringify({ key, ...msg });
		socket.write(`${Buffer.byteLength(text)}:${text},`);
	};
	send({});
	return {
		events,
		closed: () => closed,
		decide: (offer: Event, agent: string) =>
			send({ tindex: offer.tindex, tlabel: offer.tlabel, agent }),
		close: () => socket.destroy()
	};
}

describe('#16 Kamailio and an app server taking over call routing', () => {
	it('F15 tells a new link every waiting call; only the newest link decides, and events of the gap are told to the next', async () => {
		const key = server.runtime.deps.phone()!.key;
		const acd = server.runtime.deps.phone()!.acd!;
		// A caller waits (nobody is ready); the app's own link heard of it.
		const waiting = runSipp(inviteScenario(DOMAIN, 480), target, {
			service: '96000',
			timeoutS: 30
		});
		await until(() => acd.queue().length === 1, 'the call waiting');
		const callId = acd.queue()[0]!.callId;

		// A second server links: it is told of the waiting call, with when it arrived.
		const first = link(key);
		await until(() => first.events.some((e) => e.callid === callId), 'the waiting call told');
		const told = first.events.find((e) => e.callid === callId)!;
		expect(first.events[0]).toEqual({ event: 'linked' });
		expect(told).toMatchObject({ event: 'offer', from: '+8657188886666', to: '96000' });
		expect(Math.abs((told.at as number) * 1000 - acd.queue()[0]!.queuedAt)).toBeLessThan(2_000);

		// A third links: the second is no longer the app's, and its decision is refused (closed).
		const second = link(key);
		await until(() => second.events.some((e) => e.callid === callId), 'told the third too');
		first.decide(told, 'none');
		await until(() => first.closed(), 'the stale link closed');

		// Nobody listens while a second caller hangs up (the newest link goes away first).
		second.close();
		await runSipp(callerCancelScenario(DOMAIN, 500), target, { service: '96000', timeoutS: 15 });

		// The next link hears of that hang-up, then of the call still waiting — and decides it: the caller
		// gets the fallback answer.
		const third = link(key);
		await until(
			() => third.events.some((e) => e.event === 'offer' && e.callid === callId),
			'the waiting call told to the next link'
		);
		const names = third.events.map((e) => `${e.event}${e.cancelled ? ':cancelled' : ''}`);
		expect(names.slice(0, 3)).toEqual(['linked', 'ended:cancelled', 'offer']);
		third.decide(
			third.events.find((e) => e.callid === callId)!,
			'none'
		);
		const answer = await waiting;
		expect(answer.code, answer.output.slice(-2000)).toBe(0);
		third.close();
	});
});
