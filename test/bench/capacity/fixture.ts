/**
 * The capacity benchmark's store (issue #15): a center's 90 days of tickets (default 270,000) and a city's
 * subscribers (default 1,000,000), its agents, department users and field crews — deterministic for a seed,
 * built once into a cache folder and copied for each run.
 *
 * Built the fastest way there is: the server starts once on an empty folder (it creates and provisions its
 * databases, seeds the configuration and the first administrator) and stops; then everything is written
 * straight into the embedded store's LevelDB folders with PouchDB (no HTTP, no server), the search index of
 * the subscribers is filled beside, the views are built and the conflict resolver's checkpoint is set, so
 * that a server started on a copy is caught up at once. A last start and clean stop lets the server build
 * anything else it keeps (and proves the copy starts).
 *
 * Sessions are not part of the cache (they expire): `prepareRun` writes one per user into each run's copy,
 * so the benchmark knows every device's cookie without hundreds of sign-ins.
 *
 * `npx tsx test/bench/capacity/fixture.ts` builds it alone (same BENCH_* variables as the benchmark).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import {
	createWriteStream,
	existsSync,
	mkdirSync,
	readFileSync,
	renameSync,
	rmSync,
	writeFileSync
} from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { once } from 'node:events';
import { generateSubscribers, mulberry32 } from '../../../server/tools/subscribers';
import { hashPassword } from '../../../server/services/accounts/passwords';
import { openCustomerIndex } from '../../../server/services/customer-index';
import type { Change } from '../../../server/store/follow';
import { customerFromRow, type Customer } from '../../../src/lib/shared/customers/customer';
import { buildTicket, type TicketDoc } from '../../../src/lib/shared/tickets/ticket';
import type { TicketEvent, Satisfaction } from '../../../src/lib/shared/tickets/events';
import { isPermission } from '../../../src/lib/shared/permissions';
import { readProc, ROOT, startServer } from './server-process';
import { CENTER, type BenchUser, type FixtureSizes, type Manifest } from './settings';

const require = createRequire(import.meta.url);

interface PouchLike {
	bulkDocs(docs: object[]): Promise<{ error?: string; id?: string }[]>;
	get(id: string): Promise<Record<string, unknown>>;
	put(doc: object): Promise<unknown>;
	info(): Promise<{ update_seq: number | string; doc_count: number }>;
	query(view: string, opts: object): Promise<unknown>;
	close(): Promise<void>;
}
type PouchCtor = new (name: string) => PouchLike;

/** The store's databases as the embedded store opens them (`server/store/embedded.ts`). */
function openStoreDbs(dataDir: string) {
	const PouchDB = require('pouchdb-node') as { defaults(o: object): PouchCtor };
	const Db = PouchDB.defaults({ prefix: join(dataDir, 'store', 'db') + '/' });
	// One handle per database: PouchDB shares the LevelDB of a name, and closing it twice fails.
	const opened = new Map<string, PouchLike>();
	return {
		db(key: string): PouchLike {
			let db = opened.get(key);
			if (db) return db;
			if (!existsSync(join(dataDir, 'store', 'db', `cc_${key}`))) {
				throw new Error(`cc_${key} does not exist under ${dataDir}: the server provisions it`);
			}
			opened.set(key, (db = new Db(`cc_${key}`)));
			return db;
		},
		async close() {
			const all = [...opened.values()];
			opened.clear();
			await Promise.all(all.map((d) => d.close()));
		}
	};
}

async function bulk(db: PouchLike, docs: object[]) {
	const results = await db.bulkDocs(docs);
	const failed = results.filter((r) => r.error);
	if (failed.length > 0) {
		throw new Error(`writing the fixture failed: ${JSON.stringify(failed[0])}`);
	}
}

/** The files whose content decides what the fixture holds (with the sizes and the seed). */
const GENERATORS = [
	'test/bench/capacity/fixture.ts',
	'server/tools/subscribers.ts',
	'src/lib/shared/tickets/ticket.ts',
	'src/lib/shared/customers/customer.ts'
];

