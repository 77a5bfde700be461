/**
 * #16 (needs COUCHDB_URL and haproxy; `npm run test:couchdb` installs haproxy as root): two app servers, each
 * its own process, behind a real reverse proxy (Debian's haproxy) on one CouchDB, as an operator runs them.
 * Browsers and devices reach them through the proxy only. The server holding the singletons' lease is killed
 * with SIGKILL while two devices record tickets through the proxy: the other takes the lease over within
 * seconds and runs the singletons (it merges a conflict), signed-in users go on without signing in again,
 * and every ticket recorded through either server is in the store once, on both devices.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { couchAdmin, couchEnv } from '../helpers/couch';
import { requireHaproxy, startProxy } from '../helpers/haproxy';
import {
	createUserOverHttp,
	freePort,
	startChildServer,
	type ChildServer
} from '../helpers/child-server';
import { device, syncRemote, type PouchDB } from '../helpers/pouch';
import { recordedTicket } from '../helpers/tickets';
import { until } from '../helpers/until';
import { buildTicket } from '../../src/lib/shared/tickets/ticket';
import type { TicketEvent } from '../../src/lib/shared/tickets/events';

if (!process.env.COUCHDB_URL) {
	throw new Error('the CouchDB tests need COUCHDB_URL (npm run test:couchdb)');
}
requireHaproxy();

const CENTER = 'department:center';
const root = mkdtempSync(join(tmpdir(), 'cc-proxy-'));
const shared = couchEnv(root);
const prefix = shared.DB_PREFIX!;

/** CouchDB itself, as the administrator of COUCHDB_URL: to read the lease and to make a conflict. */
const admin = couchAdmin();
const couch = async <T>(path: string, init: RequestInit = {}): Promise<T> =>
	(await (await admin(path, init)).json()) as T;
const leaseHolder = () =>
	couch<{ holder?: string }>(`/${prefix}users/lease%3Asingletons`).then((d) => d.holder ?? null);

interface App {
	name: 'app1' | 'app2';
	dataDir: string;
	server: ChildServer;
	instanceId: string;
}
const apps: App[] = [];
let proxy: ChildProcess;
let proxyUrl: string;
const syncs: PouchDB.Replication.Sync<object>[] = [];

beforeAll(async () => {
	for (const name of ['app1', 'app2'] as const) {
		const dataDir = join(root, name);
		const server = await startChildServer(await freePort(), dataDir, {
			...shared,
			LEASE_SECONDS: '3'
		});
		const instanceId = readFileSync(join(dataDir, 'secrets', 'instance-id'), 'utf8').trim();
		apps.push({ name, dataDir, server, instanceId });
	}
	const started = await startProxy(
		root,
		apps.map((a) => ({ name: a.name, url: a.server.url }))
	);
	proxy = started.proc;
	proxyUrl = started.url;
}, 90_000);

afterAll(async () => {
	for (const s of syncs) s.cancel();
	proxy?.kill('SIGKILL');
	for (const a of apps) {
		a.server.proc.kill('SIGKILL');
		await a.server.exited;
	}
	rmSync(root, { recursive: true, force: true });
});

/** Who answers `path` through the proxy, request after request, without a pinning cookie. */
async function servedBy(path: string, cookie: string, times = 4) {
	const answers: { by: string; status: number; type: string }[] = [];
	for (let i = 0; i < times; i++) {
		const res = await fetch(`${proxyUrl}${path}`, { headers: { cookie } });
		await res.arrayBuffer();
		answers.push({
			by: res.headers.get('x-served-by') ?? '',
			status: res.status,
			type: (res.headers.get('content-type') ?? '').split(';')[0]!
		});
	}
	return answers;
}

