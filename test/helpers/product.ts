/**
 * The built product as a user gets it (`node build/server/index.js`) on a fresh embedded store, with
 * telephony when Kamailio and Janus are installed — for the tools that show or measure the real screens
 * (README screenshots, Lighthouse): its address, an API client per user, users registered and approved
 * as the administrator does, and a browser sign-in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as http, type APIRequestContext, type Page } from '@playwright/test';
import { freePort, startChildServer } from './child-server';
import { ADMIN_PASSWORD } from './server';
import { telephonyPorts } from './telephony';

export const PASSWORD = 'product-pass-1';

export async function startProduct(name: string) {
	const port = await freePort();
	const sipPort = 27_160 + Math.floor(Math.random() * 500) * 8;
	const dataDir = mkdtempSync(join(tmpdir(), `${name}-`));
	const server = await startChildServer(
		port,
		dataDir,
		{ TELEPHONY: 'auto', ...telephonyPorts(sipPort), JANUS_PUBLIC_IP: '127.0.0.1' },
		{ built: true }
	);
	const base = server.url;

	async function api(username = 'admin', password = ADMIN_PASSWORD): Promise<APIRequestContext> {
		const ctx = await http.newContext({ baseURL: base });
		const res = await ctx.post('/api/session', { data: { username, password } });
		if (!res.ok()) throw new Error(`sign-in of ${username}: ${res.status()} ${await res.text()}`);
		return ctx;
	}

	return {
		base,
		sipTarget: `127.0.0.1:${sipPort}`,
		dataDir,
		api,
		/** Registers and approves a user (agents get 工号 `agentId`). */
		async user(
			username: string,
			name: string,
			roleKey: string,
			{ departmentId = 'department:center', agentId = '' } = {}
		) {
			const anon = await http.newContext({ baseURL: base });
			const reg = await anon.post('/api/register', {
				data: {
					username,
					password: PASSWORD,
					name,
					departmentId,
					birthDate: '1990-01-01',
					phone: '13800000000',
					email: ''
				}
			});
			if (reg.status() !== 201) throw new Error(`register ${username}: ${await reg.text()}`);
			const admin = await api();
			const ok = await admin.post(`/api/accounts/user:${username}/approve`, {
				data: { roleId: `role:${roleKey}`, agentId }
			});
			if (!ok.ok()) throw new Error(`approve ${username}: ${await ok.text()}`);
		},
		/** Signs in through the page and waits until the device has its first sync. */
		async signIn(page: Page, username: string) {
			await page.goto(`${base}/login`);
			await page.getByLabel('用户名').fill(username);
			await page.getByLabel('密码').fill(PASSWORD);
			await page.getByLabel('密码').press('Enter');
			await page.waitForURL((url) => url.pathname !== '/login');
			await page.getByTestId('sync-status').getByText('已同步').waitFor({ timeout: 30_000 });
		},
		/** Stops the server; the data folder goes too unless `keepData` (to look at after a failure). */
		async stop(keepData = false) {
			server.proc.kill('SIGTERM');
			await server.exited;
			if (!keepData) rmSync(dataDir, { recursive: true, force: true });
		}
	};
}
export type Product = Awaited<ReturnType<typeof startProduct>>;