export function fixtureKey(sizes: FixtureSizes): string {
	const hash = createHash('sha256').update(JSON.stringify(sizes));
	for (const file of GENERATORS) hash.update(readFileSync(join(ROOT, file), 'utf8'));
	return hash.digest('hex').slice(0, 16);
}

const BENCH_PASSWORD = 'bench-password-15';
/** The ticket views behind the requests the benchmark makes (`GET /api/tickets/history`). */
const TICKET_VIEWS = ['tickets_by_caller', 'tickets_by_customer'];
const ADMIN_PASSWORD = 'bench-admin-15';
/** The extra department the seed lacks: the benchmark transfers to eight. */
const EXTRA_DEPARTMENT = {
	_id: 'department:quality',
	type: 'department',
	name: '质检部',
	parentId: null,
	isCenter: false,
	order: 9
};
const CREW_DEPARTMENTS = ['department:engineering-install', 'department:network'];
const SERVICE_TYPES = [
	{ id: 'serviceType:repair', callback: true },
	{ id: 'serviceType:inquiry', callback: false },
	{ id: 'serviceType:complaint', callback: true },
	{ id: 'serviceType:billing', callback: false }
];
const CATEGORIES = [
	'contentCategory:digital',
	'contentCategory:analog',
	'contentCategory:broadband',
	'contentCategory:other'
];
const CONTENTS = [
	'用户来电反映机顶盒无信号，已指导重启，仍无法收看',
	'咨询高清频道包资费及开通方式',
	'宽带断线，光猫指示灯红色闪烁',
	'投诉上门安装人员迟到两小时',
	'询问欠费停机后如何恢复收视',
	'遥控器失灵，申请更换',
	'部分频道画面马赛克严重',
	'办理报停，下月起暂停收视'
];
const SATISFACTIONS: Satisfaction[] = [
	'satisfied',
	'satisfied',
	'satisfied',
	'neutral',
	'dissatisfied'
];

/** A UUID v7 of time `t` with the rest from the seeded generator (the ids a browser would make). */
function uuid7(t: number, rnd: () => number): string {
	const hex = (n: number) => {
		let s = '';
		for (let i = 0; i < n; i++) s += Math.floor(rnd() * 16).toString(16);
		return s;
	};
	const h = t.toString(16).padStart(12, '0');
	return `${h.slice(0, 8)}-${h.slice(8)}-7${hex(3)}-${(8 + Math.floor(rnd() * 4)).toString(16)}${hex(3)}-${hex(12)}`;
}

function users(sizes: FixtureSizes, departments: string[], crews: Manifest['crews']): BenchUser[] {
	const out: BenchUser[] = [];
	const pad = (n: number) => String(n).padStart(3, '0');
	for (let i = 1; i <= sizes.agents; i++) {
		out.push(user(`agent${pad(i)}`, 'agent', CENTER));
	}
	for (let i = 1; i <= sizes.spareAgents; i++) out.push(user(`fresh${pad(i)}`, 'spare', CENTER));
	departments.forEach((d, i) => {
		for (let k = 1; k <= sizes.usersPerDepartment; k++) {
			out.push(user(`dept${i + 1}u${k}`, 'department', d));
		}
	});
	for (const crew of crews) {
		for (const id of crew.memberIds) {
			const u = user(id.slice('user:'.length), 'crew', crew.departmentId);
			u.crewIds = [crew.id];
			out.push(u);
		}
	}
	return out;

	function user(username: string, kind: BenchUser['kind'], departmentId: string): BenchUser {
		return { username, id: `user:${username}`, kind, departmentId, crewIds: [] };
	}
}

