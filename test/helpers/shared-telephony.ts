/**
 * #16 a center of two app servers sharing one Kamailio and Janus (TELEPHONY=shared), as an operator runs it:
 * `server/telephony-node.ts` (what `npm run telephony` runs), two app servers on the CouchDB of COUCHDB_URL
 * behind haproxy — which Kamailio asks too (APP_URL) — and one sipp answering every call as the agents'
 * phones. For the failover test and benchmark of calls (`test/couchdb/telephony-failover.test.ts`,
 * `test/bench/call-failover.bench.ts`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { couchAdmin, couchEnv } from './couch';
import { startProxy } from './haproxy';
import { freePort, startChildServer, type ChildServer } from './child-server';
import { telephonyPorts } from './telephony';
import { until } from './until';
import { agentPhones, DOMAIN, enlistAgent, HOTLINE } from '../bench/hotline-load';
import { loadSettings } from '../../server/settings';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface SharedApp {
	name: 'app1' | 'app2';
	dataDir: string;
	port: number;
	server: ChildServer;
	instanceId: string;
}

/** The user's `/events` through `base`, reconnecting (as EventSource does) when its server goes away. */
export function pageEvents(base: string, cookie: string) {
	const offers: { callId: string; at: number; by: string }[] = [];
	let stopped = false;
	let current: ReturnType<typeof request> | null = null;
	const again = () => {
		if (!stopped) setTimeout(open, 200);
	};
	function open() {
		if (stopped) return;
		let text = '';
		current = request(`${base}/events`, { headers: { cookie }, agent: false }, (res) => {
			const by = String(res.headers['x-served-by'] ?? base);
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
			res.on('close', again);
		});
		current.on('error', again);
		current.end();
	}
	open();
	return {
		offers,
		close() {
			stopped = true;
			current?.destroy();
		}
	};
}

export type PageEvents = ReturnType<typeof pageEvents>;

export async function startSharedCenter({
	root,
	leaseSeconds = 3,
	acd = { offerSeconds: 5, maxWaitSeconds: 20, wrapUpSeconds: 0 }
}: {
	/** A fresh folder: the servers' data folders, the telephony's, haproxy's configuration. */
	root: string;
	leaseSeconds?: number;
	acd?: { offerSeconds: number; maxWaitSeconds: number; wrapUpSeconds: number };
}) {
	const shared = couchEnv(root);
	const prefix = shared.DB_PREFIX!;
	const admin = couchAdmin();
	const sipPort = 34_000 + Math.floor(Math.random() * 200) * 6;
	const janusIp = loadSettings({}).sip.janusIp;
	const env = {
		...telephonyPorts(sipPort),
		TELEPHONY_KEY: randomBytes(24).toString('base64url'),
		HOTLINES: HOTLINE,
		SIP_DOMAIN: DOMAIN,
		ACD_OFFER_SECONDS: String(acd.offerSeconds),
		ACD_MAX_WAIT_SECONDS: String(acd.maxWaitSeconds),
		ACD_WRAPUP_SECONDS: String(acd.wrapUpSeconds)
	};
	const proxyPort = await freePort();
	const proxyUrl = `http://127.0.0.1:${proxyPort}`;

	let telephonyOutput = '';
	const telephony: ChildProcess = spawn(
		process.execPath,
		['--import', 'tsx', 'server/telephony-node.ts'],
		{
			cwd: ROOT,
			env: { ...process.env, ...env, DATA_DIR: join(root, 'telephony'), APP_URL: proxyUrl },
			stdio: ['ignore', 'pipe', 'pipe']
		}
	);
	telephony.stdout!.on('data', (b: Buffer) => (telephonyOutput += b.toString()));
	telephony.stderr!.on('data', (b: Buffer) => (telephonyOutput += b.toString()));
	await until(() => telephonyOutput.includes('telephony:'), 'Kamailio and Janus up', 30_000);

	const start = async (name: SharedApp['name'], port: number): Promise<SharedApp> => {
		const dataDir = join(root, name);
		const server = await startChildServer(port, dataDir, {
			...shared,
			...env,
			TELEPHONY: 'shared',
			LEASE_SECONDS: String(leaseSeconds)
		});
		const instanceId = readFileSync(join(dataDir, 'secrets', 'instance-id'), 'utf8').trim();
		return { name, dataDir, port, server, instanceId };
	};
	const apps: SharedApp[] = [];
	for (const name of ['app1', 'app2'] as const) apps.push(await start(name, await freePort()));
	const proxy = (
		await startProxy(
			root,
			apps.map((a) => ({ name: a.name, url: a.server.url })),
			proxyPort
		)
	).proc;
	const phones = await agentPhones(janusIp);
	const pages: ReturnType<typeof pageEvents>[] = [];

	return {
		apps,
		proxyUrl,
		prefix,
		/** Kamailio's SIP address, for the carrier's calls. */
		sipTarget: `127.0.0.1:${sipPort}`,
		/** The instance id the lease document names, or null. */
		async leaseHolder(): Promise<string | null> {
			const res = await admin(`/${prefix}users/lease%3Asingletons`);
			return res.ok ? (((await res.json()) as { holder?: string }).holder ?? null) : null;
		},
		/** Whether a server says its telephony runs (routing calls, or linked to the one that does). */
		async running(app: SharedApp): Promise<boolean> {
			const res = await fetch(`${app.server.url}/api/health`).catch(() => null);
			if (!res?.ok) return false;
			return ((await res.json()) as { telephony: { state: string } }).telephony.state === 'running';
		},
		/**
		 * A signed-in agent (`cookie`, its page pinned to `app` by the proxy's cookie): its page's `/events`
		 * open through the proxy, its SIP identity registered on the shared phone, 就绪.
		 */
		async agent(cookie: string, app: SharedApp) {
			const pinned = `${cookie}; ccsrv=${app.name}`;
			const page = pageEvents(proxyUrl, pinned);
			pages.push(page);
			await enlistAgent(proxyUrl, pinned, {
				target: `127.0.0.1:${sipPort}`,
				ip: janusIp,
				phonePort: phones.port
			});
			return page;
		},
		/** Starts a killed server again on its folder and port. */
		async restart(app: SharedApp) {
			await app.server.exited;
			const again = await start(app.name, app.port);
			app.server = again.server;
		},
		/** Kamailio's log (every delivery: `ACD <Call-ID> to <agent>`). */
		kamailioLog: () => readFileSync(join(root, 'telephony', 'telephony', 'kamailio.log'), 'utf8'),
		async stop({ keep = false } = {}) {
			for (const p of pages) p.close();
			phones.stop();
			proxy.kill('SIGKILL');
			for (const a of apps) {
				a.server.proc.kill('SIGKILL');
				await a.server.exited;
				if (keep) writeFileSync(join(root, `${a.name}.log`), a.server.output.join(''));
			}
			if (telephony.exitCode === null && telephony.signalCode === null) {
				const exited = new Promise((r) => telephony.once('exit', r));
				telephony.kill('SIGTERM');
				await exited;
			}
			if (keep) return;
			rmSync(root, { recursive: true, force: true });
			// The servers' databases (`npm run test:couchdb` deletes its run's at its end; a benchmark has none).
			const all = (await (await admin('/_all_dbs')).json()) as string[];
			for (const db of all.filter((d) => d.startsWith(prefix))) {
				await admin(`/${encodeURIComponent(db)}`, { method: 'DELETE' });
			}
		}
	};
}
export type SharedCenter = Awaited<ReturnType<typeof startSharedCenter>>;
