/**
 * Issue #15: devices' `_changes` come from one store feed per database fanned out in memory
 * (`server/replication/feed-hub.ts`). Real PouchDB devices of several users replicate live through `/sync`;
 * every ticket reaches exactly the devices whose scopes include it — also after the server restarts, when
 * every device's position is from an earlier table — and the store sees one feed, not one per device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { deserialize } from 'node:v8';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { type PouchDB, device, syncRemote } from '../helpers/pouch';
import { startTestServer, type TestServer } from '../helpers/server';
import { until } from '../helpers/until';
import { createFeedHub, type FeedFacts } from '../../server/replication/feed-hub';
import { databaseIdentity } from '../../server/store';

const CENTER = 'department:center';
const ENGINEERING = 'department:engineering';
const NETWORK = 'department:network';

/** Who replicates, and what they may see. */
const USERS = [
	{ username: 'fan-a1', roleKey: 'agent', departmentId: CENTER },
	{ username: 'fan-a2', roleKey: 'agent', departmentId: CENTER },
	{ username: 'fan-a3', roleKey: 'agent', departmentId: CENTER },
	{ username: 'fan-e1', roleKey: 'department', departmentId: ENGINEERING },
	{ username: 'fan-e2', roleKey: 'department', departmentId: ENGINEERING },
	{ username: 'fan-n1', roleKey: 'department', departmentId: NETWORK }
];
const scopesOf = (u: (typeof USERS)[number]) => [`user:${u.username}`, u.departmentId];

/** Where tickets go: one or two scopes each, some nobody here sees. */
const AUDIENCES = [
	[CENTER],
	[CENTER, ENGINEERING],
	[ENGINEERING],
	[NETWORK],
	['user:fan-a1'],
	['user:fan-e2', NETWORK],
	['department:finance']
];

let written = 0;
function tickets(n: number) {
	return Array.from({ length: n }, () => {
		const i = written++;
		const at = new Date().toISOString();
		return {
			_id: `ticket:fan-${i}`,
			type: 'ticket',
			visibleTo: AUDIENCES[i % AUDIENCES.length]!,
			updatedAt: at,
			events: [{ id: `ev-fan-${i}`, type: 'created', at, by: 'user:someone' }]
		};
	});
}

async function freePort(): Promise<number> {
	return new Promise((resolve) => {
		const s = createServer().listen(0, '127.0.0.1', () => {
			const { port } = s.address() as { port: number };
			s.close(() => resolve(port));
		});
	});
}

let server: TestServer;
let port: number;
const dataDir = mkdtempSync(join(tmpdir(), 'cc-fanout-'));
const env = () => ({ DATA_DIR: dataDir, PORT: String(port) });
const cookies = new Map<string, string>();
const devices: {
	user: (typeof USERS)[number];
	local: PouchDB.Database;
	stop: () => void;
}[] = [];

/** Every ticket id in the store that `scopes` may see. */
async function expectedFor(scopes: string[]): Promise<string[]> {
	const { rows } = await server.runtime.store.db('tickets').allDocs({ include_docs: true });
	return rows
		.filter((r) =>
			((r.doc as { visibleTo?: string[] } | undefined)?.visibleTo ?? []).some((s) =>
				scopes.includes(s)
			)
		)
		.map((r) => r.id)
		.sort();
}

async function held(local: PouchDB.Database): Promise<string[]> {
	return (await local.allDocs()).rows.map((r) => r.id).sort();
}

/**
 * Waits until every device holds exactly the tickets its user may see. What the store holds is read again on
 * every look: a CouchDB cluster's `_all_docs` answers from one shard copy, which may lag a write behind.
 */
async function converged(what: string) {
	let expected: string[][] = [];
	await until(
		async () => {
			expected = await Promise.all(devices.map((d) => expectedFor(scopesOf(d.user))));
			const now = await Promise.all(devices.map((d) => held(d.local)));
			return now.every((ids, i) => JSON.stringify(ids) === JSON.stringify(expected[i]));
		},
		what,
		30_000
	);
	for (const [i, d] of devices.entries()) {
		expect(await held(d.local), d.user.username).toEqual(expected[i]);
	}
}