/** The center's tickets of `days` days up to `end`, oldest first, `batch` at a time. */
function* tickets(
	sizes: FixtureSizes,
	end: number,
	people: BenchUser[],
	departments: string[],
	crews: Manifest['crews'],
	callers: { phone: string; id: string }[],
	counts: Manifest['counts'],
	batch = 5000
): Generator<TicketDoc[]> {
	const rnd = mulberry32(sizes.seed * 104_729 + 7);
	const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
	const agents = people.filter((u) => u.kind === 'agent');
	const byDepartment = new Map(
		departments.map((d) => [
			d,
			people.filter((u) => u.kind === 'department' && u.departmentId === d)
		])
	);
	const HOUR = 3_600_000;
	const DAY = 24 * HOUR;
	const start = end - sizes.days * DAY;
	const numbers = new Map<string, number>();
	let out: TicketDoc[] = [];
	for (let i = 0; i < sizes.tickets; i++) {
		// Evenly over the period, a little jitter, never later than an hour before the end.
		const t = Math.min(
			end - HOUR,
			Math.floor(start + ((i + rnd()) / sizes.tickets) * (end - start - HOUR))
		);
		const agentIndex = Math.floor(rnd() * agents.length);
		const agent = agents[agentIndex]!;
		const caller = pick(callers);
		const service = pick(SERVICE_TYPES);
		const day = new Date(t).toISOString().slice(0, 10).replaceAll('-', '');
		const key = `${day}-${agentIndex}`;
		const n = (numbers.get(key) ?? 0) + 1;
		numbers.set(key, n);
		const at = (ms: number) => new Date(t + ms).toISOString();
		const ev = (ms: number) => ({ id: uuid7(t + ms, rnd), at: at(ms) });
		const events: TicketEvent[] = [
			{
				...ev(0),
				type: 'created',
				by: agent.id,
				number: `${day}-B${String(agentIndex).padStart(3, '0')}-${String(n).padStart(4, '0')}`,
				callerNumber: caller.phone,
				customerIds: [caller.id],
				departmentId: CENTER,
				serviceTypeId: service.id,
				contentCategoryId: pick(CATEGORIES),
				content: pick(CONTENTS),
				callbackRequired: service.callback
			}
		];
		const age = end - t;
		let resolved = false;
		let last = 1;
		if (rnd() < 0.3) {
			counts.transferred += 1;
			const department = pick(departments);
			const handlers = byDepartment.get(department)!;
			events.push({
				...ev(1),
				type: 'transferred',
				by: agent.id,
				toDepartmentId: department,
				flowId: null,
				note: '请协助处理'
			});
			// Older tickets were handled (nearly all); some of the last day's still wait at the department.
			if (rnd() < (age > DAY ? 0.97 : 0.5)) {
				const handler = pick(handlers);
				const crewsHere = crews.filter((c) => c.departmentId === department);
				if (crewsHere.length > 0 && rnd() < 0.4) {
					const crew = pick(crewsHere);
					events.push({
						...ev(HOUR),
						type: 'dispatched',
						by: handler.id,
						crewId: crew.id,
						from: at(2 * HOUR),
						to: at(4 * HOUR),
						note: '',
						customers: [{ id: caller.id, name: '用户', address: '', phones: [caller.phone] }]
					});
					events.push({
						...ev(3 * HOUR),
						type: 'workStep',
						by: crew.memberIds[0]!,
						step: 'done'
					});
				}
				events.push({
					...ev(4 * HOUR),
					type: 'handled',
					by: handler.id,
					departmentId: department,
					note: '已处理完毕',
					nextDepartmentId: null
				});
				resolved = true;
				last = 4 * HOUR;
			}
		} else {
			events.push({ ...ev(1), type: 'closedAtCenter', by: agent.id, note: '' });
			resolved = true;
		}
		if (resolved && service.callback && t + last + DAY < end && rnd() < 0.95) {
			events.push({
				...ev(last + DAY),
				type: 'callback',
				by: pick(agents).id,
				satisfaction: pick(SATISFACTIONS),
				note: ''
			});
		}
		const ticket = buildTicket(`ticket:${uuid7(t, rnd)}`, events, CENTER);
		if (ticket.status !== 'closed') counts.open += 1;
		counts.tickets += 1;
		out.push(ticket);
		if (out.length === batch) {
			yield out;
			out = [];
		}
	}
	if (out.length > 0) yield out;
}

