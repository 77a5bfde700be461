/**
 * #13 the app's end of Kamailio's evapi link, against a stand-in Kamailio on a local TCP port: the app
 * proves itself with the key before anything else, counts as linked only once Kamailio says so, and lets
 * through to the ACD only events of the exact shape Kamailio's configuration sends.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectEvapi, type KamailioEvent } from './evapi';

const frame = (text: string) => `${Buffer.byteLength(text)}:${text},`;

let server: Server | null = null;
afterEach(() => server?.close());

/** A stand-in Kamailio: collects what the app writes, and hands over its side of the connection. */
async function kamailio() {
	const written: string[] = [];
	let socket: Socket | null = null;
	server = createServer((s) => {
		socket = s;
		s.on('data', (d: Buffer) => written.push(d.toString()));
	});
	await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as { port: number }).port;
	const until = async (check: () => boolean) => {
		while (!check()) await new Promise((r) => setTimeout(r, 5));
	};
	return { port, written, until, socket: () => socket };
}

describe('#13 evapi: the app’s keyed, checked link to Kamailio', () => {
	it('sends the key first, is linked only when Kamailio answers, and puts the key in every decision', async () => {
		const k = await kamailio();
		const link = connectEvapi(k.port, 'start-key', '127.0.0.1', () => {});
		await k.until(() => k.written.length > 0);
		expect(k.written[0]).toBe(frame('{"key":"start-key"}'));
		expect(link.linked()).toBe(false);
		k.socket()!.write(frame('{"event":"linked"}'));
		await link.connected();
		expect(link.linked()).toBe(true);
		link.send({ tindex: 1, tlabel: 2, agent: 'none' });
		await k.until(() => k.written.join('').includes('agent'));
		expect(k.written.join('')).toContain(
			frame('{"key":"start-key","tindex":1,"tlabel":2,"agent":"none"}')
		);
		link.close();
	});

	it('drops what is not one of Kamailio’s events, with a log line, and passes the rest on', async () => {
		const k = await kamailio();
		const events: KamailioEvent[] = [];
		const logged: string[] = [];
		const link = connectEvapi(
			k.port,
			'k',
			'127.0.0.1',
			(e) => events.push(e),
			(m) => logged.push(m)
		);
		await k.until(() => k.socket() !== null);
		const good = {
			event: 'ended',
			callid: 'c"1{}',
			ftag: 'a',
			ttag: 'b',
			cancelled: false
		};
		for (const bad of [
			'not json',
			'{"event":"offer","callid":"x"}',
			'{"event":"ended","callid":"x","ftag":"a","cancelled":"yes"}',
			'{"event":"answered","callid":"x","ftag":"a","ttag":"b","extra":1}',
			'{"event":"dance"}',
			JSON.stringify({ ...good, callid: '' })
		]) {
			k.socket()!.write(frame(bad));
		}
		k.socket()!.write(frame(JSON.stringify(good)));
		await k.until(() => events.length > 0);
		expect(events).toEqual([good]);
		expect(logged).toHaveLength(6);
		expect(logged.every((l) => l.startsWith('evapi: dropped'))).toBe(true);
		link.close();
	});
});
