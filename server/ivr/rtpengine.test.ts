/**
 * The ng client against a fake ng server (cookies, resends, timeouts, errors), the DTMF log parser, and the
 * real rtpengine (Debian `rtpengine-daemon`, installed by `scripts/ensure.mjs --test`) started and stopped.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import {
	decodeNg,
	ngDatagram,
	listenDtmf,
	NgClient,
	NgError,
	parseDtmfLog,
	startRtpengine,
	type DtmfEvent,
	type NgValue,
	type RunningRtpengine
} from './rtpengine';
import { freeUdpPort, rtpRange } from '../../test/helpers/ivr';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
	for (const c of cleanups.splice(0).reverse()) await c();
});

/** A fake ng server: `answer` decides the reply datagram(s) for each request (null: stay silent). */
async function fakeNg(
	answer: (
		cookie: string,
		cmd: Record<string, unknown>,
		n: number
	) => (Uint8Array | string)[] | null
) {
	const socket: Socket = createSocket('udp4');
	const seen: { cookie: string; cmd: Record<string, unknown> }[] = [];
	socket.on('message', (msg, from: RemoteInfo) => {
		const space = msg.indexOf(0x20);
		const cookie = msg.subarray(0, space).toString();
		const cmd = decodeNg(msg.subarray(space + 1)) as Record<string, unknown>;
		seen.push({ cookie, cmd });
		for (const reply of answer(cookie, cmd, seen.length) ?? []) {
			socket.send(reply, from.port, from.address);
		}
	});
	await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
	cleanups.push(() => socket.close());
	return { address: { host: '127.0.0.1', port: socket.address().port }, seen };
}

const reply = (cookie: string, body: NgValue) => ngDatagram(cookie, body);

function client(address: { host: string; port: number }, timeoutMs = 1_000, resendMs = 200) {
	const ng = new NgClient(address, { timeoutMs, resendMs });
	cleanups.push(() => ng.close());
	return ng;
}

describe('ng client', () => {
	it('encodes the command with its arguments and decodes the reply matched by cookie', async () => {
		const server = await fakeNg((cookie, cmd) => [
			reply('0000', { result: 'ok', sdp: 'wrong cookie' }),
			'garbage without a space',
			reply(cookie, { result: 'ok', sdp: `answer to ${String(cmd['sdp'])}` })
		]);
		const ng = client(server.address);
		const sdp = await ng.answer({ callId: 'c1', fromTag: 'f1', toTag: 't1' }, 'v=0');
		expect(sdp).toBe('answer to v=0');
		expect(server.seen[0]!.cmd).toEqual({
			command: 'answer',
			'call-id': 'c1',
			'from-tag': 'f1',
			'to-tag': 't1',
			sdp: 'v=0',
			flags: ['trust-address', 'port-latching'],
			replace: ['origin', 'session-connection'],
			ICE: 'remove'
		});
	});

	it('sends the same cookie again when no reply came, and takes the late reply', async () => {
		const server = await fakeNg((cookie, _cmd, n) =>
			n < 3 ? null : [reply(cookie, { result: 'pong' })]
		);
		await client(server.address).ping();
		expect(server.seen).toHaveLength(3);
		expect(new Set(server.seen.map((s) => s.cookie)).size).toBe(1);
	});

	it('times out naming the command and the address', async () => {
		const server = await fakeNg(() => null);
		await expect(client(server.address, 300, 100).request('list')).rejects.toThrow(
			/rtpengine list: no answer from 127\.0\.0\.1:\d+ within 300 ms/
		);
	});

	it('turns result error into NgError; query answers null for an unknown call; stop media ignores "nothing plays"', async () => {
		const server = await fakeNg((cookie) => [
			reply(cookie, { result: 'error', 'error-reason': 'Unknown call-id' })
		]);
		const ng = client(server.address);
		await expect(ng.delete('gone')).rejects.toThrow(NgError);
		await expect(ng.delete('gone')).rejects.toThrow('rtpengine delete: Unknown call-id');
		expect(await ng.query('gone')).toBeNull();
		await expect(ng.stopMedia({ callId: 'c', fromTag: 'f' })).resolves.toBeUndefined();
	});

	it('play media returns the duration; list returns the call-ids', async () => {
		const server = await fakeNg((cookie, cmd) => [
			reply(
				cookie,
				cmd['command'] === 'list'
					? { result: 'ok', calls: ['a', 'b'] }
					: { result: 'ok', duration: 1480 }
			)
		]);
		const ng = client(server.address);
		expect(await ng.playMedia({ callId: 'c', fromTag: 'f' }, '/tmp/x.wav')).toBe(1480);
		expect(server.seen[0]!.cmd).toEqual({
			command: 'play media',
			'call-id': 'c',
			'from-tag': 'f',
			file: '/tmp/x.wav'
		});
		expect(await ng.list()).toEqual(['a', 'b']);
	});

	it('rejects what is pending on close, and refuses afterwards', async () => {
		const server = await fakeNg(() => null);
		const ng = client(server.address, 5_000);
		const pending = ng.request('ping');
		await new Promise((r) => setImmediate(r));
		ng.close();
		await expect(pending).rejects.toThrow(/closed/);
		await expect(ng.request('ping')).rejects.toThrow(/closed/);
	});
});

