/**
 * #16 calls across a failover (needs COUCHDB_URL, haproxy, Kamailio, Janus and sipp; `npm run test:couchdb`):
 * Kamailio and Janus run apart (`server/telephony-node.ts`, as `npm run telephony`), shared by two app
 * servers (TELEPHONY=shared) on one CouchDB behind haproxy, where Kamailio also asks its questions. The ACD
 * runs on the server holding the lease; agents are signed in and 就绪 through the proxy, their pages'
 * `/events` on either server. Hotline calls arrive at 2 a second for a minute (sipp as the carrier; the
 * agents' phones one sipp answering at once), and the lease holder is killed with SIGKILL meanwhile:
 * every call is answered or given the fallback answer, none is offered to two agents, every call is recorded
 * once, the agents stay signed in, and the screen pop reaches a page on the surviving server. Printed: kill →
 * the next call offered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { couchAdmin, couchEnv } from '../helpers/couch';
import { requireHaproxy, startProxy } from '../helpers/haproxy';
import {
	createUserOverHttp,
	freePort,
	signIn,
	startChildServer,
	type ChildServer
} from '../helpers/child-server';
import { ADMIN_PASSWORD } from '../helpers/server';
import { callerAnsweredOrFallbackScenario, runSipp } from '../helpers/sipp';
import { telephonyPorts } from '../helpers/telephony';
import { until } from '../helpers/until';
import { agentPhones, DOMAIN, enlistAgent, HOTLINE } from '../bench/hotline-load';
import { loadSettings } from '../../server/settings';

if (!process.env.COUCHDB_URL) {
	throw new Error('the CouchDB tests need COUCHDB_URL (npm run test:couchdb)');
}
requireHaproxy();

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'cc-phone-failover-'));
const shared = couchEnv(root);
const prefix = shared.DB_PREFIX!;
const admin = couchAdmin();
const KEY = randomBytes(24).toString('base64url');
const SIP_PORT = 34_000 + Math.floor(Math.random() * 200) * 6;
const janusIp = loadSettings({}).sip.janusIp;
const AGENTS = ['5101', '5102', '5103', '5104', '5105', '5106'];
const RATE = 2;
const CALLS = 120;
const TALK_MS = 1_000;
const telephonyEnv = {
	...telephonyPorts(SIP_PORT),
	TELEPHONY_KEY: KEY,
	HOTLINES: HOTLINE,
	SIP_DOMAIN: DOMAIN,
	ACD_OFFER_SECONDS: '5',
	ACD_MAX_WAIT_SECONDS: '20',
	ACD_WRAPUP_SECONDS: '0'
};

interface App {
	name: 'app1' | 'app2';
	server: ChildServer;
	instanceId: string;
}
const apps: App[] = [];
let telephony: ChildProcess;
let telephonyOutput = '';
let proxy: ChildProcess;
let proxyUrl = '';
let phones: { port: number; stop(): void };
const streams: { close(): void }[] = [];

/** The user's `/events` through `base`, reconnecting (as EventSource does) when the server goes away. */
function pageEvents(base: () => string, cookie: string) {
	const offers: { callId: string; at: number; by: string }[] = [];
	let stopped = false;
	let current: ReturnType<typeof request> | null = null;
	const open = () => {
		if (stopped) return;
		let text = '';
		current = request(`${base()}/events`, { headers: { cookie }, agent: false }, (res) => {
			const by = String(res.headers['x-served-by'] ?? base());
			res.setEncoding('utf8');
			res.on('data', (chunk: string) => {
				text += chunk;
				let end: number;
				while ((end = text.indexOf('\n\n')) >= 0) {
					const block = text.slice(0, end);
					text = text.slice(end + 2);
					if (/^event: offer$/m.test(block)) {
						const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as { callId: string };
						offers.push({ callId: data.callId, at: Date.now(), by });
					}
				}
			});
			res.on('close', () => setTimeout(open, 200));
		});
		current.on('error', () => setTimeout(open, 200));
		current.end();
	};
	open();
	const stream = {
		offers,
		close() {
			stopped = true;
			current?.destroy();
		}
	};
	streams.push(stream);
	return stream;
}

