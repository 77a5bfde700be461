/**
 * #15 `npm run bench:capacity`: a simulated call center against the real server, run as its own process on
 * a copy of a large fixture (`fixture.ts`: by default 90 days of a center's tickets, 270,000, and 1,000,000
 * subscribers), so that its CPU and memory are measured apart from the load generator's, which runs in its
 * own processes (`load-worker.ts`, BENCH_WORKERS, default 2).
 *
 * Devices: 8 departments × 2 department devices and 20 crew tablets for the whole run, and A agents, stepped
 * through BENCH_STEPS (default 50,100,200,300). Every device live-syncs `tickets` as today's browsers do
 * (`device.ts`) and holds `/events`. Each agent takes a call every BENCH_CALL_SECONDS (default 30): the
 * caller's earlier tickets and subscriber are looked up, and a ticket is recorded on the device and pushed,
 * 30 % of them transferred to a department. Per step: a window of BENCH_STEP_SECONDS (default 60) with
 * calls, then BENCH_DRAIN_SECONDS (default 10) without; meanwhile one fresh agent device syncs from zero.
 *
 * Printed per step, and written to test-results/capacity-<store>-<time>.json: API latency per route,
 * fan-out (a ticket recorded on one device → on every other device whose scope includes it: today every
 * center agent, and the department it was transferred to), transfer → department device, the fresh
 * device's first sync, the server's CPU (from /proc) and memory beside the load generator's, the store
 * operations the server counted (`GET /api/metrics`), and the devices that fell behind (tickets they
 * should hold and do not, after the drain); the issue's targets as ✓/✗.
 *
 * The store: the embedded one by default; Apache CouchDB with COUCHDB_URL (an account that may create and
 * delete databases, e.g. `http://admin:secret@127.0.0.1:5984`). Each run then loads the fixture into
 * databases of its own prefix (`couchdb.ts`), starts the server on them (COUCHDB_URL, DB_PREFIX), measures
 * CouchDB's processes beside the server's when they run on this machine, and deletes the databases at the
 * end (BENCH_KEEP=1 keeps them).
 *
 * Hotline calls (BENCH_TELEPHONY, default when Kamailio, Janus and sipp are installed): the server runs its
 * telephony; every active agent registers the shared simulated phone (sipp, answering at once) with the SIP
 * credentials of its sign-in and is 就绪; during each window sipp as the carrier calls the hotline
 * BENCH_HOTLINE_RATE times a second (default 10), each call talking BENCH_HOTLINE_TALK_MS (default 3,000), all
 * distributed by the ACD with its screen pop to the agent's `/events`. Printed: calls answered and failed,
 * INVITE → 200 OK p50/p95.
 *
 * SYNC_FANOUT, when set, is passed to the server. BENCH_MODE=pouchdb simulates the browsers before #15's
 * push filter, which pushed back what they pulled; BENCH_CHECKPOINTS=server those that kept their
 * checkpoints on the server too. BENCH_KEEP=1 keeps the run's data folder (and its CouchDB databases).
 * BENCH_NODE_ARGS: options for the server's node (e.g. `--max-semi-space-size=64`).
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureFixture, prepareRun, waitCaughtUp } from './fixture';
import { ensureHubSnapshot } from './warm';
import {
	couchFromEnv,
	couchProcesses,
	dropDatabases,
	loadIntoCouch,
	runPrefix,
	type CouchLoad
} from './couchdb';
import { ROOT, startServer, startSampler } from './server-process';
import { findProfiles, formatWindow, profileStart, profileWindows, type Window } from './profile';
import { benchSettings, mean, ms, quantile, type BenchUser, type Manifest } from './settings';
import type { Collected, Created, DeviceSpec, FromWorker, ToWorker } from './load-worker';
import { telephonyPorts } from '../../helpers/telephony';
import { agentPhones, callLoad, enlistAgent, type CallLoad } from '../hotline-load';

const TARGETS = { apiP95: 100, fanoutP95: 2000, firstSync: 10_000, memory: 2 * 1024 ** 3 };
const RAMP_TIMEOUT_MS = 300_000;

const settings = benchSettings();
const log = (s = '') => console.log(s);
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const pct = (n: number) => (Number.isFinite(n) ? `${Math.round(n)} %` : '—');
const mark = (ok: boolean) => (ok ? '✓' : '✗');
const count = (n: number) => n.toLocaleString('en');

// ---------------------------------------------------------------------------------------------------------
// Load processes

interface Worker {
	child: ChildProcess;
	index: number;
	next<T extends FromWorker['type']>(type: T): Promise<Extract<FromWorker, { type: T }>>;
	send(message: ToWorker): void;
}

function startWorker(index: number): Worker {
	const child = fork(join(ROOT, 'test/bench/capacity/load-worker.ts'), [], {
		execArgv: ['--import', 'tsx'],
		cwd: ROOT,
		stdio: ['ignore', 'inherit', 'inherit', 'ipc']
	});
	const waiting = new Map<string, ((m: FromWorker) => void)[]>();
	child.on('message', (m: FromWorker) => {
		if (m.type === 'live') {
			onLive(m.name, m.at);
			return;
		}
		const list = waiting.get(m.type);
		const first = list?.shift();
		if (first) first(m);
	});
	child.on('exit', (code) => {
		if (code !== 0 && !stopping) {
			console.error(`load worker ${index} exited with ${code}`);
			process.exit(1);
		}
	});
	return {
		child,
		index,
		next: (type) =>
			new Promise((resolve) => {
				const list = waiting.get(type) ?? [];
				list.push(resolve as (m: FromWorker) => void);
				waiting.set(type, list);
			}),
		send: (message) => child.send(message)
	};
}
let stopping = false;
/** What must happen however the run ends, once the server has stopped (the run's CouchDB databases). */
const atEnd: (() => Promise<void>)[] = [];
/** Told when a device goes live (set by main). */
let onLive: (name: string, at: number) => void = () => {};