describe('#16 two app servers behind a reverse proxy on one CouchDB', () => {
	let session = '';

	it('F15 either server serves the web app, the API and /sync at one address, with one sign-in', async () => {
		session = await createUserOverHttp(proxyUrl, 'proxy-agent', 'role:agent');
		for (const [path, type] of [
			['/', 'text/html'],
			['/api/session', 'application/json'],
			['/sync/tickets/', 'application/json']
		] as const) {
			const answers = await servedBy(path, session);
			expect(new Set(answers.map((a) => a.by)), path).toEqual(new Set(['app1', 'app2']));
			expect(
				answers.every((a) => a.status === 200 && a.type === type),
				`${path}: ${JSON.stringify(answers)}`
			).toBe(true);
		}
	});

	it('F28 the lease holder killed with SIGKILL: the other takes over in seconds, nothing recorded is lost', async () => {
		await until(async () => (await leaseHolder()) !== null, 'a lease holder', 15_000);
		const holderId = await leaseHolder();
		const victim = apps.find((a) => a.instanceId === holderId);
		expect(victim, `the lease holder ${holderId} is one of the two servers`).toBeDefined();
		const survivor = apps.find((a) => a !== victim)!;

		// Two agents' devices, each pinned to one server by the proxy's cookie as a browser would be.
		const second = await createUserOverHttp(proxyUrl, 'proxy-agent2', 'role:agent');
		const devices = [
			{ user: 'user:proxy-agent', cookie: `${session}; ccsrv=${victim!.name}` },
			{ user: 'user:proxy-agent2', cookie: `${second}; ccsrv=${survivor.name}` }
		].map(({ user, cookie }, i) => {
			const local = device<object>(`proxy-device-${i}-${Date.now()}`);
			const sync = local.sync(syncRemote(proxyUrl, 'tickets', cookie), {
				live: true,
				retry: true,
				back_off_function: () => 300
			});
			syncs.push(sync);
			return { user, cookie, local, written: [] as string[] };
		});

		// Tickets recorded on both devices, before, across and after the kill.
		let takenAt = 0;
		const write = async (round: number) => {
			for (const [i, d] of devices.entries()) {
				const id = `px-${i}-${String(round).padStart(3, '0')}`;
				await d.local.put(recordedTicket(id, d.user));
				d.written.push(`ticket:${id}`);
			}
		};
		/** Until every ticket written so far is in the store: each round waits for the last to arrive. */
		const inStore = (what: string) =>
			until(
				async () => {
					const { rows } = await couch<{ rows: { error?: string }[] }>(
						`/${prefix}tickets/_all_docs?keys=${encodeURIComponent(JSON.stringify(devices.flatMap((d) => d.written)))}`
					);
					return rows.every((r) => !r.error);
				},
				what,
				15_000
			);
		for (let round = 0; round < 10; round++) await write(round);
		await inStore('the first tickets in the store');
		victim!.server.proc.kill('SIGKILL');
		const killedAt = Date.now();
		await victim!.server.exited;
		let round = 10;
		// Recording goes on through the survivor while the lease moves: a round at a time, each synced.
		while (!takenAt) {
			await write(round++);
			await inStore(`round ${round} in the store while the lease moves`);
			if ((await leaseHolder()) === survivor.instanceId) takenAt = Date.now();
			expect(Date.now() - killedAt, 'the lease taken over').toBeLessThan(15_000);
		}
		for (const end = round + 10; round < end; round++) await write(round);
		console.log(
			`#16 failover: the lease moved ${takenAt - killedAt} ms after the kill (LEASE_SECONDS=3)`
		);
		expect(takenAt - killedAt).toBeLessThan(10_000);

		// The signed-in users go on through the proxy, also the one pinned to the dead server.
		for (const d of devices) {
			const res = await fetch(`${proxyUrl}/api/session`, { headers: { cookie: d.cookie } });
			expect(res.status).toBe(200);
			expect(res.headers.get('x-served-by')).toBe(survivor.name);
		}

		// Every ticket recorded is in the store once (one revision, no conflict) and on both devices.
		const all = devices.flatMap((d) => d.written).sort();
		await until(
			async () => {
				const { rows } = await couch<{ rows: { error?: string }[] }>(
					`/${prefix}tickets/_all_docs?keys=${encodeURIComponent(JSON.stringify(all))}`
				);
				if (!rows.every((r) => !r.error)) return false;
				for (const d of devices) {
					const held = await d.local.allDocs({ keys: all });
					if (!held.rows.every((r) => 'value' in r && r.value && !r.value.deleted)) return false;
				}
				return true;
			},
			'every ticket in the store and on both devices',
			30_000
		);
		const stored = await couch<{ rows: { doc: { _conflicts?: string[]; events: unknown[] } }[] }>(
			`/${prefix}tickets/_all_docs?include_docs=true&conflicts=true&keys=${encodeURIComponent(JSON.stringify(all))}`
		);
		expect(stored.rows.map((r) => [r.doc._conflicts ?? [], r.doc.events.length])).toEqual(
			all.map(() => [[], 1])
		);

		// The singletons run on the survivor now: a conflict left by two replicas is merged there.
		const created = recordedTicket('px-conflict', 'user:proxy-agent').events[0] as TicketEvent;
		const comment = (id: string, text: string): TicketEvent => ({
			id,
			type: 'comment',
			at: new Date().toISOString(),
			by: 'user:proxy-agent',
			text
		});
		const a = buildTicket('ticket:px-conflict', [created, comment('px-c-1', '甲')], CENTER);
		const b = buildTicket('ticket:px-conflict', [created, comment('px-c-2', '乙')], CENTER);
		await couch(`/${prefix}tickets/_bulk_docs`, {
			method: 'POST',
			body: JSON.stringify({
				new_edits: false,
				docs: [
					{ ...a, _rev: '1-aaaa', _revisions: { start: 1, ids: ['aaaa'] } },
					{ ...b, _rev: '1-bbbb', _revisions: { start: 1, ids: ['bbbb'] } }
				]
			})
		});
		await until(
			async () => {
				const doc = await couch<{ _conflicts?: string[]; events: { id: string }[] }>(
					`/${prefix}tickets/ticket%3Apx-conflict?conflicts=true`
				);
				return !doc._conflicts && doc.events.length === 3;
			},
			'the conflict merged by the new lease holder',
			15_000
		);
	});
});
