/**
 * #17 the product installs as an app (crew tablets, agents' desktops): Chromium's own installability check —
 * the one behind its install button — finds nothing missing, and the installed app starts without a network.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';

test('F28 F3 the app is installable: a manifest with its icons, a service worker in control, no installability errors in Chromium, and it starts offline', async ({
	playwright,
	baseURL
}, testInfo) => {
	// A browser profile on disk, as an installed app has (Chromium installs nothing from a private window).
	const profile = mkdtempSync(join(tmpdir(), 'pwa-'));
	const context = await playwright.chromium.launchPersistentContext(profile, {
		...testInfo.project.use.launchOptions,
		baseURL,
		locale: 'zh-CN'
	});
	const page = context.pages()[0] ?? (await context.newPage());
	await page.goto('/login');
	await expect(page.getByLabel('用户名')).toBeVisible();
	await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, {
		timeout: 20_000
	});
	const cdp = await context.newCDPSession(page);
	const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
	expect(installabilityErrors).toEqual([]);
	const manifest = await cdp.send('Page.getAppManifest');
	expect(manifest.errors).toEqual([]);
	const app = JSON.parse(manifest.data ?? '{}') as {
		name: string;
		display: string;
		start_url: string;
		icons: { src: string; sizes: string; purpose?: string }[];
	};
	expect(app).toMatchObject({ name: '广电呼叫中心', display: 'standalone', start_url: '/' });
	expect(app.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
	expect(app.icons.some((i) => i.purpose === 'maskable')).toBe(true);
	for (const icon of app.icons) {
		const res = await page.request.get(icon.src);
		expect(res.status(), icon.src).toBe(200);
		expect(res.headers()['content-type']).toBe('image/png');
	}

	// Started with no network: the app comes from the service worker's cache.
	await context.setOffline(true);
	const started = await page.reload();
	expect(started?.fromServiceWorker()).toBe(true);
	await expect(page.getByLabel('用户名')).toBeVisible();
	// The network really is gone for the page.
	expect(
		await page.evaluate(() =>
			fetch('/api/health').then(
				() => 'reached',
				() => 'unreachable'
			)
		)
	).toBe('unreachable');
	await context.close();
	rmSync(profile, { recursive: true, force: true });
});
