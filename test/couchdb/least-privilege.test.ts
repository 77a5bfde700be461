/**
 * #16 (needs COUCHDB_URL, `npm run test:couchdb`): the app runs with a CouchDB account that administers
 * only its own databases — not CouchDB's server administrator. The databases are created beforehand by the
 * server administrator with that account as their admin (README, "CouchDB"); the app installs its design
 * documents and keeps `_security` to itself, and says clearly what is missing when a database is not there.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KEYS } from '../../server/store';
import { startTestServer, ADMIN_PASSWORD, type TestServer } from '../helpers/server';
import { basicAuth } from '../helpers/couch';

const adminUrl = process.env.COUCHDB_URL;
if (!adminUrl) throw new Error('the CouchDB tests need COUCHDB_URL (npm run test:couchdb)');
const run = process.env.COUCH_TEST_RUN ?? 'tit';
const account = `${run}_app`;
const password = randomBytes(12).toString('hex');
const prefix = `${run}_least_`;

const admin = new URL(adminUrl);
const adminAuth = basicAuth(admin);
admin.username = '';
admin.password = '';
const couch = async (
	path: string,
	init: { method?: string; body?: unknown } = {},
	auth = adminAuth
) => {
	const res = await fetch(new URL(path, admin), {
		method: init.method ?? 'GET',
		headers: { authorization: auth, 'content-type': 'application/json' },
		...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
	});
	return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const appUrl = () => {
	const url = new URL(admin);
	url.username = account;
	url.password = password;
	return url.toString().replace(/\/$/, '');
};
const appAuth = 'Basic ' + Buffer.from(`${account}:${password}`).toString('base64');

let server: TestServer | undefined;

beforeAll(async () => {
	// As the README says: the account, then each database with the account as its admin.
	const user = await couch(`/_users/org.couchdb.user:${account}`, {
		method: 'PUT',
		body: { name: account, password, roles: [], type: 'user' }
	});
	expect(user.status).toBe(201);
	for (const key of DB_KEYS) {
		expect((await couch(`/${prefix}${key}`, { method: 'PUT' })).status).toBe(201);
		const security = {
			admins: { names: [account], roles: [] },
			members: { names: [account], roles: [] }
		};
		expect(
			(await couch(`/${prefix}${key}/_security`, { method: 'PUT', body: security })).status
		).toBe(200);
	}
});

afterAll(async () => {
	await server?.close();
	const user = await couch(`/_users/org.couchdb.user:${account}`);
	if (user.status === 200) {
		await couch(`/_users/org.couchdb.user:${account}?rev=${String(user.body._rev)}`, {
			method: 'DELETE'
		});
	}
	for (const key of DB_KEYS) await couch(`/${prefix}${key}`, { method: 'DELETE' });
});

describe('#16 least privilege on CouchDB', () => {
	it('is not a server administrator, and may not create a database', async () => {
		const session = await couch('/_session', {}, appAuth);
		expect((session.body.userCtx as { roles: string[] }).roles).not.toContain('_admin');
		expect(
			(await couch(`/${prefix}other`, { method: 'PUT' }, appAuth)).status
		).toBeGreaterThanOrEqual(401);
	});

	it('starts on databases made for it, installs its design documents and keeps them to itself', async () => {
		server = await startTestServer({ COUCHDB_URL: appUrl(), DB_PREFIX: prefix });
		const ddoc = await couch(`/${prefix}tickets/_design/app`);
		expect(ddoc.status).toBe(200);
		const security = await couch(`/${prefix}tickets/_security`);
		expect(security.body).toEqual({
			admins: { names: [account], roles: [] },
			members: { names: [account], roles: ['_admin'] }
		});
		// The product works: the administrator signs in, an agent is made and records a ticket.
		const cookie = await server.signIn('admin', ADMIN_PASSWORD);
		expect(cookie).toMatch(/^cc_session=/);
		const agent = await server.createUser({ username: `${run}lp`, roleKey: 'agent' });
		const res = await fetch(`${server.url}/api/tickets/history?phone=13800000000`, {
			headers: { cookie: agent }
		});
		expect(res.status).toBe(200);
	});

	it('refuses to start, saying what is missing, when a database was not made for it', async () => {
		await expect(
			startTestServer({ COUCHDB_URL: appUrl(), DB_PREFIX: `${run}_missing_` })
		).rejects.toThrow(/does not exist and the store account may not create it/);
	});
});
