/**
 * #14 Kamailio and Janus as the app's children: they never leave core dumps (a crash must not write the
 * process's memory — secrets, calls — to a file), and a restart waits until the dead child's ports are let
 * go. Janus started while its ports were still held found no API transport and exited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server';

const SIP_PORT = 32_300 + Math.floor(Math.random() * 70) * 6;
const JANUS_HTTP_PORT = SIP_PORT + 1;
let server: TestServer;

beforeAll(async () => {
	if (!['/usr/sbin/kamailio', '/usr/bin/janus'].every(existsSync)) {
		throw new Error('kamailio and janus are needed: npm test installs them as root');
	}
	server = await startTestServer({
		TELEPHONY: 'on',
		SIP_PORT: String(SIP_PORT),
		JANUS_HTTP_PORT: String(JANUS_HTTP_PORT),
		JANUS_WS_PORT: String(SIP_PORT + 2),
		JANUS_ADMIN_PORT: String(SIP_PORT + 3),
		EVAPI_PORT: String(SIP_PORT + 4)
	});
}, 30_000);
afterAll(async () => {
	await server?.close();
});

const running = () => server.runtime.telephonyProcesses()!;

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 10));
	}
}

/** Whether a process is gone (or only a zombie, which holds no sockets). */
function gone(pid: number): boolean {
	try {
		return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
	} catch {
		return true;
	}
}

const janusAnswers = () =>
	fetch(`http://127.0.0.1:${JANUS_HTTP_PORT}/janus/info`, { signal: AbortSignal.timeout(2_000) })
		.then((r) => r.ok)
		.catch(() => false);

describe('#14 the supervised Kamailio and Janus', () => {
	it('run with core dumps off', () => {
		for (const name of ['kamailio', 'janus'] as const) {
			const limits = readFileSync(`/proc/${running().pid(name)}/limits`, 'utf8');
			const core = /^Max core file size\s+(\S+)\s+(\S+)/m.exec(limits);
			expect(core?.[1], `${name}: ${limits}`).toBe('0');
		}
	});

	it('a restarted Janus waits until its old ports are free, instead of failing for want of them', async () => {
		const before = running().restarts().janus!;
		const pid = running().pid('janus')!;
		process.kill(pid, 'SIGKILL');
		await until(() => gone(pid), 'the old Janus gone');
		// Something still holds Janus's HTTP port when the app would start it again.
		const holder: Server = createServer((socket) => socket.destroy());
		await until(
			() =>
				new Promise<boolean>((resolve) => {
					holder.once('error', () => resolve(false));
					holder.listen(JANUS_HTTP_PORT, '127.0.0.1', () => resolve(true));
				}),
			'the port taken over'
		);
		await until(() => running().waitingFor('janus') === JANUS_HTTP_PORT, 'the restart to wait');
		// Meanwhile no Janus was started into the taken port.
		expect(running().pid('janus')).toBe(pid);
		// Let go: Janus starts, finds its transports, and answers.
		await new Promise((r) => holder.close(r));
		await until(janusAnswers, 'Janus answering again');
		expect(running().waitingFor('janus')).toBeNull();
		expect(running().restarts().janus).toBe(before + 1);
		const log = readFileSync(join(server.dataDir, 'telephony', 'janus.log'), 'utf8');
		expect(log).not.toContain('No Janus API transport is available');
	}, 30_000);
});
