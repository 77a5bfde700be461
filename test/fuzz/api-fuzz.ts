/**
 * Issue #13 fuzzing: every API route of the running app (read from the app itself, so a new route is never
 * left out) and every `/sync` and `/replicate` endpoint, driven with generated input (fast-check) — paths,
 * queries, JSON and garbage bodies — as nobody and as a signed-in user of each role. After each request:
 * no 5xx; and when it was refused (4xx), no database changed. Unhandled rejections and uncaught
 * exceptions of the process are counted and fail the run. Used by `npm run fuzz` (10,000 inputs per route)
 * and by `test/integration/fuzz.test.ts` (a smaller count in `npm test`).
 */
import fc from 'fast-check';
import { DB_KEYS, type DbKey } from '../../server/store';
import type { TestServer } from '../helpers/server';

export interface RouteStats {
	route: string;
	runs: number;
	/** Answers by status class and code, e.g. `401`, `200`. */
	statuses: Record<string, number>;
	ms: number;
}

export interface FuzzReport {
	routes: RouteStats[];
	requests: number;
	failures: string[];
	unhandled: number;
	ms: number;
}

/** The branch office the fuzz server serves (`BRANCHES`), so `/replicate` is fuzzed signed in too. */
export const FUZZ_BRANCH = { name: 'fuzz', key: 'fuzz-branch-key-0123456789' };
export const FUZZ_ENV = {
	BRANCHES: `${FUZZ_BRANCH.name}=${FUZZ_BRANCH.key}@department:business-east`,
	// Long idle timeout: session use is written at most every 5 minutes, never by a refused request.
	SESSION_IDLE_MINUTES: '1440',
	LOGIN_MAX_FAILURES: '1000'
};

const ROLES = ['admin', 'leader', 'agent', 'department', 'crew', 'mustChange', 'none'] as const;
type Role = (typeof ROLES)[number];

/** Strings an attacker tries first, besides random ones. */
const NASTY = [
	'',
	' ',
	'../../etc/passwd',
	'%00',
	'\u0000',
	'<script>alert(1)</script>',
	'"},{"x":"',
	"' OR 1=1 --",
	'x'.repeat(5000),
	'-1',
	'1e309',
	'NaN',
	'true',
	'null',
	'[]',
	'{}',
	'_design/app',
	'_local/x',
	'_all_docs',
	'user:admin',
	'user:fuzzvictim',
	'department:center',
	'department:engineering',
	'role:agent',
	'role:admin',
	'ticket:fuzz-1',
	'att:ticket:fuzz-1:p',
	'crew:none',
	'2026-01-01',
	'1999-12-31T23:59:59.999Z',
	'13800000000',
	'+8657188887777',
	'96000',
	'1001',
	'department',
	'crew',
	'role',
	'flow',
	'phrase',
	'serviceType',
	'contentCategory',
	'digital',
	'analog',
	'ABC',
	'A1B-0C9'
];

const QUERY_KEYS = [
	'q',
	'field',
	'match',
	'source',
	'from',
	'to',
	'status',
	'departmentId',
	'serviceTypeId',
	'contentCategoryId',
	'agent',
	'overdue',
	'by',
	'phone',
	'customerId',
	'page',
	'pageSize',
	'sort',
	'dir',
	'roleId',
	'actor',
	'action',
	'target',
	'limit',
	'format',
	'rev',
	'key',
	'user',
	'everywhere',
	'since',
	'feed',
	'heartbeat',
	'timeout',
	'include_docs',
	'conflicts',
	'style',
	'filter',
	'doc_ids',
	'revs',
	'open_revs',
	'latest',
	'attachments',
	'selector',
	'view'
];

const BODY_FIELDS = [
	'username',
	'password',
	'currentPassword',
	'newPassword',
	'name',
	'departmentId',
	'birthDate',
	'phone',
	'email',
	'roleId',
	'agentId',
	'permissions',
	'status',
	'_rev',
	'_id',
	'state',
	'reason',
	'deskPhone',
	'callId',
	'parentId',
	'order',
	'type',
	'members',
	'memberIds',
	'crewId',
	'departmentIds',
	'stage',
	'text',
	'callbackRequired',
	'pending',
	'held',
	'refused',
	'lastSyncedAt',
	'client',
	'docs',
	'new_edits',
	'keys',
	'doc_ids',
	'events',
	'visibleTo',
	'extension'
];