/** Writes the fixture into `dir` (a fresh folder); returns its manifest. */
async function build(
	dir: string,
	sizes: FixtureSizes,
	log: (s: string) => void
): Promise<Manifest> {
	const t0 = performance.now();
	const dataDir = join(dir, 'data');
	mkdirSync(dataDir, { recursive: true });
	const lap = (what: string, since: number) =>
		log(`  fixture: ${what} in ${((performance.now() - since) / 1000).toFixed(1)} s`);

	// 1. The server creates, provisions and seeds its store, and the first administrator.
	let t = performance.now();
	const first = await startServer({ dataDir, env: { ADMIN_PASSWORD } });
	await first.stop();
	lap('provisioned by the server', t);

	const store = openStoreDbs(dataDir);
	try {
		const config = store.db('config');
		const departments = (
			await (
				config as unknown as {
					allDocs(o: object): Promise<{ rows: { id: string; doc: { isCenter?: boolean } }[] }>;
				}
			).allDocs({ startkey: 'department:', endkey: 'department:\uffff', include_docs: true })
		).rows
			.filter((r) => !r.doc.isCenter)
			.map((r) => r.id);
		const extra = departments.length < sizes.departments ? [EXTRA_DEPARTMENT] : [];
		departments.push(...extra.map((d) => d._id));
		departments.splice(sizes.departments);
		if (departments.length < sizes.departments) {
			throw new Error(
				`the seed has ${departments.length} departments, ${sizes.departments} needed`
			);
		}
		const crews: Manifest['crews'] = Array.from({ length: sizes.crews }, (_, i) => ({
			id: `crew:bench-${i + 1}`,
			departmentId: CREW_DEPARTMENTS[i % CREW_DEPARTMENTS.length]!,
			memberIds: Array.from(
				{ length: sizes.membersPerCrew },
				(_, k) => `user:crew${i + 1}m${k + 1}`
			)
		}));
		const now = new Date().toISOString();
		await bulk(config, [
			...extra.map((d) => ({ ...d, updatedAt: now })),
			...crews.map((c, i) => ({
				_id: c.id,
				type: 'crew',
				name: `施工${i + 1}队`,
				departmentId: c.departmentId,
				memberIds: c.memberIds,
				updatedAt: now
			}))
		]);

		// 2. Users: one password hash for all (argon2 is slow on purpose).
		t = performance.now();
		const people = users(sizes, departments, crews);
		const hash = await hashPassword(BENCH_PASSWORD);
		const roleOf = { agent: 'agent', spare: 'agent', department: 'department', crew: 'crew' };
		const permissions = new Map<string, string[]>();
		for (const key of new Set(Object.values(roleOf))) {
			const role = (await config.get(`role:${key}`)) as { permissions: string[] };
			permissions.set(key, role.permissions.filter(isPermission));
		}
		await bulk(
			store.db('users'),
			people.map((u, i) => ({
				_id: u.id,
				type: 'user',
				username: u.username,
				name: `压测 ${u.username}`,
				departmentId: u.departmentId,
				birthDate: '1990-01-01',
				phone: '13800000000',
				email: '',
				status: 'active',
				roleId: `role:${roleOf[u.kind]}`,
				permissions: permissions.get(roleOf[u.kind]),
				agentId: u.kind === 'agent' || u.kind === 'spare' ? String(8000 + i) : null,
				passwordHash: hash,
				mustChangePassword: false,
				createdAt: now,
				updatedAt: now
			}))
		);
		lap(`${people.length} users`, t);

		// 3. Subscribers, and their search index beside (what the server's indexer would build from them).
		t = performance.now();
		const customers = store.db('customers');
		const index = openCustomerIndex(join(dataDir, 'customer-index.sqlite'));
		const callers: { phone: string; id: string }[] = [];
		const phones = createWriteStream(join(dir, 'phones.tsv'));
		let docs: Customer[] = [];
		const flush = async () => {
			await bulk(customers, docs);
			index.apply(
				docs.map((doc) => ({ id: doc._id, seq: 0, doc }) as Change<Customer>),
				index.seq()
			);
			docs = [];
		};
		for (const row of generateSubscribers({
			count: sizes.subscribers,
			source: 'digital',
			seed: sizes.seed
		})) {
			const result = customerFromRow('digital', { ...row }, now);
			if (!result.ok) continue;
			docs.push(result.customer);
			// The number as the caller's line shows it (the first one), in the export's own format.
			const phone = row.phones.split(';')[0]!;
			callers.push({ phone, id: result.customer._id });
			if (!phones.write(`${phone}\t${result.customer._id}\n`)) await once(phones, 'drain');
			if (docs.length === 5000) await flush();
		}
		if (docs.length > 0) await flush();
		phones.end();
		await once(phones, 'finish');
		const customersSeq = (await customers.info()).update_seq;
		index.apply([], String(customersSeq));
		index.close();
		lap(`${callers.length} subscribers and their search index`, t);

		// 4. Tickets.
		t = performance.now();
		const end = Date.now();
		const counts = { tickets: 0, transferred: 0, open: 0, customers: callers.length };
		const ticketDb = store.db('tickets');
		for (const batch of tickets(sizes, end, people, departments, crews, callers, counts)) {
			await bulk(ticketDb, batch);
		}
		// The conflict resolver has nothing to merge in them: it starts after them.
		const ticketsSeq = (await ticketDb.info()).update_seq;
		const resolver = await ticketDb.get('_local/ticket-resolver').catch(() => ({}));
		await ticketDb.put({ ...resolver, _id: '_local/ticket-resolver', seq: String(ticketsSeq) });
		lap(`${counts.tickets} tickets (${counts.transferred} transferred, ${counts.open} open)`, t);

		// 5. The views the benchmark's requests query, built now rather than by the first request that
		// needs them (PouchDB maps about 500 tickets a second per view: the other ticket views, which only
		// lists and statistics use, would cost the build most of an hour at 270,000 tickets).
		t = performance.now();
		for (const key of ['tickets', 'users', 'config']) {
			const db = store.db(key);
			const ddoc = (await db.get('_design/app').catch(() => null)) as {
				views?: Record<string, unknown>;
			} | null;
			const views = Object.keys(ddoc?.views ?? {}).filter(
				(v) => key !== 'tickets' || TICKET_VIEWS.includes(v)
			);
			// Side by side: each view is its own index, and the store's reads and writes overlap.
			await Promise.all(
				views.map(async (view) => {
					const tv = performance.now();
					await db.query(`app/${view}`, { limit: 0 });
					if (key === 'tickets') lap(`view ${key}/${view}`, tv);
				})
			);
		}
		lap('views built', t);

		await store.close();

		// 6. The server starts once on it (and builds whatever else it keeps), and stops cleanly.
		t = performance.now();
		const warm = await startServer({ dataDir, env: { ADMIN_PASSWORD } });
		await waitCaughtUp(warm.url, warm.pid, counts.customers, log);
		await warm.stop();
		lap('first start of the server on it, caught up, stopped', t);

		return {
			sizes,
			builtAt: new Date(end).toISOString(),
			buildSeconds: Math.round((performance.now() - t0) / 1000),
			adminPassword: ADMIN_PASSWORD,
			departments,
			crews,
			users: people,
			phonesFile: 'phones.tsv',
			counts
		};
	} catch (err) {
		await store.close().catch(() => {});
		throw err;
	}
}