// ---------------------------------------------------------------------------------------------------------
// Figures of one step

interface DeviceInfo {
	user: BenchUser;
	liveAt: number;
}

function fanOut(created: Created[], collected: Collected[], devices: Map<string, DeviceInfo>) {
	const arrivals = new Map<string, Map<string, number>>();
	for (const c of collected) {
		for (const [name, list] of Object.entries(c.arrivals)) {
			let m = arrivals.get(name);
			if (!m) arrivals.set(name, (m = new Map()));
			for (const [id, at] of list) if (!m.has(id)) m.set(id, at);
		}
	}
	const lags: number[] = [];
	const transferLags: number[] = [];
	const perTicket: number[] = [];
	const behind = new Map<string, number>();
	let expected = 0;
	let unexpected = 0;
	const byId = new Map(created.map((t) => [t.id, t]));
	for (const t of created) {
		let worst = 0;
		for (const [name, d] of devices) {
			if (name === t.by || d.liveAt > t.at) continue;
			const isReceiver =
				d.user.kind === 'agent' ||
				(d.user.kind === 'department' && d.user.departmentId === t.transferredTo);
			if (!isReceiver) continue;
			expected += 1;
			const at = arrivals.get(name)?.get(t.id);
			// A delivery that never came counts as the slowest of all in the percentiles.
			const lag = at === undefined ? Infinity : Math.max(0, at - t.at);
			if (at === undefined) behind.set(name, (behind.get(name) ?? 0) + 1);
			lags.push(lag);
			if (d.user.kind === 'department') transferLags.push(lag);
			worst = Math.max(worst, lag);
		}
		if (Number.isFinite(worst)) perTicket.push(worst);
	}
	// Tickets of this window a device got although its scope does not include them.
	for (const [name, got] of arrivals) {
		const d = devices.get(name);
		if (!d) continue;
		for (const id of got.keys()) {
			const t = byId.get(id);
			if (!t) continue;
			const allowed =
				d.user.kind === 'agent' ||
				(d.user.kind === 'department' && d.user.departmentId === t.transferredTo);
			if (!allowed) unexpected += 1;
		}
	}
	return { lags, transferLags, perTicket, behind, expected, unexpected };
}

type Ops = Record<string, Record<string, number>>;
function opsDelta(before: Ops, after: Ops): [string, number][] {
	const out: [string, number][] = [];
	for (const [db, ops] of Object.entries(after)) {
		for (const [op, n] of Object.entries(ops)) {
			const d = n - (before[db]?.[op] ?? 0);
			if (d > 0) out.push([`${db}.${op}`, d]);
		}
	}
	return out.sort((a, b) => b[1] - a[1]);
}

interface Metrics {
	memory?: { rssBytes?: number };
	eventLoop?: { utilization?: number; delayMs?: { p99?: number; max?: number } };
	store?: { operations?: Ops; writes?: number | null };
}

// ---------------------------------------------------------------------------------------------------------

