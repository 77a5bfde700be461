/**
 * #17 accessibility, measured in the real browser: axe-core on every page each role works in, in Chinese and
 * in English, finds no serious or critical violation (WCAG 2.x A and AA rules).
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../../playwright.config';
import { createUser, signIn, uniqueName } from './helpers';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** The serious and critical violations on the page as it is now: `<path> <rule>: <first elements>`. */
async function violations(page: Page, label: string): Promise<string[]> {
	const { violations } = await new AxeBuilder({ page }).withTags(TAGS).analyze();
	return violations
		.filter((v) => v.impact === 'serious' || v.impact === 'critical')
		.map(
			(v) =>
				`${label} ${v.id} (${v.impact}): ${v.nodes
					.slice(0, 3)
					.map((n) => n.target.join(' '))
					.join(' | ')}`
		);
}

/** Visits each path in both languages and collects what axe finds. */
async function audit(page: Page, paths: string[]): Promise<string[]> {
	const found: string[] = [];
	for (const locale of ['zh-CN', 'en']) {
		await page.goto(paths[0]!);
		await page.getByRole('combobox', { name: /语言|Language/ }).selectOption(locale);
		await expect(page.locator('html')).toHaveAttribute('lang', locale);
		for (const path of paths) {
			await page.goto(path);
			await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
			found.push(...(await violations(page, `${locale} ${path}`)));
		}
	}
	return found;
}

test('F34 sign-in and registration have no serious or critical accessibility violation', async ({
	page
}) => {
	expect(await audit(page, ['/login', '/register'])).toEqual([]);
});

test('F34 the agent desk, subscriber search and directory have no serious or critical accessibility violation', async ({
	page,
	request
}) => {
	const agent = uniqueName('axa');
	await createUser(request, { username: agent, roleKey: 'agent', agentId: '' });
	await signIn(page, agent);
	await expect(page.getByRole('heading', { name: '坐席工作台' })).toBeVisible();
	expect(await audit(page, ['/agent', '/customers', '/directory'])).toEqual([]);
});

test('F34 the department, crew and team leader pages have no serious or critical accessibility violation', async ({
	page,
	browser,
	request
}) => {
	// Three sign-ins, each page audited in two languages: over a minute on a busy 2-core machine.
	test.setTimeout(180_000);
	const dept = uniqueName('axd');
	const fitter = uniqueName('axf');
	const leader = uniqueName('axl');
	await createUser(request, {
		username: dept,
		roleKey: 'department',
		departmentId: 'department:network'
	});
	await createUser(request, {
		username: fitter,
		roleKey: 'crew',
		departmentId: 'department:engineering-install'
	});
	await createUser(request, { username: leader, roleKey: 'leader' });
	const found: string[] = [];
	for (const [username, paths] of [
		[dept, ['/department', '/notices']],
		[fitter, ['/field']],
		[leader, ['/supervisor', '/tickets', '/stats']]
	] as const) {
		const context = await browser.newContext({ locale: 'zh-CN' });
		const tab = await context.newPage();
		await signIn(tab, username);
		await expect(tab.getByRole('heading', { level: 1 })).toBeVisible();
		found.push(...(await audit(tab, [...paths])));
		await context.close();
	}
	expect(found).toEqual([]);
	await page.close();
});

test('F34 the administration pages have no serious or critical accessibility violation', async ({
	page
}) => {
	// Every administration page in two languages, each audited: past the 60 s default on a slow machine.
	test.setTimeout(180_000);
	await signIn(page, 'admin', E2E_ADMIN_PASSWORD);
	await expect(page.getByRole('heading', { name: '系统管理' })).toBeVisible();
	const paths = [
		'/admin',
		'/admin/users',
		'/admin/departments',
		'/admin/roles',
		'/admin/phrases',
		'/admin/catalogues',
		'/admin/flows',
		'/admin/customers',
		'/admin/desk-phones',
		'/admin/sync',
		'/admin/audit',
		'/admin/ivr'
	];
	expect(await audit(page, paths)).toEqual([]);
});
