#!/usr/bin/env node
// The whole suite behind `npm test`: type check, lint, vitest (unit, sync, integration) and Playwright
// end-to-end. Every runner runs even when an earlier one failed; the last line sums the results as
// `N passed, N failed` (build, the bundle budget, type check, format and lint count as one test each)
// and the exit code is 1 on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

mkdirSync('test-results', { recursive: true });
const results = [];
/** The names of what failed (and of end-to-end tests that passed only on a retry), for the summary. */
const failedNames = [];
const flakyNames = [];

function step(name, cmd, args, env = {}) {
	console.log(`\n━━ ${name}: ${cmd} ${args.join(' ')}`);
	const started = Date.now();
	const res = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
	const seconds = ((Date.now() - started) / 1000).toFixed(1);
	return { code: res.status ?? 1, seconds };
}

function readJson(path) {
	try {
		return JSON.parse(readFileSync(path, 'utf8'));
	} catch {
		return null;
	}
}

// Installs (npm packages; Debian packages as root). Without them nothing can run.
if (step('install', 'node', ['scripts/ensure.mjs', '--test']).code !== 0) {
	console.log('\n0 passed, 1 failed');
	process.exit(1);
}

// The build the end-to-end tests run against; type check, lint and unit tests run even if it fails.
{
	const { code, seconds } = step('build', 'node', ['scripts/ensure.mjs', '--build']);
	results.push({ name: 'build', passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, seconds });
	if (code !== 0) failedNames.push('build');
}

// #15: the JavaScript the agent desk loads at start-up stays within its budget (reads the build above).
{
	const { code, seconds } = step('bundle', 'node', [
		'scripts/check-bundle.mjs',
		'--route',
		'/agent'
	]);
	results.push({ name: 'bundle', passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, seconds });
	if (code !== 0) failedNames.push('bundle (/agent JavaScript budget)');
}

// Type check and lint: one "test" each.
for (const [name, cmd, args] of [
	['type check', 'npx', ['svelte-kit', 'sync']],
	[
		'type check',
		'npx',
		[
			'svelte-check',
			'--tsconfig',
			'./tsconfig.json',
			'--fail-on-warnings',
			'--threshold',
			'warning'
		]
	],
	['format', 'npx', ['prettier', '--check', '.']],
	['lint', 'npx', ['eslint', '.', '--max-warnings', '0']]
]) {
	const { code, seconds } = step(name, cmd, args);
	if (cmd === 'npx' && args[0] === 'svelte-kit') continue;
	results.push({ name, passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, seconds });
	if (code !== 0) failedNames.push(name);
}

// vitest: unit (server, sync) and integration against the embedded store.
rmSync('test-results/vitest.json', { force: true });
{
	const { code, seconds } = step('vitest', 'npx', [
		'vitest',
		'run',
		'--reporter=default',
		'--reporter=json',
		'--outputFile.json=test-results/vitest.json'
	]);
	const json = readJson('test-results/vitest.json');
	const passed = json?.numPassedTests ?? 0;
	for (const file of json?.testResults ?? []) {
		for (const t of file.assertionResults ?? []) {
			if (t.status === 'failed')
				failedNames.push(`vitest  ${file.name.replace(`${process.cwd()}/`, '')} › ${t.fullName}`);
		}
		if (
			file.status === 'failed' &&
			!(file.assertionResults ?? []).some((t) => t.status === 'failed')
		) {
			failedNames.push(
				`vitest  ${file.name.replace(`${process.cwd()}/`, '')} (${(file.message ?? 'failed').split('\n')[0]})`
			);
		}
	}
	const failed =
		(json?.numFailedTests ?? 0) +
		(json ? 0 : 1) +
		(json && code !== 0 && json.numFailedTests === 0 ? 1 : 0);
	results.push({ name: 'vitest', passed, failed, seconds });
}

// Playwright end-to-end in Debian's Chromium.
rmSync('test-results/playwright.json', { force: true });
{
	const { seconds } = step('playwright', 'npx', ['playwright', 'test'], {
		PLAYWRIGHT_JSON_OUTPUT_NAME: 'test-results/playwright.json'
	});
	const json = readJson('test-results/playwright.json');
	const stats = json?.stats;
	const walk = (suite, file) => {
		for (const spec of suite.specs ?? []) {
			for (const t of spec.tests ?? []) {
				if (t.status === 'unexpected') failedNames.push(`e2e     ${file} › ${spec.title}`);
				else if (t.status === 'flaky') flakyNames.push(`e2e     ${file} › ${spec.title}`);
			}
		}
		for (const child of suite.suites ?? []) walk(child, file);
	};
	for (const suite of json?.suites ?? []) walk(suite, suite.file ?? suite.title);
	for (const e of json?.errors ?? [])
		failedNames.push(`e2e     ${(e.message ?? '').split('\n')[0]}`);
	const passed = stats ? stats.expected + stats.flaky : 0;
	const failed = stats ? stats.unexpected + (json.errors?.length ?? 0) : 1;
	results.push({ name: 'playwright', passed, failed, seconds });
}

console.log('\n━━ Summary');
if (failedNames.length > 0) {
	console.log('  Failed:');
	for (const name of failedNames) console.log(`    ✗ ${name}`);
}
if (flakyNames.length > 0) {
	console.log('  Passed only on a retry:');
	for (const name of flakyNames) console.log(`    ~ ${name}`);
}
for (const r of results)
	console.log(`  ${r.name.padEnd(12)} ${r.passed} passed, ${r.failed} failed  (${r.seconds}s)`);
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || !existsSync('test-results') ? 1 : 0);