/** `/sync/tickets/_changes?<query>` as one of USERS. */
async function changesOf(username: string, query: string) {
	const res = await fetch(`${server.url}/sync/tickets/_changes?${query}`, {
		headers: { cookie: cookies.get(username)! }
	});
	expect(res.status).toBe(200);
	return (await res.json()) as { results: { id: string }[]; last_seq: string };
}

const operations = (op: string) => server.runtime.store.operations()['tickets']?.[op] ?? 0;

beforeAll(async () => {
	port = await freePort();
	server = await startTestServer(env());
	for (const u of USERS) cookies.set(u.username, await server.createUser(u));
	for (const user of USERS) {
		const local = device(`fanout-${user.username}`);
		const remote = syncRemote(server.url, 'tickets', cookies.get(user.username)!);
		const replication = local.replicate.from(remote, {
			live: true,
			retry: true,
			batch_size: 500,
			back_off_function: () => 200
		});
		devices.push({ user, local, stop: () => replication.cancel() });
	}
});

afterAll(async () => {
	for (const d of devices) d.stop();
	await Promise.all(devices.map((d) => d.local.destroy()));
	await server?.close();
	rmSync(dataDir, { recursive: true, force: true });
});

describe('#15 one changes feed fanned out in memory', () => {
	it('F27 every ticket reaches exactly the devices whose scopes include it, through one store feed', async () => {
		await server.runtime.store.db('tickets').bulkDocs(tickets(28));
		await converged('the first tickets on every device');

		const feedsBefore = operations('changesFeed');
		const changesBefore = operations('changes');
		const rounds = 4;
		for (let round = 0; round < rounds; round++) {
			await server.runtime.store.db('tickets').bulkDocs(tickets(7));
		}
		await converged('the next tickets on every device');
		// No device's long-poll became a store feed; the store was read by the server's own followers only
		// (the hub, the history index, the conflict resolver: a few reads a round, however many devices — on
		// CouchDB a round may wake them more than once), fewer than one read per device and round.
		expect(operations('changesFeed') - feedsBefore).toBe(0);
		expect(operations('changes') - changesBefore).toBeLessThan(devices.length * rounds);
		// Each device waits in the hub's memory (what GET /api/metrics reports).
		const feeds = () => server.runtime.deps.metrics.read().feeds;
		await until(() => feeds()['tickets']?.waiters === devices.length, 'every device waiting');
		expect(feeds()['tickets']?.documents).toBe(written);

		// A new center ticket reaches every agent's device with one read of the store: the hub's.
		const readsBefore = operations('bulkGet');
		const center = { ...tickets(1)[0]!, visibleTo: [CENTER] };
		await server.runtime.store.db('tickets').bulkDocs([center]);
		await converged('the center ticket on every agent device');
		expect(operations('bulkGet') - readsBefore).toBe(1);
	});

	it('a position from elsewhere lists from the start; a long-poll with nothing new answers at its timeout', async () => {
		const changes = (query: string) => changesOf('fan-e1', query);
		let expected = await expectedFor(scopesOf(USERS[3]!));
		for (const since of ['0', '17', '5-0123456789ab', 'garbage']) {
			const listing = await changes(`since=${since}&style=all_docs`);
			expect(listing.results.map((r) => r.id).sort(), since).toEqual(expected);
		}
		const { last_seq } = await changes('since=0');
		const quiet = await changes(`feed=longpoll&since=${last_seq}&timeout=300`);
		expect(quiet.results).toEqual([]);
		expect(quiet.last_seq).toBe(last_seq);

		// A normal feed holds everything the store held when it was asked, however recent.
		for (let i = 0; i < 5; i++) {
			const [next] = tickets(1).map((t) => ({ ...t, visibleTo: [ENGINEERING] }));
			await server.runtime.store.db('tickets').bulkDocs([next!]);
			const after = await changes(`since=${last_seq}`);
			expect(after.results.map((r) => r.id)).toContain(next!._id);
		}

		// `since=now` is the store's now: a long-poll opened right after a write does not hand it back.
		for (let i = 0; i < 3; i++) {
			const burst = tickets(50).map((t) => ({ ...t, visibleTo: [ENGINEERING] }));
			await server.runtime.store.db('tickets').bulkDocs(burst);
			const now = await changes('feed=longpoll&since=now&timeout=300');
			expect(now.results).toEqual([]);
		}

		// A limit pages through the same listing.
		expected = await expectedFor(scopesOf(USERS[3]!));
		const first = await changes('since=0&limit=2');
		expect(first.results).toHaveLength(2);
		const rest = await changes(`since=${first.last_seq}`);
		expect([...first.results, ...rest.results].map((r) => r.id).sort()).toEqual(expected);
	});

	it('a device offering back what it pulled costs the store nothing; what it may not see is reported missing', async () => {
		const cookie = cookies.get('fan-a2')!;
		const tickets = server.runtime.store.db('tickets');
		const { rows } = await tickets.allDocs({ include_docs: true });
		const mine = rows.filter((r) =>
			((r.doc as { visibleTo?: string[] }).visibleTo ?? []).includes(CENTER)
		);
		const hidden = rows.find((r) =>
			((r.doc as { visibleTo?: string[] }).visibleTo ?? []).includes('department:finance')
		)!;
		const asked = Object.fromEntries([
			...mine.map((r) => [r.id, [r.doc!._rev]]),
			[hidden.id, [hidden.doc!._rev]]
		]);
		const before = { revsDiff: operations('revsDiff'), getMany: operations('getMany') };
		const res = await fetch(`${server.url}/sync/tickets/_revs_diff`, {
			method: 'POST',
			headers: { cookie, 'content-type': 'application/json' },
			body: JSON.stringify(asked)
		});
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ [hidden.id]: { missing: [hidden.doc!._rev] } });
		expect({ revsDiff: operations('revsDiff'), getMany: operations('getMany') }).toEqual(before);
	});

	it('F27 after a restart every device goes on from its position, exactly; a lost snapshot costs a fresh listing', async () => {
		const changes = (query: string) => changesOf('fan-e1', query);
		const { last_seq } = await changes('since=0');

		// A clean restart: the hub's table comes back from its snapshot and positions still count.
		await server.close();
		server = await startTestServer(env());
		expect((await changes(`since=${last_seq}`)).results).toEqual([]);
		await server.runtime.store.db('tickets').bulkDocs(tickets(14));
		await converged('every device after the restart');
		const next = await changes(`since=${last_seq}`);
		expect(next.results.length).toBeGreaterThan(0);
		expect(next.results.length).toBeLessThan(5);

		// Without its snapshot the hub reads the store anew: old positions list everything again.
		await server.close();
		rmSync(join(dataDir, 'sync-hub-tickets.v8'));
		server = await startTestServer(env());
		const all = await expectedFor(scopesOf(USERS[3]!));
		expect((await changes(`since=${last_seq}`)).results.map((r) => r.id).sort()).toEqual(all);
		await server.runtime.store.db('tickets').bulkDocs(tickets(7));
		await converged('every device after a restart without the snapshot');
	});
});