/**
 * Waits until the server has indexed every subscriber and is idle (below 10 % of a core for 3 s in a row:
 * nothing left to build or follow); returns how long that took.
 */
export async function waitCaughtUp(
	url: string,
	pid: number,
	customers: number,
	log: (s: string) => void,
	timeoutMs = 1_800_000
): Promise<number> {
	const t0 = performance.now();
	const res = await fetch(`${url}/api/session`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', origin: url },
		body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD })
	});
	if (!res.ok) throw new Error(`admin sign-in failed: ${res.status} ${await res.text()}`);
	const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
	let quiet = 0;
	let cpu = readProc(pid)?.cpuSeconds ?? 0;
	let shown = 0;
	for (;;) {
		await new Promise((r) => setTimeout(r, 1000));
		const now = readProc(pid)?.cpuSeconds ?? 0;
		const busy = now - cpu;
		cpu = now;
		const count = await fetch(`${url}/api/customers/status`, { headers: { cookie } })
			.then((r) => r.json() as Promise<{ count: number }>)
			.then((b) => b.count)
			.catch(() => -1);
		quiet = count >= customers && busy < 0.1 ? quiet + 1 : 0;
		if (quiet >= 3) return performance.now() - t0;
		if (performance.now() - t0 > timeoutMs) {
			throw new Error(`the server was not caught up after ${timeoutMs / 1000} s`);
		}
		if (performance.now() - t0 - shown > 30_000) {
			shown = performance.now() - t0;
			log(
				`  … catching up: ${count} of ${customers} subscribers searchable, CPU ${Math.round(busy * 100)} %`
			);
		}
	}
}

