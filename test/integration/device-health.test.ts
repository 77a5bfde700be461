/**
 * Issue #13: a device's sync report (`PUT /api/devices/:code/health`) belongs to the device and the user
 * signed in on it. A workstation's code is shared by everyone who signs in there, so each user's report is
 * kept apart, and no user can overwrite — or hide the trouble in — another user's report.
 */
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server';
import {
	DeviceCode,
	DeviceHealthList,
	type DeviceHealth,
	type DeviceReport
} from '../../src/lib/shared/wire/devices';

let server: TestServer;
const cookies: Record<string, string> = {};

const report = (pending: number): DeviceReport => ({
	pending,
	held: 120,
	refused: pending > 0 ? 1 : 0,
	lastSyncedAt: new Date(Date.now() - 3_600_000).toISOString(),
	client: 'test'
});

async function put(who: string, code: string, body: object): Promise<number> {
	const res = await fetch(`${server.url}/api/devices/${code}/health`, {
		method: 'PUT',
		headers: { cookie: cookies[who]!, origin: server.url, 'content-type': 'application/json' },
		body: JSON.stringify(body)
	});
	return res.status;
}

/** What administrators read, in the shape the browser reads it with (#14). */
async function reports(): Promise<DeviceHealth[]> {
	const res = await fetch(`${server.url}/api/devices/health`, {
		headers: { cookie: cookies.admin! }
	});
	expect(res.status).toBe(200);
	return v.parse(DeviceHealthList, await res.json()).devices;
}

beforeAll(async () => {
	server = await startTestServer();
	cookies.admin = await server.signIn('admin', ADMIN_PASSWORD);
	cookies.day = await server.createUser({ username: 'dhday', roleKey: 'agent' });
	cookies.night = await server.createUser({ username: 'dhnight', roleKey: 'agent' });
});
afterAll(async () => {
	await server?.close();
});

describe('#13 device sync reports', () => {
	it('#13 another user cannot overwrite a device’s report; a shared workstation shows each user’s', async () => {
		const registered = await fetch(`${server.url}/api/devices`, {
			method: 'POST',
			headers: { cookie: cookies.day!, origin: server.url }
		});
		expect(registered.status).toBe(201);
		const { code } = v.parse(DeviceCode, await registered.json());
		expect(await put('day', code, report(3))).toBe(204);
		const before = (await reports()).find((r) => r.code === code && r.userId === 'user:dhday');
		expect(before).toMatchObject({ pending: 3, refused: 1 });

		// The night shift signs in on the same workstation — or any user names this code — and reports
		// that nothing waits.
		expect(await put('night', code, report(0))).toBe(204);
		const rows = (await reports()).filter((r) => r.code === code);
		expect(rows.map((r) => [r.userId, r.pending]).sort()).toEqual([
			['user:dhday', 3],
			['user:dhnight', 0]
		]);
		expect(rows.find((r) => r.userId === 'user:dhday')).toEqual(before);
	});
});