describe('DTMF log', () => {
	it('reads rtpengine 10.5’s datagram', () => {
		const line =
			'{"callid":"1-5043@127.0.0.1","source_tag":"5043SIPpTag001","tags":["5043SIPpTag001","69562448"],"type":"DTMF","timestamp":1795636753,"source_ip":"127.0.0.1","event":1,"duration":280,"volume":10}';
		expect(parseDtmfLog(line, 42)).toEqual({
			callId: '1-5043@127.0.0.1',
			fromTag: '5043SIPpTag001',
			digit: '1',
			at: 42
		});
		const digits = [10, 11, 12, 15].map(
			(event) => parseDtmfLog(JSON.stringify({ callid: 'c', source_tag: 't', event }))?.digit
		);
		expect(digits).toEqual(['*', '#', 'A', 'D']);
	});

	it('drops anything else', () => {
		for (const bad of [
			'',
			'not json',
			'null',
			'[1]',
			'{"callid":"c","source_tag":"t","event":16}',
			'{"callid":"c","source_tag":"t","event":-1}',
			'{"callid":"c","source_tag":"t","event":1.5}',
			'{"callid":"c","source_tag":"t","event":"1"}',
			'{"callid":"","source_tag":"t","event":1}',
			'{"source_tag":"t","event":1}',
			'{"callid":"c","event":1}',
			'{"callid":"c","source_tag":"t","event":1,"type":"other"}'
		]) {
			expect(parseDtmfLog(bad), bad).toBeNull();
		}
	});

	it('emits each digit that reaches its socket', async () => {
		const dtmf = await listenDtmf({ host: '127.0.0.1', port: 0 });
		cleanups.push(() => dtmf.close());
		const got = new Promise<DtmfEvent>((r) => dtmf.once('dtmf', r));
		const sender = createSocket('udp4');
		cleanups.push(() => sender.close());
		sender.send('junk', dtmf.address.port, '127.0.0.1');
		sender.send(
			JSON.stringify({ callid: 'c', source_tag: 't', event: 11 }),
			dtmf.address.port,
			'127.0.0.1'
		);
		expect(await got).toMatchObject({ callId: 'c', fromTag: 't', digit: '#' });
	});
});

describe('rtpengine child', () => {
	it('starts in the foreground, answers ping and list, and stops', async () => {
		const lines: string[] = [];
		const rtp: RunningRtpengine = await startRtpengine({
			interface: '127.0.0.1',
			ng: { host: '127.0.0.1', port: await freeUdpPort() },
			dtmfLog: { host: '127.0.0.1', port: await freeUdpPort() },
			...rtpRange(),
			onLog: (l) => lines.push(l)
		});
		cleanups.push(() => rtp.stop());
		await rtp.ng.ping();
		expect(await rtp.ng.list()).toEqual([]);
		expect(await rtp.ng.query('nobody')).toBeNull();
		await rtp.stop();
		expect(() => process.kill(rtp.pid, 0)).toThrow();
		expect(lines.join('\n')).toMatch(/Startup complete/i);
	}, 15_000);

	it('names the Debian package when the binary is missing', async () => {
		await expect(
			startRtpengine({
				binary: '/nonexistent/rtpengine',
				interface: '127.0.0.1',
				ng: { host: '127.0.0.1', port: 1 },
				dtmfLog: { host: '127.0.0.1', port: 1 },
				portMin: 40_000,
				portMax: 40_010
			})
		).rejects.toThrow(/rtpengine-daemon/);
	});

	it('reports its last log lines when it cannot start', async () => {
		// Its ng port is taken: rtpengine cannot listen and exits.
		const holder = createSocket('udp4');
		await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()));
		cleanups.push(() => holder.close());
		const started = startRtpengine({
			interface: '127.0.0.1',
			ng: { host: '127.0.0.1', port: holder.address().port },
			dtmfLog: { host: '127.0.0.1', port: 1 },
			...rtpRange(),
			readyTimeoutMs: 5_000
		});
		// Should it start after all, it is stopped like any other.
		cleanups.push(() => started.then((r) => r.stop()).catch(() => {}));
		await expect(started).rejects.toThrow(/rtpengine exited[^]*control/i);
	}, 15_000);
});
