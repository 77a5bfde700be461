/**
 * #15 a fresh agent browser on a center's store: real Chromium signs a center agent in on the capacity
 * benchmark's fixture (270,000 tickets, 1,000,000 subscribers) and syncs its working set from zero, the desk
 * open as an agent has it. Printed: sign-in → desk on screen, → the replica holds the whole working set (its
 * IndexedDB document count), the page's JS heap at its peak and at the end, and the requests the page made;
 * beside the same working set pulled by the capacity benchmark's raw device (the protocol alone, no browser),
 * as the baseline of the same run.
 *
 * `npx tsx test/bench/agent-first-sync.bench.ts` (after `npm run build`; builds the fixture when its cache
 * has none, ~20 min). BENCH_SYNC_TIMEOUT_S (default 180) bounds the wait; BENCH_PAGE_PROFILE=<file> writes
 * the page's CPU profile from sign-in to a complete replica (open it in Chromium's DevTools).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startTestServer } from '../helpers/server';
import { ensureFixture, prepareRun } from './capacity/fixture';
import { ensureHubSnapshot } from './capacity/warm';
import { benchSettings } from './capacity/settings';
import { RawDevice } from './capacity/device';
import { createClient } from './capacity/http';

/** Every fixture user's password (`BENCH_PASSWORD` of test/bench/capacity/fixture.ts). */
const FIXTURE_PASSWORD = 'bench-password-15';
const TIMEOUT_MS = Number(process.env.BENCH_SYNC_TIMEOUT_S ?? 180) * 1000;

const s = benchSettings();
const fixture = await ensureFixture(s.sizes, s.cacheRoot, s.cacheMaxAgeDays);
await ensureHubSnapshot(fixture, console.log);
const runDir = mkdtempSync(join(tmpdir(), 'agent-first-sync-'));
const prepared = await prepareRun(fixture, runDir);
const server = await startTestServer({ DATA_DIR: prepared.dataDir, TELEPHONY: 'off' });
const [browserUser, rawUser] = fixture.manifest.users.filter((u) => u.kind === 'spare');
if (!browserUser || !rawUser) throw new Error('the fixture has no two spare agents');

// The baseline: the same working set (a spare center agent's: no tickets of their own) by the raw client.
const client = createClient(server.url);
const raw = new RawDevice({
	name: 'baseline',
	cookie: prepared.cookies.get(rawUser.id)!,
	client,
	mode: 'filtered',
	checkpoints: 'device',
	start: 0,
	events: false
});
const tr = performance.now();
raw.start();
await raw.live;
const rawMs = performance.now() - tr;
raw.stop();
const workingSet = raw.revs.size;
console.log(`raw device: ${workingSet} tickets in ${Math.round(rawMs)} ms`);

const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	args: ['--no-sandbox', '--disable-gpu']
});
const context = await browser.newContext({ baseURL: server.url, locale: 'zh-CN' });
const page = await context.newPage();
const requests = new Map<string, { n: number; bytes: number }>();
page.on('requestfinished', (req) => {
	const key = `${req.method()} ${new URL(req.url()).pathname.replace(/\/_local\/.*/, '/_local/…')}`;
	void req
		.sizes()
		.catch(() => ({ responseBodySize: 0 }))
		.then((sizes) => {
			const e = requests.get(key) ?? { n: 0, bytes: 0 };
			e.n += 1;
			e.bytes += sizes.responseBodySize;
			requests.set(key, e);
		});
});
await page.goto('/login');
const cdp = await context.newCDPSession(page);
let heapPeak = 0;
const sampler = setInterval(() => {
	void cdp
		.send('Runtime.getHeapUsage')
		.then((h) => (heapPeak = Math.max(heapPeak, h.usedSize)))
		.catch(() => {});
}, 500);