async function main() {
	const s = settings;
	const runStart = performance.now();
	const couch = await couchFromEnv();
	const store = couch ? 'couchdb' : 'embedded';
	log(`#15 capacity benchmark — ${new Date().toISOString()}`);
	log(
		`  fixture: ${count(s.sizes.tickets)} tickets over ${s.sizes.days} days, ${count(s.sizes.subscribers)} subscribers, ` +
			`${s.sizes.agents} agents, ${s.sizes.departments}×${s.sizes.usersPerDepartment} department users, ` +
			`${s.sizes.crews * s.sizes.membersPerCrew} crew members (seed ${s.sizes.seed})`
	);
	log(
		`  load: steps ${s.steps.join(', ')} agents; a call every ${s.callSeconds} s per agent, ` +
			`${Math.round(s.transferShare * 100)} % transferred; window ${s.stepSeconds} s + drain ${s.drainSeconds} s; ` +
			`${s.workers} load processes; device mode ${s.mode}, checkpoints on the ${s.checkpoints}`
	);
	log(
		`  server: ${couch ? `Apache CouchDB ${couch.version} at ${couch.host}, ${couch.nodes.length} node${couch.nodes.length === 1 ? '' : 's'}` : 'embedded store'}, ` +
			`SYNC_FANOUT=${s.syncFanout ?? '(unset)'}`
	);

	const tf = performance.now();
	const fixture = await ensureFixture(s.sizes, s.cacheRoot, s.cacheMaxAgeDays, log);
	await ensureHubSnapshot(fixture, log);
	log(
		fixture.builtSeconds === null
			? `  fixture: from the cache ${fixture.dir} (built ${fixture.manifest.builtAt}, in ${fixture.manifest.buildSeconds} s)`
			: `  fixture: built in ${fixture.builtSeconds} s`
	);
	const manifest: Manifest = fixture.manifest;
	log(
		`  fixture holds ${count(manifest.counts.tickets)} tickets (${count(manifest.counts.transferred)} transferred, ` +
			`${count(manifest.counts.open)} open), ${count(manifest.counts.customers)} subscribers`
	);
	const runDir = mkdtempSync(join(tmpdir(), 'capacity-run-'));
	const prepared = await prepareRun(fixture, runDir);
	log(`  copied for this run in ${prepared.copySeconds.toFixed(1)} s (${runDir})`);
	const fixtureSeconds = (performance.now() - tf) / 1000;
	let loaded: CouchLoad | null = null;
	if (couch) {
		const prefix = runPrefix();
		const keep = process.env.BENCH_KEEP === '1';
		atEnd.push(async () => {
			if (keep) {
				log(`CouchDB: the run's databases are kept (${couch.host}, ${prefix}*)`);
				return;
			}
			await dropDatabases(couch, prefix).then(
				(n) => log(`CouchDB: the run's ${n} databases (${prefix}*) deleted`),
				(err: unknown) =>
					log(`CouchDB: deleting the run's databases ${prefix}* failed: ${String(err)}`)
			);
		});
		log(`  CouchDB: loading the fixture into ${couch.host} under the prefix ${prefix}`);
		loaded = await loadIntoCouch(couch, prepared.dataDir, prefix, log);
		if (loaded.notCarried.length > 0) {
			log(
				`  CouchDB: ${loaded.notCarried.join(', ')} could not be pointed at CouchDB: the server builds them anew`
			);
		}
	}

	// BENCH_CPU_PROFILE=1: the server runs under V8's profiler; each step's window is summarised at the end.
	const profileDir = process.env.BENCH_CPU_PROFILE === '1' ? join(runDir, 'cpu-profile') : null;
	if (profileDir) mkdirSync(profileDir);
	const profiled: Window[] = [];
	// The hotline: Kamailio and Janus run by the server, the agents' phones where Janus's SIP side is.
	const installed = ['kamailio', 'janus', 'sipp'].every(
		(tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0
	);
	if (s.telephony === 'on' && !installed) {
		throw new Error('BENCH_TELEPHONY=on: Kamailio, Janus or sipp is missing');
	}
	const sipIp =
		Object.values(networkInterfaces())
			.flatMap((list) => list ?? [])
			.find((a) => a.family === 'IPv4' && !a.internal)?.address ?? '';
	const hotline = s.telephony !== 'off' && installed && sipIp !== '';
	const sipPort = 38_000 + Math.floor(Math.random() * 500) * 8;
	log(
		hotline
			? `  hotline: ${s.hotlineRate} calls/s in each window, ${s.hotlineTalkMs} ms each, Kamailio on ${sipPort}`
			: '  hotline: off (BENCH_TELEPHONY, or Kamailio, Janus or sipp not installed)'
	);
	const t0 = performance.now();
	/** What the server says it derives from the store anew (its search or history index, a feed hub). */
	const rebuilt: string[] = [];
	const server = await startServer({
		dataDir: prepared.dataDir,
		onLine: (line) => {
			if (/ anew\b/.test(line)) rebuilt.push(line.trim());
		},
		env: {
			SYNC_FANOUT: s.syncFanout,
			...(couch && loaded ? { COUCHDB_URL: couch.url, DB_PREFIX: loaded.prefix } : {}),
			...(hotline
				? {
						TELEPHONY: 'on',
						...telephonyPorts(sipPort),
						JANUS_SIP_IP: sipIp,
						ACD_OFFER_SECONDS: '5',
						ACD_MAX_WAIT_SECONDS: '30',
						ACD_WRAPUP_SECONDS: '0'
					}
				: {})
		},
		nodeArgs: [
			...s.nodeArgs,
			...(profileDir
				? ['--cpu-prof', '--cpu-prof-interval=5000', `--cpu-prof-dir=${profileDir}`]
				: [])
		]
	});
	const listening = performance.now() - t0;
	const caughtUp = await waitCaughtUp(server.url, server.pid, manifest.counts.customers, log);
	log(
		`  server pid ${server.pid}: answering after ${ms(listening)}, caught up and idle after ${ms(caughtUp)} more`
	);
	for (const line of rebuilt) log(`  the server rebuilt: ${line}`);
	const couchPids = couch ? couchProcesses(couch.nodes) : () => [];
	if (couch) {
		const found = couchPids().length;
		log(
			found > 0
				? `  CouchDB measured beside the server: ${found} processes (each node's beam.smp and what it started)`
				: `  CouchDB runs on no process of this machine (no beam.smp named ${couch.nodes.join(', ')}): its CPU and memory are not measured`
		);
	}

	const admin = prepared.cookies.get('user:admin')!;
	const sipTarget = `127.0.0.1:${sipPort}`;
	const phones = hotline ? await agentPhones(sipIp) : null;
	/** The agents now taking hotline calls: registered on the shared phone and ready. */
	const enlist = async (users: BenchUser[]) => {
		if (!phones) return;
		for (let i = 0; i < users.length; i += 10) {
			await Promise.all(
				users.slice(i, i + 10).map((u) =>
					enlistAgent(server.url, prepared.cookies.get(u.id)!, {
						target: sipTarget,
						ip: sipIp,
						phonePort: phones.port
					})
				)
			);
		}
	};
	const metrics = async (): Promise<Metrics> => {
		try {
			const res = await fetch(`${server.url}/api/metrics`, {
				headers: { cookie: admin },
				signal: AbortSignal.timeout(30_000)
			});
			return res.ok ? ((await res.json()) as Metrics) : {};
		} catch {
			return {}; // a server too busy to answer within 30 s: the step's figures say so elsewhere
		}
	};

	const workers = Array.from({ length: s.workers }, (_, i) => startWorker(i));
	const sampler = startSampler(() => ({
		server: server.pid,
		coordinator: process.pid,
		...Object.fromEntries(workers.map((w) => [`worker${w.index}`, w.child.pid!])),
		...Object.fromEntries(couchPids().map((pid) => [`couchdb:${pid}`, pid]))
	}));
	const results: object[] = [];
	// The figures so far, rewritten after every step: a run that fails later keeps what it measured.
	const file = join(
		ROOT,
		'test-results',
		`capacity-${store}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`
	);
	mkdirSync(join(ROOT, 'test-results'), { recursive: true });
	const writeFigures = (totalSeconds: number | null) =>
		writeFileSync(
			file,
			JSON.stringify(
				{
					date: new Date().toISOString(),
					store,
					couchdb: couch && {
						version: couch.version,
						host: couch.host,
						nodes: couch.nodes,
						prefix: loaded?.prefix ?? null,
						documents: loaded?.docs ?? null,
						replicateSeconds: loaded?.replicateSeconds ?? null,
						viewsSeconds: loaded?.viewsSeconds ?? null,
						notCarried: loaded?.notCarried ?? null
					},
					syncFanout: s.syncFanout ?? null,
					settings: s,
					fixture: {
						dir: fixture.dir,
						builtAt: manifest.builtAt,
						buildSeconds: manifest.buildSeconds,
						builtNow: fixture.builtSeconds !== null,
						counts: manifest.counts,
						copySeconds: prepared.copySeconds
					},
					server: { listeningMs: listening, caughtUpMs: caughtUp, rebuilt },
					totalSeconds,
					steps: results
				},
				null,
				'\t'
			)
		);
	const summary: string[][] = [];
	try {
		await Promise.all(
			workers.map(async (w) => {
				const ready = w.next('ready');
				w.send({
					type: 'init',
					index: w.index,
					url: server.url,
					mode: s.mode,
					checkpoints: s.checkpoints,
					callSeconds: s.callSeconds,
					transferShare: s.transferShare,
					departments: manifest.departments,
					phonesFile: join(fixture.dir, manifest.phonesFile)
				});
				await ready;
			})
		);

		const devices = new Map<string, DeviceInfo>();
		let spread = 0;
		const spec = (user: BenchUser, start: 'now' | 0 = 'now'): DeviceSpec => ({
			name: `${user.username}@${start === 0 ? 'fresh' : 'desk'}`,
			user,
			cookie: prepared.cookies.get(user.id)!,
			start,
			events: true
		});
		// A device counts from when it is live: only tickets recorded after that are expected on it.
		const starting = new Map<string, BenchUser>();
		let wakeRamp = () => {};
		onLive = (name, at) => {
			const user = starting.get(name);
			if (!user) return;
			starting.delete(name);
			devices.set(name, { user, liveAt: at });
			if (starting.size === 0) wakeRamp();
		};
		/** Starts devices for `users`; resolves when all are live, or after RAMP_TIMEOUT_MS regardless. */
		async function add(users: BenchUser[]) {
			const perWorker = workers.map(() => [] as DeviceSpec[]);
			for (const u of users) {
				perWorker[spread++ % workers.length]!.push(spec(u));
				starting.set(spec(u).name, u);
			}
			const t = performance.now();
			const allLive = new Promise<void>((resolve) => (wakeRamp = resolve));
			workers.forEach((w, i) => w.send({ type: 'add', devices: perWorker[i]! }));
			if (starting.size > 0) await Promise.race([allLive, sleep(RAMP_TIMEOUT_MS)]);
			if (starting.size > 0) {
				log(
					`  ${starting.size} of ${users.length} devices not live after ${RAMP_TIMEOUT_MS / 1000} s: going on without waiting for them`
				);
			}
			return performance.now() - t;
		}
		const collect = () =>
			Promise.all(
				workers.map((w) => {
					const got = w.next('collected');
					w.send({ type: 'collect' });
					return got;
				})
			);

		const others = manifest.users.filter((u) => u.kind === 'department' || u.kind === 'crew');
		const addedOthers = await add(others);
		log(`  ${others.length} department and crew devices live in ${ms(addedOthers)}\n`);
		const agents = manifest.users.filter((u) => u.kind === 'agent');
		const spares = manifest.users.filter((u) => u.kind === 'spare');
		let active = 0;

		for (const [stepIndex, A] of s.steps.entries()) {
			const ramp = await add(agents.slice(active, A));
			await enlist(agents.slice(active, A));
			active = A;
			log(
				`── ${A} agents (+${others.length} department and crew devices) — ramped in ${ms(ramp)} ──`
			);
			await collect(); // what the ramp did is not part of the window
			const before = await metrics();
			sampler.take();

			const fresh = spares[stepIndex % spares.length];
			const firstSync =
				s.firstSyncSeconds > 0 && fresh
					? (() => {
							const got = workers[0]!.next('firstSync');
							workers[0]!.send({
								type: 'firstSync',
								device: spec(fresh, 0),
								timeoutMs: s.firstSyncSeconds * 1000
							});
							return got;
						})()
					: null;
			const windowStart = Date.now();
			const hotlineCalls: Promise<CallLoad> | null = phones
				? callLoad(sipTarget, {
						rate: s.hotlineRate,
						calls: Math.round(s.hotlineRate * s.stepSeconds),
						talkMs: s.hotlineTalkMs
					})
				: null;
			for (const w of workers) w.send({ type: 'calls', on: true });
			await sleep(s.stepSeconds * 1000);
			profiled.push({ label: `${A} agents`, from: windowStart, to: Date.now() });
			for (const w of workers) w.send({ type: 'calls', on: false });
			await sleep(s.drainSeconds * 1000);
			const windowSeconds = (Date.now() - windowStart) / 1000;
			const after = await metrics();
			const samples = sampler.take();
			const collected = await collect();
			const first = firstSync ? await firstSync : null;
			const calledIn = hotlineCalls ? await hotlineCalls : null;

			// Figures.
			const lat = (kind: string) => collected.flatMap((c) => c.latencies[kind as 'info'] ?? []);
			const api = [...lat('history'), ...lat('search')];
			const created = collected.flatMap((c) => c.created);
			const calls = collected.reduce((n, c) => n + c.calls, 0);
			const errors: Record<string, number> = {};
			for (const c of collected) {
				for (const [k, n] of Object.entries(c.errors)) errors[k] = (errors[k] ?? 0) + n;
			}
			const samplesOf = (name: string) =>
				samples.map((x) => x.cpu[name]).filter((v): v is number => v !== undefined);
			const serverCpu = samplesOf('server');
			const workersCpu = samples.map((x) =>
				workers.reduce((sum, w) => sum + (x.cpu[`worker${w.index}`] ?? 0), 0)
			);
			const serverRss = samples.map((x) => x.rss.server ?? 0);
			const workersRss = samples.map((x) =>
				workers.reduce((sum, w) => sum + (x.rss[`worker${w.index}`] ?? 0), 0)
			);
			const ofCouch = (values: Record<string, number>) =>
				Object.entries(values).reduce((n, [k, v]) => (k.startsWith('couchdb:') ? n + v : n), 0);
			const couchCpu = samples.map((x) => ofCouch(x.cpu));
			const couchRss = samples.map((x) => ofCouch(x.rss));
			const couchMeasured = samples.some((x) =>
				Object.keys(x.rss).some((k) => k.startsWith('couchdb:'))
			);
			const couchRssPeak = Math.max(0, ...couchRss);
			const f = fanOut(created, collected, devices);
			const delta = opsDelta(before.store?.operations ?? {}, after.store?.operations ?? {});
			// A server that did not answer /api/metrics (too busy) reports none: not the same as zero.
			const opsReported =
				after.store?.operations !== undefined && before.store?.operations !== undefined;
			const opsTotal = delta.reduce((n, [, d]) => n + d, 0);

			const apiP95 = quantile(api, 0.95);
			const fanP95 = quantile(f.lags, 0.95);
			const rssPeak = Math.max(0, ...serverRss);
			const behindDevices = [...f.behind].sort((a, b) => b[1] - a[1]);
			const missing = behindDevices.reduce((n, [, k]) => n + k, 0);

			log(
				`  calls ${count(calls)}: ${count(created.length)} tickets recorded (${count(created.filter((t) => t.transferredTo).length)} transferred)` +
					(Object.keys(errors).length
						? `; failed requests: ${Object.entries(errors)
								.map(([k, n]) => `${k} ${n}`)
								.join(', ')}`
						: '; no failed request')
			);
			log(
				`  API p50/p95: history ${ms(quantile(lat('history'), 0.5))}/${ms(quantile(lat('history'), 0.95))}, ` +
					`search ${ms(quantile(lat('search'), 0.5))}/${ms(quantile(lat('search'), 0.95))}; ` +
					`both ${ms(quantile(api, 0.5))}/${ms(apiP95)} ${mark(apiP95 <= TARGETS.apiP95)}`
			);
			log(
				`  /sync p50/p95: ` +
					(
						[
							['_changes', 'changes'],
							['_bulk_get', 'bulk_get'],
							['_revs_diff', 'revs_diff'],
							['_bulk_docs', 'bulk_docs'],
							['_local GET', 'local_get'],
							['_local PUT', 'local_put'],
							['info', 'info']
						] as const
					)
						.map(
							([label, k]) =>
								`${label} ${ms(quantile(lat(k), 0.5))}/${ms(quantile(lat(k), 0.95))} (${count(lat(k).length)})`
						)
						.join(', ')
			);
			log(
				`  fan-out: p50 ${ms(quantile(f.lags, 0.5))}, p95 ${ms(fanP95)} ${mark(fanP95 <= TARGETS.fanoutP95)} ` +
					`(${count(f.lags.filter(Number.isFinite).length)} of ${count(f.expected)} expected deliveries made); ` +
					`per ticket, all receivers: p95 ${ms(quantile(f.perTicket, 0.95))} (${count(f.perTicket.length)} of ${count(created.length)} tickets complete)`
			);
			log(
				`  transfer → department device: p50 ${ms(quantile(f.transferLags, 0.5))}, p95 ${ms(quantile(f.transferLags, 0.95))} (${count(f.transferLags.filter(Number.isFinite).length)} of ${count(f.transferLags.length)} deliveries made)`
			);
			if (first) {
				log(
					first.ms === null
						? `  fresh agent device first sync: not done after ${s.firstSyncSeconds} s (${count(first.docs)} tickets so far) ✗`
						: `  fresh agent device first sync: ${ms(first.ms)} for ${count(first.docs)} tickets ${mark(first.ms <= TARGETS.firstSync)}`
				);
			}
			const callsOffered = Math.round(s.hotlineRate * s.stepSeconds);
			if (calledIn) {
				log(
					`  hotline: ${count(calledIn.successful)} of ${count(callsOffered)} calls answered by agents, ${count(calledIn.failed)} failed; ` +
						`INVITE → 200 p50 ${ms(quantile(calledIn.times, 0.5))}, p95 ${ms(quantile(calledIn.times, 0.95))}`
				);
				for (const line of calledIn.errors) log(`    sipp: ${line.slice(0, 300)}`);
			}
			log(
				`  server CPU: mean ${pct(mean(serverCpu))}, p95 ${pct(quantile(serverCpu, 0.95))} of a core; ` +
					`RSS mean ${mb(mean(serverRss))}, peak ${mb(rssPeak)} ${mark(rssPeak <= TARGETS.memory)}; ` +
					`event loop ${pct((after.eventLoop?.utilization ?? NaN) * 100)} busy, delay p99 ${after.eventLoop?.delayMs?.p99 ?? '—'} ms, max ${after.eventLoop?.delayMs?.max ?? '—'} ms`
			);
			if (couch) {
				log(
					couchMeasured
						? `  CouchDB CPU: mean ${pct(mean(couchCpu))}, p95 ${pct(quantile(couchCpu, 0.95))} of a core; ` +
								`RSS mean ${mb(mean(couchRss))}, peak ${mb(couchRssPeak)}; ` +
								`server and CouchDB together: CPU mean ${pct(mean(serverCpu) + mean(couchCpu))}, RSS peak ${mb(Math.max(0, ...samples.map((x) => (x.rss.server ?? 0) + ofCouch(x.rss))))}`
						: '  CouchDB CPU and memory: not measured (not on this machine)'
				);
			}
			log(
				`  load generator CPU: mean ${pct(mean(workersCpu))}, p95 ${pct(quantile(workersCpu, 0.95))} (${workers.length} processes), ` +
					`RSS peak ${mb(Math.max(0, ...workersRss))}; coordinator ${pct(mean(samplesOf('coordinator')))}`
			);
			log(
				opsReported
					? `  store operations: ${count(opsTotal)} (${count(Math.round(opsTotal / windowSeconds))}/s): ` +
							delta
								.slice(0, 8)
								.map(([k, n]) => `${k} ${count(n)}`)
								.join(', ')
					: '  store operations: not reported (GET /api/metrics did not answer)'
			);
			log(
				missing === 0
					? `  behind after the drain: none ✓`
					: `  behind after the drain: ${behindDevices.length} devices miss ${count(missing)} tickets ✗ (most: ${behindDevices
							.slice(0, 3)
							.map(([n, k]) => `${n} ${k}`)
							.join(', ')})`
			);
			if (f.unexpected > 0) log(`  ✗ ${f.unexpected} tickets reached a device outside their scope`);
			const samplesErr = collected.flatMap((c) => c.errorSamples).slice(0, 5);
			if (samplesErr.length) log(`  first failures: ${samplesErr.join(' | ')}`);
			log();

			const firstSyncMs = first ? first.ms : null;
			summary.push([
				String(A),
				`${ms(quantile(api, 0.5))} / ${ms(apiP95)}`,
				`${ms(quantile(f.lags, 0.5))} / ${ms(fanP95)}`,
				ms(quantile(f.transferLags, 0.95)),
				first ? (firstSyncMs === null ? `> ${s.firstSyncSeconds} s` : ms(firstSyncMs)) : '—',
				calledIn
					? `${count(calledIn.successful)}/${count(callsOffered)}, ${ms(quantile(calledIn.times, 0.95))}`
					: '—',
				`${pct(mean(serverCpu))} / ${pct(quantile(serverCpu, 0.95))}`,
				mb(rssPeak),
				...(couch
					? [couchMeasured ? `${pct(mean(couchCpu))} / ${mb(couchRssPeak)}` : 'not measured']
					: []),
				pct(mean(workersCpu)),
				missing === 0 ? 'none' : `${behindDevices.length} dev, ${count(missing)} tickets`
			]);
			results.push({
				agents: A,
				devices: devices.size,
				devicesNotLive: starting.size,
				windowSeconds,
				calls,
				tickets: created.length,
				errors,
				latency: Object.fromEntries(
					[
						'history',
						'search',
						'changes',
						'bulk_get',
						'revs_diff',
						'bulk_docs',
						'local_get',
						'local_put',
						'info',
						'root'
					].map((k) => [
						k,
						{ n: lat(k).length, p50: quantile(lat(k), 0.5), p95: quantile(lat(k), 0.95) }
					])
				),
				api: { p50: quantile(api, 0.5), p95: apiP95 },
				fanout: {
					deliveries: f.lags.filter(Number.isFinite).length,
					expected: f.expected,
					p50: quantile(f.lags, 0.5),
					p95: fanP95,
					perTicketAllReceiversP95: quantile(f.perTicket, 0.95),
					unexpected: f.unexpected
				},
				transfer: {
					deliveries: f.transferLags.filter(Number.isFinite).length,
					expected: f.transferLags.length,
					p50: quantile(f.transferLags, 0.5),
					p95: quantile(f.transferLags, 0.95)
				},
				firstSync: first,
				hotline: calledIn && {
					offered: callsOffered,
					answered: calledIn.successful,
					failed: calledIn.failed,
					inviteTo200: { p50: quantile(calledIn.times, 0.5), p95: quantile(calledIn.times, 0.95) }
				},
				server: {
					cpuMean: mean(serverCpu),
					cpuP95: quantile(serverCpu, 0.95),
					rssMean: mean(serverRss),
					rssPeak,
					eventLoop: after.eventLoop ?? null
				},
				couchdb: couch && {
					measured: couchMeasured,
					cpuMean: mean(couchCpu),
					cpuP95: quantile(couchCpu, 0.95),
					rssMean: mean(couchRss),
					rssPeak: couchRssPeak
				},
				loadGenerator: {
					cpuMean: mean(workersCpu),
					cpuP95: quantile(workersCpu, 0.95),
					rssPeak: Math.max(0, ...workersRss),
					coordinatorCpuMean: mean(samplesOf('coordinator'))
				},
				storeOperations: opsReported ? Object.fromEntries(delta) : null,
				serverMetrics: after,
				behind: Object.fromEntries(behindDevices),
				targets: {
					apiP95: apiP95 <= TARGETS.apiP95,
					fanoutP95: fanP95 <= TARGETS.fanoutP95,
					firstSync: firstSyncMs !== null && firstSyncMs <= TARGETS.firstSync,
					memory: rssPeak <= TARGETS.memory,
					behind: missing === 0
				}
			});
			writeFigures(null);
		}
	} finally {
		stopping = true;
		sampler.stop();
		phones?.stop();
		for (const w of workers) w.send({ type: 'stop' });
		const code = await server.stop();
		if (code !== 0) log(`  the server exited with ${code}:\n${server.output()}`);
		const profiles = profileDir ? findProfiles(profileDir) : [];
		const origin = profiles[0] ? profileStart(profiles[0].file) : undefined;
		for (const { file: profile, thread } of profiles) {
			const kept = file.replace(/\.json$/, `.thread${thread}.cpuprofile`);
			copyFileSync(profile, kept);
			const windows = profileWindows(
				profile,
				server.startedAt,
				profiled,
				join(ROOT, 'build/server'),
				origin
			);
			const name = thread === profiles[0]!.thread ? 'main thread' : `thread ${thread}`;
			for (const w of windows) {
				log(formatWindow({ ...w, label: `${name}, ${w.label}` }).join('\n') + '\n');
			}
			log(`  profile: ${kept} (open in Chrome DevTools › Performance)`);
		}
		if (process.env.BENCH_KEEP !== '1') rmSync(runDir, { recursive: true, force: true });
	}

	const head = [
		'agents',
		'API p50/p95',
		'fan-out p50/p95',
		'transfer p95',
		'first sync',
		'hotline answered, INVITE→200 p95',
		'server CPU mean/p95',
		'server RSS peak',
		...(couch ? ['CouchDB CPU mean / RSS peak'] : []),
		'load CPU',
		'behind'
	];
	log('| ' + head.join(' | ') + ' |');
	log('|' + head.map(() => '---').join('|') + '|');
	for (const row of summary) log('| ' + row.join(' | ') + ' |');
	log(
		`\nTargets at the last step: API p95 ≤ ${TARGETS.apiP95} ms, fan-out p95 ≤ ${TARGETS.fanoutP95 / 1000} s, first sync ≤ ${TARGETS.firstSync / 1000} s, server memory ≤ 2 GB, nobody behind.`
	);
	const totalSeconds = (performance.now() - runStart) / 1000;
	log(
		`Whole run: ${Math.round(totalSeconds)} s (fixture and copy ${Math.round(fixtureSeconds)} s` +
			(loaded
				? `, loading into CouchDB ${Math.round(loaded.replicateSeconds)} s and its views ${Math.round(loaded.viewsSeconds)} s).`
				: ').')
	);

	writeFigures(totalSeconds);
	log(`Figures: ${file}`);
}

main()
	.finally(async () => {
		for (const end of atEnd) await end();
	})
	.then(
		() => process.exit(0),
		(err: unknown) => {
			console.error(err);
			process.exit(1);
		}
	);