const leaseHolder = async () =>
	((await (await admin(`/${prefix}users/lease%3Asingletons`)).json()) as { holder?: string })
		.holder ?? null;

beforeAll(async () => {
	const proxyPort = await freePort();
	proxyUrl = `http://127.0.0.1:${proxyPort}`;
	telephony = spawn(process.execPath, ['--import', 'tsx', 'server/telephony-node.ts'], {
		cwd: ROOT,
		env: {
			...process.env,
			...telephonyEnv,
			DATA_DIR: join(root, 'telephony'),
			APP_URL: proxyUrl
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	telephony.stdout!.on('data', (b: Buffer) => (telephonyOutput += b.toString()));
	telephony.stderr!.on('data', (b: Buffer) => (telephonyOutput += b.toString()));
	await until(() => telephonyOutput.includes('telephony:'), 'Kamailio and Janus up', 30_000);
	for (const name of ['app1', 'app2'] as const) {
		const dataDir = join(root, name);
		const server = await startChildServer(await freePort(), dataDir, {
			...shared,
			...telephonyEnv,
			TELEPHONY: 'shared',
			LEASE_SECONDS: '3'
		});
		const instanceId = readFileSync(join(dataDir, 'secrets', 'instance-id'), 'utf8').trim();
		apps.push({ name, server, instanceId });
	}
	proxy = (
		await startProxy(
			root,
			apps.map((a) => ({ name: a.name, url: a.server.url })),
			proxyPort
		)
	).proc;
	phones = await agentPhones(janusIp);
}, 120_000);

afterAll(async () => {
	for (const s of streams) s.close();
	phones?.stop();
	proxy?.kill('SIGKILL');
	for (const a of apps) {
		a.server.proc.kill('SIGKILL');
		await a.server.exited;
	}
	if (process.env.KEEP_FAILOVER) {
		for (const a of apps) writeFileSync(join(root, `${a.name}.log`), a.server.output.join(''));
	}
	telephony?.kill('SIGTERM');
	await new Promise((r) => telephony?.once('exit', r));
	if (!process.env.KEEP_FAILOVER) rmSync(root, { recursive: true, force: true });
});

/** sipp's final count of a message row (e.g. `480 <----`), or of a result line. */
const sippCount = (output: string, pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? -1);

describe('#16 calls across a failover of the app server routing them', () => {
	it('F15 F16 the lease holder killed under hotline load: every call answered or given the fallback, none offered twice, none lost', async () => {
		await until(async () => (await leaseHolder()) !== null, 'a lease holder', 15_000);
		const holderId = await leaseHolder();
		const victim = apps.find((a) => a.instanceId === holderId);
		expect(victim, `the lease holder ${holderId} is one of the two servers`).toBeDefined();
		const survivor = apps.find((a) => a !== victim)!;
		// Both serve telephony: the holder routes calls, the other is linked to it.
		for (const a of apps) {
			await until(
				async () => {
					const health = (await (await fetch(`${a.server.url}/api/health`)).json()) as {
						telephony: { state: string };
					};
					return health.telephony.state === 'running';
				},
				`telephony running on ${a.name}`,
				20_000
			);
		}

		// Agents signed in and 就绪 through the proxy; each one's page pinned to one of the servers.
		const pages: ReturnType<typeof pageEvents>[] = [];
		for (const [i, agentId] of AGENTS.entries()) {
			const cookie = await createUserOverHttp(proxyUrl, `fo${agentId}`, 'role:agent', agentId);
			const pinned = `${cookie}; ccsrv=${i % 2 === 0 ? victim!.name : survivor.name}`;
			pages.push(pageEvents(() => proxyUrl, pinned));
			await enlistAgent(proxyUrl, pinned, {
				target: `127.0.0.1:${SIP_PORT}`,
				ip: janusIp,
				phonePort: phones.port
			});
		}
		const offers = () => pages.flatMap((p, i) => p.offers.map((o) => ({ ...o, agent: AGENTS[i] })));

		// The carrier calls at 2 a second; a quarter of the way in, the holder is killed.
		const load = runSipp(
			callerAnsweredOrFallbackScenario(DOMAIN, TALK_MS),
			`127.0.0.1:${SIP_PORT}`,
			{
				service: HOTLINE,
				timeoutS: CALLS / RATE + 90,
				args: [
					'-m',
					String(CALLS),
					'-l',
					String(CALLS),
					'-r',
					String(RATE),
					'-default_behaviors',
					'all,-abortunexp'
				]
			}
		);
		await until(() => offers().length >= CALLS / 4, 'a quarter of the calls offered', 60_000);
		const killedAt = Date.now();
		victim!.server.proc.kill('SIGKILL');
		const result = await load;
		const answered = sippCount(result.output, /200 <-+\s+(\d+)/);
		const fallback = sippCount(result.output, /480 <-+\s+(\d+)/);
		const successful = sippCount(result.output, /Successful call\s*\|\s*\d+\s*\|\s*(\d+)/);
		const failed = sippCount(result.output, /Failed call\s*\|\s*\d+\s*\|\s*(\d+)/);
		const after = offers()
			.filter((o) => o.at > killedAt)
			.sort((a, b) => a.at - b.at);
		console.log(
			`#16 failover under load: ${CALLS} calls at ${RATE}/s: ${answered} answered, ${fallback} given the fallback, ` +
				`${failed} failed; kill → next call offered ${after[0] ? after[0].at - killedAt : '—'} ms`
		);
		expect({ successful, failed }, result.output.slice(-3000)).toEqual({
			successful: CALLS,
			failed: 0
		});
		expect(answered + fallback).toBe(CALLS);
		expect(after.length, 'calls offered after the kill').toBeGreaterThan(0);
		// The screen pop reached the pages through the surviving server.
		expect(new Set(after.map((o) => o.by))).toEqual(new Set([survivor.name]));

		// None offered to two agents: each call popped up on one agent's page.
		const byCall = new Map<string, Set<string>>();
		for (const o of offers()) {
			byCall.set(o.callId, (byCall.get(o.callId) ?? new Set()).add(o.agent!));
		}
		const twice = [...byCall].filter(([, agents]) => agents.size > 1);
		expect(twice).toEqual([]);

		// Every call recorded once (by whichever server finished it), answered or not.
		await until(
			async () => {
				const rows = (await (
					await admin(`/${prefix}calls/_all_docs?include_docs=true`)
				).json()) as { rows: { doc: { callId: string; hotline: string } }[] };
				return rows.rows.filter((r) => r.doc.hotline === HOTLINE).length >= CALLS;
			},
			'every call recorded',
			30_000
		);
		const rows = (await (await admin(`/${prefix}calls/_all_docs?include_docs=true`)).json()) as {
			rows: { doc: { callId: string; hotline: string; outcome: string } }[];
		};
		const records = rows.rows.map((r) => r.doc).filter((d) => d.hotline === HOTLINE);
		expect(new Set(records.map((r) => r.callId)).size).toBe(records.length);
		expect(records).toHaveLength(CALLS);
		const outcomes = records.reduce<Record<string, number>>(
			(m, r) => ({ ...m, [r.outcome]: (m[r.outcome] ?? 0) + 1 }),
			{}
		);
		expect(outcomes).toEqual({
			completed: answered,
			...(fallback > 0 ? { timeout: fallback } : {})
		});

		// The agents are still signed in, on the server that routes calls now.
		const leader = await signIn(proxyUrl, 'admin', ADMIN_PASSWORD);
		const board = (await (
			await fetch(`${proxyUrl}/api/telephony/board`, { headers: { cookie: leader } })
		).json()) as { agents: { agentId: string; state: string }[] };
		expect(
			board.agents
				.filter((a) => AGENTS.includes(a.agentId))
				.map((a) => a.state)
				.filter((st) => st === 'signedOut')
		).toEqual([]);
		expect(await leaseHolder()).toBe(survivor.instanceId);
	}, 300_000);
});