describe('#15 the feed hub after a crash', () => {
	it('F28 positions handed out after the last snapshot list again what came after it, nothing less', async () => {
		const store = server.runtime.store;
		const path = join(dataDir, 'crash-test.v8');
		const center = (f: FeedFacts) => f.visibleTo?.includes(CENTER) ?? false;
		const savedOrd = () => {
			try {
				return (deserialize(new Uint8Array(readFileSync(path))) as { ord: number }).ord;
			} catch {
				return -1;
			}
		};
		const options = { store, dbKey: 'tickets', snapshotPath: path, snapshotMs: 50 } as const;
		const hub = createFeedHub(options);
		await hub.ready;
		const centerTickets = (n: number) => tickets(n).map((t) => ({ ...t, visibleTo: [CENTER] }));
		await store.db('tickets').bulkDocs(centerTickets(3));
		await hub.fresh();
		const atSnapshot = hub.updateSeq();
		await until(() => String(savedOrd()) === atSnapshot.split('-')[0], 'a snapshot');
		copyFileSync(path, `${path}.bak`);

		const later = centerTickets(2);
		await store.db('tickets').bulkDocs(later);
		await hub.fresh();
		const handedOut = hub.updateSeq();
		await hub.stop();
		// The crash: the last snapshot is the one taken before the later tickets.
		renameSync(`${path}.bak`, path);

		const again = createFeedHub(options);
		await again.ready;
		const after = (since: string) =>
			again
				.scan(again.position(since), center, Infinity, true)
				.results.map((r) => r.id)
				.sort();
		const laterIds = later.map((t) => t._id).sort();
		expect(after(handedOut)).toEqual(laterIds);
		expect(after(atSnapshot)).toEqual(laterIds);
		await again.stop();
	});
});