await page.getByLabel('用户名').fill(browserUser.username);
await page.getByRole('textbox', { name: '密码', exact: true }).fill(FIXTURE_PASSWORD);
const profilePath = process.env.BENCH_PAGE_PROFILE;
if (profilePath) {
	await cdp.send('Profiler.enable');
	await cdp.send('Profiler.start');
}
const t0 = performance.now();
await page.getByRole('textbox', { name: '密码', exact: true }).press('Enter');
await page.getByRole('heading', { name: '坐席工作台' }).waitFor();
const deskMs = performance.now() - t0;
// The page counts its own replica (PouchDB's `indexeddb` adapter keeps the documents in `docs`) whenever it is
// idle, and the benchmark waits for the count to reach the whole working set.
// (tsx names the functions it compiles with a `__name` helper the page does not have.)
await page.evaluate('globalThis.__name ??= (f) => f');
await page.evaluate(() => {
	const state = globalThis as unknown as { replicaHeld: number };
	state.replicaHeld = 0;
	const count = async () => {
		const names = (await indexedDB.databases()).flatMap((d) =>
			d.name?.startsWith('_pouch_cc-tickets-v2-') ? [d.name] : []
		);
		let held = 0;
		for (const name of names) {
			const db = await new Promise<IDBDatabase>((resolve, reject) => {
				const req = indexedDB.open(name);
				req.onsuccess = () => resolve(req.result);
				req.onerror = () => reject(req.error);
			});
			if (db.objectStoreNames.contains('docs')) {
				held += await new Promise<number>((resolve, reject) => {
					const req = db.transaction('docs').objectStore('docs').count();
					req.onsuccess = () => resolve(req.result);
					req.onerror = () => reject(req.error);
				});
			}
			db.close();
		}
		state.replicaHeld = held;
		requestIdleCallback(() => void count(), { timeout: 500 });
	};
	void count();
});
const complete = await page
	.waitForFunction(
		(wanted: number) => (globalThis as unknown as { replicaHeld: number }).replicaHeld >= wanted,
		workingSet,
		{ timeout: TIMEOUT_MS }
	)
	.then(() => true)
	.catch(() => false);
const syncedMs = complete ? performance.now() - t0 : null;
if (profilePath) {
	const { profile } = await cdp.send('Profiler.stop');
	writeFileSync(profilePath, JSON.stringify(profile));
}
// The desk shows what arrived: the callbacks due list has its pages. Its label is read until it stays the
// same for 3 s (at most 60 s): when it first showed its final count is when the desk caught up.
const pager = page.getByRole('region', { name: '待回访' }).getByRole('navigation');
const atComplete = await pager
	.getAttribute('aria-label', { timeout: 30_000 })
	.catch(() => '(no pager)');
let callbacks = atComplete;
let shownMs = performance.now() - t0;
// Each change of the label is waited for (no polling); none within 3 s means it settled.
for (;;) {
	const changed = await pager
		.evaluate(
			(el, old) =>
				new Promise<string | null>((resolve) => {
					const done = (v: string | null) => (
						observer.disconnect(),
						clearTimeout(timer),
						resolve(v)
					);
					const observer = new MutationObserver(() => {
						const now = el.getAttribute('aria-label');
						if (now !== old) done(now);
					});
					observer.observe(el, { attributes: true, attributeFilter: ['aria-label'] });
					const timer = setTimeout(() => done(null), 3_000);
					if (el.getAttribute('aria-label') !== old) done(el.getAttribute('aria-label'));
				}),
			callbacks
		)
		.catch(() => null);
	if (changed === null || performance.now() - t0 > TIMEOUT_MS + 60_000) break;
	callbacks = changed;
	shownMs = performance.now() - t0;
}
clearInterval(sampler);
const heapEnd = (await cdp.send('Runtime.getHeapUsage')).usedSize;

const mb = (b: number) => `${Math.round(b / 1e6)} MB`;
console.log(
	`\n#15 fresh agent browser on ${fixture.manifest.counts.tickets} tickets, ${fixture.manifest.counts.customers} subscribers\n` +
		`  working set                 ${workingSet} tickets\n` +
		`  raw device (baseline)       ${Math.round(rawMs)} ms\n` +
		`  sign-in → desk on screen    ${Math.round(deskMs)} ms\n` +
		`  sign-in → replica complete  ${syncedMs === null ? `> ${TIMEOUT_MS} ms` : `${Math.round(syncedMs)} ms`}\n` +
		`  callbacks list at complete  ${atComplete}\n` +
		`  callbacks list settled      ${callbacks} (from ${Math.round(shownMs)} ms)\n` +
		`  JS heap peak / end          ${mb(heapPeak)} / ${mb(heapEnd)}`
);
console.log(
	[...requests]
		.sort((a, b) => b[1].bytes - a[1].bytes)
		.slice(0, 10)
		.map(([k, v]) => `  ${k.padEnd(40)} ×${v.n}  ${Math.round(v.bytes / 1e3)} KB`)
		.join('\n')
);
await browser.close();
client.close();
await server.close();
rmSync(runDir, { recursive: true, force: true });
process.exit(syncedMs === null ? 1 : 0);
