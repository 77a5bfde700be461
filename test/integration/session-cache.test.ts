/**
 * Issue #15: a signed-in request costs the store nothing once its session is known — and a session that
 * ends anywhere (another app server's sign-out, an account disabled there) is refused at once all the same:
 * the cache follows the store's changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';
import { until } from '../helpers/until';
import { createSessions } from '../../server/services/sessions';

let server: TestServer;

beforeAll(async () => {
	// On CouchDB the singletons' lease renews in cc_users too: every 100 s here, so the counts below are
	// sessions' (the embedded store keeps no lease document).
	server = await startTestServer({ LEASE_SECONDS: '300' });
});
afterAll(async () => {
	await server?.close();
});

const usersReads = () => {
	const ops = server.runtime.store.operations().users ?? {};
	return (ops.get ?? 0) + (ops.find ?? 0) + (ops.getMany ?? 0);
};
const config = (cookie: string) =>
	fetch(`${server.url}/api/config`, { headers: { cookie } }).then((r) => r.status);

describe('#15 sessions from memory, dropped when the store changes them', () => {
	it('reads the store once for a sign-in’s requests, also past the 2 s the cache used to last', async () => {
		const cookie = await server.createUser({ username: 'scfast', roleKey: 'agent' });
		expect(await config(cookie)).toBe(200);
		const reads = usersReads();
		const until = Date.now() + 2_500;
		let requests = 0;
		while (Date.now() < until || requests < 20) {
			expect(await config(cookie)).toBe(200);
			requests++;
		}
		expect(usersReads()).toBe(reads);
	});

	it('refuses a session deleted in the store by another server at once', async () => {
		const cookie = await server.createUser({ username: 'scgone', roleKey: 'agent' });
		expect(await config(cookie)).toBe(200);
		const users = server.runtime.store.db('users');
		const sessions = await users.view('sessions_by_user', { key: 'user:scgone' });
		expect(sessions.rows).toHaveLength(1);
		const session = await users.get(sessions.rows[0]!.id);
		await users.destroy(session._id, session._rev);
		await until(async () => (await config(cookie)) === 401, 'the deleted session to be refused');
		expect(await config(cookie)).toBe(401);
	});

	it('refuses the sessions of an account disabled in the store by another server at once', async () => {
		const cookie = await server.createUser({ username: 'scoff', roleKey: 'agent' });
		expect(await config(cookie)).toBe(200);
		const users = server.runtime.store.db<{ status: string }>('users');
		const user = await users.get('user:scoff');
		await users.insert({ ...user, status: 'disabled' });
		await until(async () => (await config(cookie)) === 401, 'the disabled account to be refused');
		expect(await config(cookie)).toBe(401);
	});
});

describe('#15 a session’s own touches keep it cached', () => {
	it('records use every second and reads the session from the store at most once for three touches', async () => {
		// The service alone over the test server's store, with a 4 s idle time: it touches every second.
		const sessions = createSessions({
			store: server.runtime.store,
			ttlMs: 3_600_000,
			idleMs: 4_000
		});
		try {
			await server.createUser({ username: 'sctouch', roleKey: 'agent' });
			const token = await sessions.create('user:sctouch');
			expect((await sessions.resolve(token))?._id).toBe('user:sctouch');
			const reads = usersReads();
			const writes = () => server.runtime.store.operations().users?.insert ?? 0;
			const written = writes();
			// A request now and then, until the third touch is written (a touch is due every second).
			const answers: (string | undefined)[] = [];
			await until(
				async () => {
					answers.push((await sessions.resolve(token))?._id);
					return writes() - written >= 3;
				},
				'three touches',
				30_000
			);
			expect(answers.length).toBeGreaterThanOrEqual(3);
			expect(answers.every((id) => id === 'user:sctouch')).toBe(true);
			expect(writes() - written).toBeGreaterThanOrEqual(3);
			// Each touch came back through the feed and left the cache alone (one may race the feed).
			expect(usersReads() - reads).toBeLessThanOrEqual(1);
		} finally {
			await sessions.close();
		}
	});
});

/** Sessions of `username` (made here) on a clock the test moves: `move(ms)`. */
const withSessions = async (
	username: string,
	run: (
		sessions: ReturnType<typeof createSessions>,
		token: string,
		move: (ms: number) => void
	) => Promise<void>
) => {
	let offset = 0;
	const sessions = createSessions({
		store: server.runtime.store,
		ttlMs: 24 * 3_600_000,
		idleMs: 3_600_000,
		clock: () => Date.now() + offset
	});
	try {
		await server.createUser({ username, roleKey: 'agent' });
		const token = await sessions.create(`user:${username}`);
		await run(sessions, token, (ms) => (offset += ms));
	} finally {
		await sessions.close();
	}
};

