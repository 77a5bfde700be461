/** Sign-in, registration and approval through the HTTP API against the embedded store (F1, F2, F3). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';

let server: TestServer;

const post = (path: string, body: unknown, cookie?: string) =>
	fetch(`${server.url}${path}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
		body: typeof body === 'string' ? body : JSON.stringify(body)
	});

const registration = (overrides: Record<string, unknown> = {}) => ({
	username: 'newcomer',
	password: 'secret-pass-1',
	name: '王小明',
	departmentId: 'department:engineering',
	birthDate: '1992-03-04',
	phone: '0571-8888 6666',
	email: '',
	...overrides
});

beforeAll(async () => {
	server = await startTestServer({ LOGIN_MAX_FAILURES: '3' });
});
afterAll(async () => {
	await server?.close();
});

describe('F2 registration', () => {
	it('creates a pending account that cannot sign in yet', async () => {
		const res = await post('/api/register', registration());
		expect(res.status).toBe(201);
		const signIn = await post('/api/session', { username: 'newcomer', password: 'secret-pass-1' });
		expect(signIn.status).toBe(403);
		expect(await signIn.json()).toMatchObject({ code: 'account_pending' });
	});

	it('refuses a duplicate user name, also in other letter case or with spaces, and keeps the first', async () => {
		for (const username of ['newcomer', 'NewComer', '  newcomer  ', 'ｎｅｗｃｏｍｅｒ']) {
			const res = await post('/api/register', registration({ username, name: '冒名者' }));
			expect(res.status, username).toBe(409);
			expect(await res.json()).toMatchObject({ code: 'username_taken', field: 'username' });
		}
		const stored = await server.runtime.deps.accounts.getUser('user:newcomer');
		expect(stored?.name).toBe('王小明');
	});

	it('reports each bad field with a code and stores nothing', async () => {
		const cases: [Record<string, unknown>, string, string][] = [
			[{ username: '' }, 'username', 'required'],
			[{ username: 'x'.repeat(33) }, 'username', 'too_long'],
			[{ username: '<script>' }, 'username', 'username_chars'],
			[{ password: 'short' }, 'password', 'password_short'],
			[{ name: '' }, 'name', 'required'],
			[{ name: '名'.repeat(51) }, 'name', 'too_long'],
			[{ birthDate: '2999-01-01' }, 'birthDate', 'date_future'],
			[{ birthDate: '1990-02-30' }, 'birthDate', 'date_invalid'],
			[{ phone: 'abc' }, 'phone', 'phone_invalid'],
			[{ email: 'not-an-email' }, 'email', 'email_invalid'],
			[{ departmentId: 'department:nope' }, 'departmentId', 'department_unknown']
		];
		for (const [overrides, field, code] of cases) {
			const res = await post('/api/register', registration({ username: 'baduser', ...overrides }));
			expect(res.status, JSON.stringify(overrides)).toBe(400);
			const body = (await res.json()) as { issues: Record<string, string> };
			expect(body.issues[field], JSON.stringify(overrides)).toBe(code);
		}
		expect(await server.runtime.deps.accounts.getUser('user:baduser')).toBeNull();
		expect((await post('/api/register', '{not json')).status).toBe(400);
	});

	it('keeps markup in names as plain data', async () => {
		const res = await post(
			'/api/register',
			registration({ username: 'markup', name: '<img src=x onerror=alert(1)>' })
		);
		expect(res.status).toBe(201);
		expect((await server.runtime.deps.accounts.getUser('user:markup'))?.name).toBe(
			'<img src=x onerror=alert(1)>'
		);
	});
});

describe('approval and sign-in', () => {
	it('an administrator approves with a role and an agent ID; the user then signs in to the role’s home', async () => {
		const admin = await server.signIn('admin', 'integration-admin');
		const pending = await fetch(`${server.url}/api/accounts/pending`, {
			headers: { cookie: admin }
		});
		const list = ((await pending.json()) as { accounts: { id: string }[] }).accounts.map(
			(a) => a.id
		);
		expect(list).toContain('user:newcomer');

		const approve = await post(
			'/api/accounts/user%3Anewcomer/approve',
			{ roleId: 'role:agent', agentId: '8123' },
			admin
		);
		expect(approve.status).toBe(200);
		const signIn = await post('/api/session', { username: 'NEWCOMER', password: 'secret-pass-1' });
		expect(signIn.status).toBe(200);
		expect(await signIn.json()).toMatchObject({
			home: 'agent',
			user: { agentId: '8123', username: 'newcomer' }
		});
		const cookie = signIn.headers.get('set-cookie') ?? '';
		expect(cookie).toMatch(/HttpOnly/i);
		expect(cookie).toMatch(/SameSite=Lax/i);
	});

	it('a taken agent ID and an unknown role are refused', async () => {
		const admin = await server.signIn('admin', 'integration-admin');
		const taken = await post(
			'/api/accounts/user%3Amarkup/approve',
			{ roleId: 'role:agent', agentId: '8123' },
			admin
		);
		expect(await taken.json()).toMatchObject({ issues: { agentId: 'agent_id_taken' } });
		const role = await post('/api/accounts/user%3Amarkup/approve', { roleId: 'role:nope' }, admin);
		expect(await role.json()).toMatchObject({ issues: { roleId: 'role_unknown' } });
		expect((await server.runtime.deps.accounts.getUser('user:markup'))?.status).toBe('pending');
	});

	it('only users with admin.users may list or approve accounts', async () => {
		const agent = await server.signIn('newcomer', 'secret-pass-1');
		expect(
			(await fetch(`${server.url}/api/accounts/pending`, { headers: { cookie: agent } })).status
		).toBe(403);
		expect(
			(await post('/api/accounts/user%3Amarkup/approve', { roleId: 'role:admin' }, agent)).status
		).toBe(403);
	});

	it('a disabled account gets its own message, and sign-out ends the session', async () => {
		const cookie = await server.signIn('newcomer', 'secret-pass-1');
		const users = server.runtime.store.db<Record<string, unknown>>('users');
		const doc = await users.get('user:newcomer');
		await users.insert({ ...doc, status: 'disabled' });
		const res = await post('/api/session', { username: 'newcomer', password: 'secret-pass-1' });
		expect(await res.json()).toMatchObject({ code: 'account_disabled' });
		await users.insert({ ...(await users.get('user:newcomer')), status: 'active' });

		const out = await fetch(`${server.url}/api/session`, { method: 'DELETE', headers: { cookie } });
		expect(out.status).toBe(200);
		expect((await fetch(`${server.url}/api/session`, { headers: { cookie } })).status).toBe(401);
	});

	it('a wrong password is refused, and repeated failures are rate-limited even with the right password', async () => {
		for (let i = 0; i < 3; i++) {
			const res = await post('/api/session', { username: 'admin', password: 'wrong-password' });
			expect(await res.json()).toMatchObject({ code: 'invalid_credentials' });
		}
		const limited = await post('/api/session', {
			username: 'admin',
			password: 'integration-admin'
		});
		expect(limited.status).toBe(429);
		expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
	});
});

describe('health and run-time config', () => {
	it('health reports status, version, store kind and telephony; config holds no store address or secret', async () => {
		const health = (await (await fetch(`${server.url}/api/health`)).json()) as Record<
			string,
			unknown
		>;
		const store = process.env.COUCHDB_URL ? 'couchdb' : 'embedded'; // npm run test:couchdb
		expect(health).toMatchObject({ status: 'ok', store, telephony: { state: 'off' } });
		expect(typeof health.version).toBe('string');

		const cookie = await server.createUser({ username: 'cfg1', roleKey: 'crew' });
		const res = await fetch(`${server.url}/api/config`, { headers: { cookie } });
		const text = await res.text();
		expect(res.status).toBe(200);
		expect(text).not.toMatch(/127\.0\.0\.1|http:|secret|password/i);
		expect(JSON.parse(text)).toMatchObject({ defaultLocale: 'zh-CN' });
	});
});

describe('cross-site requests', () => {
	it('a form post from another site is refused; the same origin and scripts with JSON are not', async () => {
		const forged = await fetch(`${server.url}/api/session`, {
			method: 'POST',
			headers: {
				'content-type': 'application/x-www-form-urlencoded',
				origin: 'https://evil.example'
			},
			body: 'username=admin&password=integration-admin'
		});
		expect(forged.status).toBe(403);
		const script = await post('/api/session', { username: 'newcomer', password: 'secret-pass-1' });
		expect(script.status).toBe(200);
		const signOut = await fetch(`${server.url}/api/session`, {
			method: 'DELETE',
			headers: { cookie: (script.headers.get('set-cookie') ?? '').split(';')[0]! }
		});
		expect(signOut.status).toBe(200);
	});
});