const EVENT_TYPES = [
	'created',
	'closedAtCenter',
	'transferred',
	'handled',
	'callback',
	'closed',
	'comment',
	'dispatched',
	'workStep',
	'attached',
	'deleted'
];

const text = fc.oneof(
	{ weight: 3, arbitrary: fc.constantFrom(...NASTY) },
	{ weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
	{ weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) }
);
const scalar = fc.oneof(
	text,
	fc.integer(),
	fc.double(),
	fc.boolean(),
	fc.constant(null),
	fc.date({ noInvalidDate: true }).map((d) => d.toISOString())
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
	value: fc.oneof(
		{ depthSize: 'small', withCrossShrink: true },
		scalar,
		fc.array(tie('value'), { maxLength: 4 }),
		fc.dictionary(fc.constantFrom(...BODY_FIELDS, 'x'), tie('value'), { maxKeys: 4 })
	)
})).value;

const event = fc.record(
	{
		id: text,
		type: fc.constantFrom(...EVENT_TYPES),
		at: fc.oneof(
			fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
			text
		),
		by: fc.constantFrom('user:admin', 'user:fuzzagent', 'user:fuzzvictim', 'user:nobody'),
		number: text,
		callerNumber: text,
		customerIds: fc.array(text, { maxLength: 3 }),
		departmentId: text,
		toDepartmentId: text,
		nextDepartmentId: fc.option(text),
		crewId: text,
		step: fc.constantFrom('accepted', 'onTheWay', 'done', 'failed', 'x'),
		note: text,
		content: text,
		serviceTypeId: fc.option(text),
		contentCategoryId: fc.option(text),
		callbackRequired: fc.boolean(),
		attachmentId: text,
		contentType: fc.constantFrom('image/jpeg', 'image/svg+xml', 'text/html'),
		from: text,
		to: text,
		customers: fc.constant([])
	},
	{ requiredKeys: ['id', 'type', 'at', 'by'] }
);

/** Documents as a device (or an attacker posing as one) pushes them. */
const doc = fc.record(
	{
		_id: fc.oneof(
			fc.constantFrom('ticket:fuzz-1', 'ticket:fuzz-new', 'att:ticket:fuzz-1:p', '_design/app'),
			text
		),
		_rev: fc.oneof(fc.constantFrom('1-a', '2-b', '1-0123456789abcdef0123456789abcdef'), text),
		_deleted: fc.boolean(),
		_revisions: fc.record({ start: fc.integer({ min: -1, max: 5 }), ids: fc.array(text) }),
		_attachments: fc.dictionary(
			fc.constantFrom('photo', 'x'),
			fc.record({ content_type: text, data: fc.base64String({ maxLength: 64 }) })
		),
		type: fc.constantFrom('ticket', 'att', 'user', 'department', 'x'),
		events: fc.array(event, { maxLength: 4 }),
		visibleTo: fc.array(
			fc.oneof(fc.constantFrom('department:center', 'user:fuzzagent', 'crew:x'), text),
			{ maxLength: 3 }
		),
		ticketId: text,
		by: fc.constantFrom('user:fuzzagent', 'user:admin'),
		updatedAt: text
	},
	{ requiredKeys: ['_id'] }
);

/** A JSON body, usually shaped like the API's, sometimes not JSON at all. */
const body = fc.oneof(
	{ weight: 5, arbitrary: fc.dictionary(fc.constantFrom(...BODY_FIELDS), value, { maxKeys: 6 }) },
	{
		weight: 2,
		arbitrary: fc.record({ docs: fc.array(doc, { maxLength: 4 }), new_edits: fc.boolean() })
	},
	{ weight: 1, arbitrary: value },
	{ weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => ({ raw: s })) },
	{ weight: 2, arbitrary: fc.constant({ raw: '{"unterminated": ' }) }
);