describe('#15 how long a session stays in memory', () => {
	it('keeps a session for 15 minutes while the users feed is live, without reading the store', async () => {
		await withSessions('sclong', async (sessions, token, move) => {
			expect((await sessions.resolve(token))?._id).toBe('user:sclong');
			// The feed is live once the store has answered it: a change to the user wakes it.
			const users = server.runtime.store.db('users');
			await until(async () => {
				if (sessions.feedLive()) return true;
				await users.insert(await users.get('user:sclong'));
				return false;
			}, 'the users feed to answer');
			expect((await sessions.peek(token))?._id).toBe('user:sclong');
			const reads = usersReads();
			move(10 * 60_000);
			expect((await sessions.peek(token))?._id).toBe('user:sclong');
			expect(usersReads()).toBe(reads);
			move(6 * 60_000);
			expect((await sessions.peek(token))?._id).toBe('user:sclong');
			expect(usersReads() - reads).toBe(2); // past 15 minutes: the session and its user again
		});
	});

	it('reads the session again after a minute when the users feed is not live', async () => {
		await withSessions('scdown', async (sessions, token, move) => {
			expect((await sessions.peek(token))?._id).toBe('user:scdown');
			await sessions.close(); // stops the feed: nothing would drop a session revoked elsewhere
			const reads = usersReads();
			move(30_000);
			expect((await sessions.peek(token))?._id).toBe('user:scdown');
			expect(usersReads()).toBe(reads);
			move(31_000);
			expect((await sessions.peek(token))?._id).toBe('user:scdown');
			expect(usersReads() - reads).toBe(2);
		});
	});

	it('reads a session once for requests that come together', async () => {
		await withSessions('sctogether', async (sessions, token) => {
			const reads = usersReads();
			const users = await Promise.all(Array.from({ length: 6 }, () => sessions.peek(token)));
			expect(users.map((u) => u?._id)).toEqual(Array(6).fill('user:sctogether'));
			expect(usersReads() - reads).toBe(2); // the session and its user, once
		});
	});

	it('refuses a cached session that has been idle too long', async () => {
		await withSessions('scidle', async (sessions, token, move) => {
			expect((await sessions.peek(token))?._id).toBe('user:scidle');
			move(3_600_000 + 1_000);
			expect(await sessions.peek(token)).toBeNull();
		});
	});
});

describe('#16 sign-ins that ended without a sign-out', () => {
	it('are deleted from the store by the periodic sweep; a sign-in still in use stays', async () => {
		await withSessions('swept', async (sessions, closed, move) => {
			// `closed`: the browser closed, no sign-out; another sign-in of the same user, also left.
			const later = await sessions.create('user:swept');
			move(2 * 3_600_000);
			await server.createUser({ username: 'kept', roleKey: 'agent' });
			const inUse = await sessions.create('user:kept');
			expect(await sessions.removeEnded()).toBeGreaterThanOrEqual(2);
			expect(await sessions.resolve(closed)).toBeNull();
			expect(await sessions.resolve(later)).toBeNull();
			expect((await sessions.resolve(inUse))?._id).toBe('user:kept');
			const { rows } = await server.runtime.store
				.db('users')
				.view('sessions_by_user', { key: 'user:swept' });
			expect(rows).toEqual([]);
		});
	});
});
