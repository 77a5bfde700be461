/**
 * #17 Lighthouse (pinned 12.2.3, the last line that runs on Node 20) on the screens people work in all
 * day: the sign-in page, the agent console (signed in, first sync done, telephony on when installed) and
 * the crew page on a tablet — accessibility, best practices and performance, as the product is built.
 * Chromium's own installability check (the PWA's) is an end-to-end test, `pwa.e2e.ts`: Lighthouse 12 no
 * longer has a PWA category.
 *   npm run bench:lighthouse          (builds first)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lighthouse from 'lighthouse';
import { chromium } from '@playwright/test';
import { freePort } from '../helpers/child-server';
import { startProduct } from '../helpers/product';

const TARGET = 95;
const CATEGORIES = ['accessibility', 'best-practices', 'performance'] as const;
const DESKTOP = { mobile: false, width: 1366, height: 768, deviceScaleFactor: 1, disabled: false };
const TABLET = { mobile: true, width: 1280, height: 800, deviceScaleFactor: 1, disabled: false };

const product = await startProduct('lighthouse');
const debugPort = await freePort();
const profile = mkdtempSync(join(tmpdir(), 'lighthouse-profile-'));
// One browser profile (Lighthouse audits in the default context, where the sign-in's cookie and replica are).
const context = await chromium.launchPersistentContext(profile, {
	executablePath: '/usr/bin/chromium',
	locale: 'zh-CN',
	args: [
		`--remote-debugging-port=${debugPort}`,
		'--no-sandbox',
		'--use-fake-device-for-media-stream',
		'--use-fake-ui-for-media-stream'
	]
});
const page = context.pages()[0] ?? (await context.newPage());

interface Row {
	screen: string;
	scores: Record<string, number>;
	failing: string[];
}
const rows: Row[] = [];

async function audit(screen: string, path: string, screenEmulation: typeof DESKTOP) {
	const result = await lighthouse(
		`${product.base}${path}`,
		{
			port: debugPort,
			output: 'json',
			logLevel: 'error',
			onlyCategories: [...CATEGORIES],
			disableStorageReset: true,
			formFactor: screenEmulation.mobile ? 'mobile' : 'desktop',
			screenEmulation,
			throttlingMethod: 'provided'
		},
		undefined
	);
	if (!result) throw new Error(`no Lighthouse result for ${path}`);
	const { lhr } = result;
	if (lhr.runtimeError) {
		throw new Error(`Lighthouse on ${path}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
	}
	const scores = Object.fromEntries(
		CATEGORIES.map((c) => [c, Math.round((lhr.categories[c]?.score ?? 0) * 100)])
	);
	// What cost points in the two categories with a target, to fix or to explain.
	const failing = (['accessibility', 'best-practices'] as const).flatMap((c) =>
		(lhr.categories[c]?.auditRefs ?? [])
			.filter((ref) => ref.weight > 0 && (lhr.audits[ref.id]?.score ?? 1) < 1)
			.map((ref) => `${c}: ${ref.id} — ${lhr.audits[ref.id]?.title ?? ''}`)
	);
	rows.push({ screen, scores, failing });
	const metric = (id: string) => lhr.audits[id]?.displayValue ?? '—';
	console.log(
		`${screen.padEnd(28)} ${CATEGORIES.map((c) => `${c} ${scores[c]}`).join(' · ')}` +
			`  (FCP ${metric('first-contentful-paint')}, LCP ${metric('largest-contentful-paint')}, ` +
			`TBT ${metric('total-blocking-time')}, CLS ${metric('cumulative-layout-shift')})`
	);
	for (const f of failing) console.log(`    ${f}`);
	// What moved, when anything did.
	const shifts =
		(
			lhr.audits['layout-shifts']?.details as
				{ items?: { score?: number; node?: { snippet?: string; selector?: string } }[] } | undefined
		)?.items ?? [];
	for (const shift of shifts.slice(0, 5)) {
		console.log(
			`      shift ${shift.score?.toFixed(3)}: ${shift.node?.selector ?? ''} ${shift.node?.snippet?.slice(0, 100) ?? ''}`
		);
	}
	const errors =
		(
			lhr.audits['errors-in-console']?.details as
				{ items?: { description?: string; source?: string }[] } | undefined
		)?.items ?? [];
	for (const e of errors) console.log(`      console: ${e.source ?? ''} ${e.description ?? ''}`);
}

try {
	await product.user('lh-agent', '李娜', 'agent', { agentId: '1201' });
	await product.user('lh-crew', '王强', 'crew', { departmentId: 'department:engineering-install' });
	console.log(
		`Lighthouse ${(await import('lighthouse/package.json', { with: { type: 'json' } })).default.version} · Chromium ${context.browser()?.version() ?? ''}`
	);
	await audit('sign-in (desktop)', '/login', DESKTOP);
	await product.signIn(page, 'lh-agent');
	await audit('agent console (1366×768)', '/agent', DESKTOP);
	await page.request.delete(`${product.base}/api/session`);
	await product.signIn(page, 'lh-crew');
	await audit('crew page (tablet 1280×800)', '/field', TABLET);
	const below = rows.filter(
		(r) => r.scores.accessibility! < TARGET || r.scores['best-practices']! < TARGET
	);
	console.log(
		below.length === 0
			? `accessibility and best practices ≥ ${TARGET} on every screen`
			: `below ${TARGET}: ${below.map((r) => r.screen).join(', ')}`
	);
} finally {
	await context.close();
	rmSync(profile, { recursive: true, force: true });
	await product.stop();
}