const query = fc.dictionary(fc.constantFrom(...QUERY_KEYS), text, { maxKeys: 5 });
const segment = fc.oneof(
	{ weight: 3, arbitrary: fc.constantFrom(...NASTY) },
	{ weight: 1, arbitrary: text }
);

/** One generated request for a route pattern like `/api/users/:id/status`. */
/** Roles, the all-powerful one more often: most of the code is behind its permissions. */
const role = fc.oneof(
	{ weight: 3, arbitrary: fc.constant<Role>('admin') },
	{ weight: 4, arbitrary: fc.constantFrom(...ROLES) }
);

const requestFor = (method: string, pattern: string) =>
	fc.record({
		role,
		method: fc.oneof(
			{ weight: 9, arbitrary: fc.constant(method) },
			{ weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH') }
		),
		params: fc.array(segment, { minLength: 4, maxLength: 4 }),
		query,
		body: fc.option(body, { freq: 3 }),
		contentType: fc.constantFrom('application/json', 'text/plain', 'multipart/form-data'),
		pattern: fc.constant(pattern)
	});

const SYNC_ENDPOINTS = [
	'',
	'_changes',
	'_bulk_get',
	'_bulk_docs',
	'_revs_diff',
	'_local/fuzz',
	'_all_docs',
	'_find',
	'_design/app',
	'_security',
	'ticket:fuzz-1',
	'att:ticket:fuzz-1:p/photo',
	'_session'
];
/** A request to a replication door (`/sync` or `/replicate`). */
const replicationRequest = (mount: string) =>
	fc.record({
		role,
		method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD'),
		db: fc.oneof(
			fc.constantFrom('tickets', 'config', 'users', 'audit', 'customers', 'calls'),
			segment
		),
		endpoint: fc.oneof(fc.constantFrom(...SYNC_ENDPOINTS), segment),
		query,
		body: fc.option(
			fc.oneof(
				body,
				fc.record({
					docs: fc.array(
						fc.record({ id: fc.oneof(fc.constantFrom('ticket:fuzz-1'), text), rev: text }),
						{ maxLength: 5 }
					)
				}),
				fc.dictionary(text, fc.array(text, { maxLength: 3 }), { maxKeys: 3 })
			),
			{ freq: 2 }
		),
		mount: fc.constant(mount)
	});

interface Sent {
	method: string;
	path: string;
	headers: Record<string, string>;
	body?: string;
}

function substitute(pattern: string, params: string[]): string {
	let i = 0;
	return pattern.replace(/:[A-Za-z]+/g, () => encodeURIComponent(params[i++ % params.length]!));
}

function encodeBody(b: unknown): string | undefined {
	if (b === null || b === undefined) return undefined;
	if (typeof b === 'object' && b !== null && 'raw' in b && Object.keys(b).length === 1) {
		return String((b as { raw: unknown }).raw);
	}
	return JSON.stringify(b);
}

/** The fuzz run's accounts: the user of each role ('none': anonymous). */
async function createRoles(server: TestServer): Promise<Record<Role, string | null>> {
	const make = async (username: string, roleKey: string, extra: object = {}) => {
		await server.createUser({ username, roleKey, ...extra });
		return `user:${username}`;
	};
	await server.runtime.deps.accounts.addUser(
		{
			username: 'fuzzfresh',
			name: '一次性',
			departmentId: 'department:center',
			roleId: 'role:agent',
			agentId: '',
			birthDate: '1990-01-01',
			phone: '13800000000',
			email: ''
		},
		'user:admin'
	);
	// Someone to be the target of administration (never one of the signed-in roles).
	await make('fuzzvictim', 'agent');
	return {
		admin: 'user:admin',
		leader: await make('fuzzleader', 'leader'),
		agent: await make('fuzzagent', 'agent', { agentId: '7001' }),
		department: await make('fuzzdept', 'department', { departmentId: 'department:engineering' }),
		crew: await make('fuzzcrew', 'crew', { departmentId: 'department:engineering' }),
		mustChange: 'user:fuzzfresh',
		none: null
	};
}

/** Every route the app serves (method and path pattern), from the app itself. */
export function apiRoutes(server: TestServer): { method: string; path: string }[] {
	const seen = new Map<string, { method: string; path: string }>();
	for (const r of server.runtime.app.routes) {
		if (r.method === 'ALL') continue;
		seen.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
	}
	return [...seen.values()];
}

export async function fuzzServer({
	server,
	runs,
	seed = 20261130,
	log = () => {}
}: {
	server: TestServer;
	runs: number;
	seed?: number;
	log?: (line: string) => void;
}): Promise<FuzzReport> {
	const started = Date.now();
	const users = await createRoles(server);
	const { store } = server.runtime;
	const { sessions } = server.runtime.deps;
	/**
	 * A live session cookie per role. The fuzz signs roles out (DELETE /api/session, sign-out everywhere,
	 * password resets): a role whose session ended gets a new one before its next request.
	 */
	const tokens = new Map<Role, string>();
	async function cookieOf(role: Role): Promise<string | null> {
		const userId = users[role];
		if (!userId) return null;
		let token = tokens.get(role);
		if (!token || !(await sessions.peek(token))) {
			token = await sessions.create(userId);
			tokens.set(role, token);
		}
		return `cc_session=${token}`;
	}
	let unhandled = 0;
	const onUnhandled = (err: unknown) => {
		unhandled += 1;
		log(`unhandled: ${String(err)}`);
	};
	process.on('unhandledRejection', onUnhandled);
	process.on('uncaughtException', onUnhandled);

	/** update_seq of every database, in one round. */
	const seqs = async () =>
		Promise.all(DB_KEYS.map(async (key) => String(await store.db(key).updateSeq())));
	/** Documents changed since `since` in one database, other than sessions (their use is written aside). */
	async function changedSince(key: DbKey, since: string): Promise<string[]> {
		const body = await store.db(key).changes({ since });
		// Background writes of the server itself: session touches, the singletons' lease renewals.
		return body.results
			.map((r) => r.id)
			.filter((id) => !id.startsWith('session:') && !id.startsWith('lease:'));
	}

	/**
	 * What the store held when it was last quiet: its databases' update_seq and its write count. A refused
	 * request is checked by the write count (cheap); only when it moved are the changed documents read.
	 */
	let base = { seqs: await seqs(), writes: store.writes() };
	/** Waits until the store has stopped writing (what an accepted request set off), then re-reads it. */
	async function settle() {
		let last = store.writes();
		for (let i = 0; i < 50; i++) {
			await new Promise((r) => setTimeout(r, 20));
			const now = store.writes();
			if (now === last) break;
			last = now;
		}
		base = { seqs: await seqs(), writes: store.writes() };
	}
	const failures: string[] = [];
	let requests = 0;

	async function send(sent: Sent): Promise<number> {
		requests += 1;
		const init: RequestInit = {
			method: sent.method,
			headers: sent.headers,
			signal: AbortSignal.timeout(5_000),
			...(sent.body !== undefined && sent.method !== 'GET' && sent.method !== 'HEAD'
				? { body: sent.body }
				: {})
		};
		let res: Response;
		try {
			res = await server.runtime.app.request(sent.path, init);
		} catch (err) {
			// A live feed or event stream that never answered within the time: not a failure.
			if (/_changes|\/events/.test(sent.path)) return 0;
			throw new Error(`no answer: ${(err as Error).message}`, { cause: err });
		}
		if (res.headers.get('content-type')?.includes('event-stream') || /feed=/.test(sent.path)) {
			await res.body?.cancel().catch(() => {});
		} else {
			await res.arrayBuffer().catch(() => null);
		}
		return res.status;
	}

	async function check(label: string, sent: Sent, stats: RouteStats) {
		if (base.writes === null || store.writes() !== base.writes) await settle();
		const status = await send(sent);
		stats.statuses[String(status)] = (stats.statuses[String(status)] ?? 0) + 1;
		const what = `${label}: ${sent.method} ${sent.path.slice(0, 200)} → ${status}`;
		if (status >= 500) throw new Error(`${what} (server error)`);
		if (status >= 400 && (base.writes === null || store.writes() !== base.writes)) {
			const after = await seqs();
			for (const [i, key] of DB_KEYS.entries()) {
				if (after[i] === base.seqs[i]) continue;
				const changed = await changedSince(key, base.seqs[i]!);
				if (changed.length > 0) {
					throw new Error(`${what} refused, but ${key} changed: ${changed.slice(0, 5).join(', ')}`);
				}
			}
			base = { seqs: after, writes: store.writes() };
		}
		if (unhandled > 0) throw new Error(`${what}: an unhandled rejection or exception`);
	}

	const headersFor = async (
		role: Role,
		contentType: string,
		extra: Record<string, string> = {}
	) => {
		const cookie = await cookieOf(role);
		return {
			origin: 'http://localhost',
			host: 'localhost',
			'content-type': contentType,
			...(cookie ? { cookie } : {}),
			...extra
		};
	};

	const plans: { label: string; stats: RouteStats; property: fc.IAsyncProperty<[unknown]> }[] = [];
	for (const { method, path } of apiRoutes(server)) {
		const label = `${method} ${path}`;
		const stats: RouteStats = { route: label, runs: 0, statuses: {}, ms: 0 };
		plans.push({
			label,
			stats,
			property: fc.asyncProperty(requestFor(method, path), async (r) => {
				stats.runs += 1;
				const qs = new URLSearchParams(r.query).toString();
				await check(
					label,
					{
						method: r.method,
						path: substitute(r.pattern, r.params) + (qs ? `?${qs}` : ''),
						headers: await headersFor(r.role, r.contentType),
						...(r.body === null ? {} : { body: encodeBody(r.body) })
					},
					stats
				);
			}) as fc.IAsyncProperty<[unknown]>
		});
	}
	for (const mount of ['/sync', '/replicate']) {
		const label = `${mount}/<db>/<endpoint>`;
		const stats: RouteStats = { route: label, runs: 0, statuses: {}, ms: 0 };
		plans.push({
			label,
			stats,
			property: fc.asyncProperty(replicationRequest(mount), async (r) => {
				stats.runs += 1;
				const qs = new URLSearchParams(r.query).toString();
				const auth: Record<string, string> =
					mount === '/replicate' && r.role !== 'none'
						? {
								authorization: `Bearer ${FUZZ_BRANCH.name}:${r.role === 'admin' ? FUZZ_BRANCH.key : 'wrong-key-0123456789'}`
							}
						: {};
				const endpoint = r.endpoint
					.split('/')
					.map((p) => encodeURIComponent(p))
					.join('/');
				await check(
					label,
					{
						method: r.method,
						path: `${mount}/${encodeURIComponent(r.db)}${endpoint ? `/${endpoint}` : ''}${qs ? `?${qs}` : ''}`,
						headers: await headersFor(
							mount === '/sync' ? r.role : 'none',
							'application/json',
							auth
						),
						...(r.body === null ? {} : { body: encodeBody(r.body) })
					},
					stats
				);
			}) as fc.IAsyncProperty<[unknown]>
		});
	}

	const routes: RouteStats[] = [];
	try {
		for (const plan of plans) {
			const { stats } = plan;
			const t0 = Date.now();
			try {
				await fc.assert(plan.property, { numRuns: runs, seed, endOnFailure: true });
			} catch (err) {
				failures.push(
					`${plan.label}: ${(err as Error).message.split('\n').slice(0, 8).join(' | ')}`
				);
			}
			stats.ms = Date.now() - t0;
			routes.push(stats);
			log(
				`${plan.label.padEnd(48)} ${String(stats.runs).padStart(6)} inputs  ${String(stats.ms).padStart(7)} ms  ${Object.entries(
					stats.statuses
				)
					.sort()
					.map(([s, n]) => `${s}×${n}`)
					.join(' ')}`
			);
		}
	} finally {
		process.off('unhandledRejection', onUnhandled);
		process.off('uncaughtException', onUnhandled);
	}
	return { routes, requests, failures, unhandled, ms: Date.now() - started };
}