describe('#16 the feed hub’s snapshot belongs to one database', () => {
	it('a snapshot is loaded for the database it was taken of, never for one made anew', async () => {
		const store = server.runtime.store;
		const options = {
			store,
			dbKey: 'tickets',
			snapshotPath: join(dataDir, 'identity-test.v8')
		} as const;
		const first = createFeedHub(options);
		await first.ready;
		await store.db('tickets').bulkDocs(tickets(2));
		await first.fresh();
		const position = first.updateSeq();
		await first.stop();
		const reopen = async () => {
			const hub = createFeedHub(options);
			await hub.ready;
			const at = hub.position(position).ord;
			await hub.stop();
			return at;
		};
		expect(await reopen()).toBe(Number(position.split('-')[0]));
		// Restored from a backup or replicated anew, the database has another identity (no `_local`
		// document travels), whatever its sequence numbers: positions of the old table count no more.
		const db = store.db('tickets');
		const identity = await db.local.get<{ identity: string }>('identity');
		await db.local.remove('identity');
		try {
			expect(await reopen()).toBe(0);
		} finally {
			await db.local.remove('identity');
			await db.local.put('identity', { identity: identity!.identity });
		}
	});
});

describe('#16 a database’s identity', () => {
	it('is one name however many ask at once, the one the store keeps (CouchDB’s `_local` documents have no revisions to refuse a second writer)', async () => {
		const db = server.runtime.store.db('tickets');
		const kept = await db.local.get<{ identity: string }>('identity');
		await db.local.remove('identity');
		try {
			const names = await Promise.all(Array.from({ length: 5 }, () => databaseIdentity(db)));
			expect(new Set(names).size).toBe(1);
			expect((await db.local.get<{ identity: string }>('identity'))?.identity).toBe(names[0]);
		} finally {
			await db.local.remove('identity');
			await db.local.put('identity', { identity: kept!.identity });
		}
	});
});

describe('#15 bounded working sets', () => {
	it('F27 a new device’s first listing holds its own tickets, what is open at its department and the department’s most recent; every later change arrives', async () => {
		const bounded = await startTestServer({ SYNC_RECENT_TICKETS: '3' });
		try {
			const cookie = await bounded.createUser({ username: 'bound-a', roleKey: 'agent' });
			const tickets = bounded.runtime.store.db('tickets');
			const doc = (id: string, fields: Record<string, unknown>) => {
				const at = new Date().toISOString();
				return {
					_id: `ticket:${id}`,
					type: 'ticket',
					visibleTo: [CENTER],
					status: 'closed',
					departmentId: CENTER,
					updatedAt: at,
					events: [{ id: `ev-${id}`, type: 'created', at, by: 'user:someone' }],
					...fields
				};
			};
			const old = Array.from({ length: 6 }, (_, i) => doc(`old-${i}`, {}));
			await tickets.bulkDocs(old);
			await tickets.bulkDocs([
				doc('callback-due', { status: 'callback' }),
				doc('mine', { visibleTo: [CENTER, 'user:bound-a'] }),
				doc('at-network', { status: 'atDepartment', departmentId: NETWORK })
			]);
			await tickets.bulkDocs(Array.from({ length: 3 }, (_, i) => doc(`new-${i}`, {})));

			const local = device('bound-a');
			const remote = syncRemote(bounded.url, 'tickets', cookie);
			// Small batches: the listing's later pages are bounded as its first.
			await local.replicate.from(remote, { batch_size: 2 });
			expect(await held(local)).toEqual(
				['callback-due', 'mine', 'new-0', 'new-1', 'new-2'].map((id) => `ticket:${id}`)
			);

			// A change to a ticket the device does not hold makes it recent: it arrives.
			const first = await tickets.get('ticket:old-0');
			await tickets.insert({ ...first, updatedAt: new Date().toISOString() });
			await local.replicate.from(remote, { batch_size: 2 });
			expect(await held(local)).toContain('ticket:old-0');

			// A position the server does not know may come from a device holding older copies: everything.
			const res = await fetch(`${bounded.url}/sync/tickets/_changes?since=12-0123456789ab`, {
				headers: { cookie }
			});
			const all = (await res.json()) as { results: { id: string }[] };
			expect(all.results).toHaveLength(12);
			await local.destroy();
		} finally {
			await bounded.close();
		}
	});
});
