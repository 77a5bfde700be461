/** Shared steps of the end-to-end tests: API set-up through the real server, and UI sign-in. */
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../../playwright.config';

export const PASSWORD = 'e2e-password-1';

let counter = 0;
/** A user name unique within this run. */
export const uniqueName = (prefix: string) =>
	`${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;

async function adminCookie(request: APIRequestContext) {
	const res = await request.post('/api/session', {
		data: { username: 'admin', password: E2E_ADMIN_PASSWORD }
	});
	expect(res.ok()).toBe(true);
}

/** Registers and approves a user through the API (fast set-up for tests about what comes after). */
export async function createUser(
	request: APIRequestContext,
	{
		username,
		roleKey,
		departmentId = 'department:center',
		agentId = ''
	}: { username: string; roleKey: string; departmentId?: string; agentId?: string }
) {
	const reg = await request.post('/api/register', {
		data: {
			username,
			password: PASSWORD,
			name: `用户${username.slice(-4)}`,
			departmentId,
			birthDate: '1990-01-01',
			phone: '13800000000',
			email: ''
		}
	});
	expect(reg.status()).toBe(201);
	await adminCookie(request);
	const ok = await request.post(
		`/api/accounts/${encodeURIComponent(`user:${username.toLowerCase()}`)}/approve`,
		{
			data: { roleId: `role:${roleKey}`, agentId }
		}
	);
	expect(ok.status()).toBe(200);
	await request.delete('/api/session');
}

export async function signIn(
	page: Page,
	username: string,
	password = PASSWORD,
	extension?: string
) {
	await page.goto('/login');
	await page.getByLabel('用户名').fill(username);
	if (extension !== undefined) await page.getByLabel('电话').fill(extension);
	const passwordField = page.getByRole('textbox', { name: '密码', exact: true });
	await passwordField.fill(password);
	await passwordField.press('Enter');
}

/**
 * Puts tickets on the server as `username`'s device writes them (`/sync` with `new_edits: false`), then signs
 * out again: tickets recorded elsewhere, before the test's own browser comes.
 */
export async function pushTickets(
	request: APIRequestContext,
	username: string,
	tickets: readonly object[]
) {
	await request.post('/api/session', { data: { username, password: PASSWORD } });
	const res = await request.post('/sync/tickets/_bulk_docs', {
		data: { new_edits: false, docs: tickets.map((t) => ({ ...t, _rev: '1-a1' })) }
	});
	expect(await res.json()).toEqual([]);
	await request.delete('/api/session');
}

/** A number the page shows under `data-testid` (a call's WebRTC packet counts); 0 while it is not there. */
export const count = async (page: Page, id: string) =>
	Number(
		await page
			.getByTestId(id)
			.textContent()
			.catch(() => '0')
	);