export interface Fixture {
	dir: string;
	manifest: Manifest;
	/** Seconds spent building it now; null when the cache had it. */
	builtSeconds: number | null;
}

/** The fixture of these sizes from the cache, built first when missing or older than `maxAgeDays`. */
export async function ensureFixture(
	sizes: FixtureSizes,
	cacheRoot: string,
	maxAgeDays: number,
	log: (s: string) => void = console.log
): Promise<Fixture> {
	const dir = join(cacheRoot, fixtureKey(sizes));
	const manifestFile = join(dir, 'manifest.json');
	if (existsSync(manifestFile)) {
		const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
		const ageDays = (Date.now() - Date.parse(manifest.builtAt)) / 86_400_000;
		if (ageDays <= maxAgeDays) return { dir, manifest, builtSeconds: null };
		log(`  fixture: ${dir} is ${ageDays.toFixed(1)} days old: its window has moved; rebuilding`);
	}
	if (!existsSync(join(ROOT, 'build/server/index.js'))) {
		throw new Error('build/server/index.js is missing: run npm run build first');
	}
	log(`  fixture: building ${dir}`);
	const building = `${dir}.building-${process.pid}`;
	rmSync(building, { recursive: true, force: true });
	mkdirSync(building, { recursive: true });
	const manifest = await build(building, sizes, log);
	writeFileSync(join(building, 'manifest.json'), JSON.stringify(manifest, null, '\t'));
	rmSync(dir, { recursive: true, force: true });
	renameSync(building, dir);
	return { dir, manifest, builtSeconds: manifest.buildSeconds };
}

export interface PreparedRun {
	dataDir: string;
	/** `cc_session=<token>` of every fixture user, by user id (and the administrator's). */
	cookies: Map<string, string>;
	copySeconds: number;
}

/** A copy of the fixture's data folder under `runDir`, with a fresh session for every user. */
export async function prepareRun(fixture: Fixture, runDir: string): Promise<PreparedRun> {
	const t0 = performance.now();
	mkdirSync(runDir, { recursive: true });
	const dataDir = join(runDir, 'data');
	execFileSync('cp', ['-a', '--reflink=auto', join(fixture.dir, 'data'), dataDir]);
	const copySeconds = (performance.now() - t0) / 1000;
	const cookies = new Map<string, string>();
	const now = new Date();
	const docs = ['user:admin', ...fixture.manifest.users.map((u) => u.id)].map((userId) => {
		const token = randomBytes(32).toString('base64url');
		cookies.set(userId, `cc_session=${token}`);
		return {
			_id: `session:${createHash('sha256').update(token).digest('hex')}`,
			type: 'session',
			userId,
			createdAt: now.toISOString(),
			lastSeenAt: now.toISOString(),
			expiresAt: new Date(now.getTime() + 7 * 86_400_000).toISOString()
		};
	});
	const store = openStoreDbs(dataDir);
	try {
		await bulk(store.db('users'), docs);
	} finally {
		await store.close();
	}
	return { dataDir, cookies, copySeconds };
}

export { ADMIN_PASSWORD };

// `npx tsx test/bench/capacity/fixture.ts`: builds the fixture of the BENCH_* sizes into the cache only.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
	const { benchSettings } = await import('./settings');
	const s = benchSettings();
	const fixture = await ensureFixture(s.sizes, s.cacheRoot, s.cacheMaxAgeDays);
	console.log(
		`fixture ${fixture.dir}: ${fixture.builtSeconds === null ? 'in the cache' : `built in ${fixture.builtSeconds} s`}`
	);
}
