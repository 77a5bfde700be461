/**
 * #5 groundwork with the real Kamailio and Janus (Debian packages) as children of the app: they start with
 * it and report in /api/health; only signed-in agents get a SIP identity, issued per sign-in; Kamailio
 * refuses REGISTER without those credentials, and calls from anywhere but the trunks (sipp plays both).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { startTestServer, type TestServer } from '../helpers/server';
import { inviteScenario, registerScenario, runSipp } from '../helpers/sipp';

// Ports of this run: SIP, then Janus HTTP, WebSocket and admin.
const SIP_PORT = 30_000 + Math.floor(Math.random() * 2_000) * 4;
const DOMAIN = 'callcenter.local';
const target = `127.0.0.1:${SIP_PORT}`;
let server: TestServer;

const installed = ['/usr/sbin/kamailio', '/usr/bin/janus', '/usr/bin/sipp'].every(existsSync);

beforeAll(async () => {
	if (!installed) {
		throw new Error(
			'kamailio, janus and sipp are needed: npm test installs them as root (apt-get install kamailio janus sip-tester)'
		);
	}
	server = await startTestServer({
		TELEPHONY: 'on',
		SIP_PORT: String(SIP_PORT),
		SIP_TRUNKS: '127.0.0.1',
		HOTLINES: '96000',
		JANUS_HTTP_PORT: String(SIP_PORT + 1),
		JANUS_WS_PORT: String(SIP_PORT + 2),
		JANUS_ADMIN_PORT: String(SIP_PORT + 3)
	});
}, 30_000);
afterAll(async () => {
	await server?.close();
});

async function credentials(cookie: string) {
	const res = await fetch(`${server.url}/api/telephony/credentials`, {
		method: 'POST',
		headers: { cookie, origin: server.url }
	});
	return { status: res.status, body: (await res.json()) as { username: string; password: string } };
}

describe('#5 Kamailio and Janus run with the app', () => {
	it('start with it and say so in /api/health', async () => {
		const health = (await (await fetch(`${server.url}/api/health`)).json()) as {
			telephony: { state: string; detail: string };
		};
		expect(health.telephony.state).toBe('running');
		expect(health.telephony.detail).toContain(`udp 127.0.0.1:${SIP_PORT}`);
		const janus = await fetch(`http://127.0.0.1:${SIP_PORT + 1}/janus/info`);
		expect(((await janus.json()) as { name: string }).name).toContain('Janus');
	});

	it('issue a SIP identity only to signed-in agents with an agent ID and call.take', async () => {
		const agent = await server.createUser({
			username: 'sipagent',
			roleKey: 'agent',
			agentId: '1001'
		});
		const noId = await server.createUser({ username: 'sipnoid', roleKey: 'agent' });
		const crew = await server.createUser({ username: 'sipcrew', roleKey: 'crew' });
		const issued = await credentials(agent);
		expect(issued.status).toBe(200);
		expect(issued.body).toMatchObject({ username: '1001', uri: `sip:1001@${DOMAIN}` });
		expect(issued.body.password.length).toBeGreaterThanOrEqual(20);
		expect((await credentials(noId)).status).toBe(409);
		expect((await credentials(crew)).status).toBe(403);
		const anonymous = await fetch(`${server.url}/api/telephony/credentials`, {
			method: 'POST',
			headers: { origin: server.url }
		});
		expect(anonymous.status).toBe(401);
	});
});

describe('#5 Kamailio refuses what is not an agent or a trunk', () => {
	it('registers an agent with the issued password, and refuses a wrong one or another agent’s number', async () => {
		const agent = await server.createUser({
			username: 'sipreg',
			roleKey: 'agent',
			agentId: '1002'
		});
		const { body } = await credentials(agent);
		const ok = await runSipp(registerScenario(DOMAIN, 200), target, {
			service: '1002',
			args: ['-au', '1002', '-ap', body.password]
		});
		expect(ok.code, ok.output).toBe(0);
		const wrong = await runSipp(registerScenario(DOMAIN, 401), target, {
			service: '1002',
			args: ['-au', '1002', '-ap', 'not-the-password']
		});
		expect(wrong.code, wrong.output).toBe(0);
		const other = await runSipp(registerScenario(DOMAIN, 403), target, {
			service: '1001',
			args: ['-au', '1002', '-ap', body.password]
		});
		expect(other.code, other.output).toBe(0);
	});

	it('forgets the SIP identity when the agent signs out', async () => {
		const agent = await server.createUser({
			username: 'sipout',
			roleKey: 'agent',
			agentId: '1003'
		});
		const { body } = await credentials(agent);
		await fetch(`${server.url}/api/session`, { method: 'DELETE', headers: { cookie: agent } });
		const after = await runSipp(registerScenario(DOMAIN, 401), target, {
			service: '1003',
			args: ['-au', '1003', '-ap', body.password]
		});
		expect(after.code, after.output).toBe(0);
	});

	it('takes hotline calls from the trunk only, and no call to other numbers from it', async () => {
		// From the trunk to the hotline: accepted for distribution (no agent is ready: 480).
		const hotline = await runSipp(inviteScenario(DOMAIN, 480), target, { service: '96000' });
		expect(hotline.code, hotline.output).toBe(0);
		// From the trunk to any other number: refused, so the trunk cannot be used to call out.
		const relay = await runSipp(inviteScenario(DOMAIN, 404), target, {
			service: '008613800138000'
		});
		expect(relay.code, relay.output).toBe(0);
		// From an address that is no trunk: must authenticate as an agent first.
		const stranger = await runSipp(inviteScenario(DOMAIN, 407), target, {
			service: '96000',
			localIp: '127.0.0.2'
		});
		expect(stranger.code, stranger.output).toBe(0);
	});
});
