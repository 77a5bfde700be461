// What `npm test` (scripts/test-all.mjs) and `npm run test:couchdb` (scripts/test-couchdb.mjs) share: run a
// step, read vitest's and Playwright's JSON reports into passed/failed counts and names, and print the
// summary whose last line is `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

function readJson(path) {
	try {
		return JSON.parse(readFileSync(path, 'utf8'));
	} catch {
		return null;
	}
}

export function createSuite() {
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

	/** A step that counts as one test. */
	function check(name, cmd, args, env = {}, failure = name) {
		const { code, seconds } = step(name, cmd, args, env);
		results.push({ name, passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, seconds });
		if (code !== 0) failedNames.push(failure);
		return code;
	}

	/** vitest with `args` (projects, files), its results read from its JSON report. */
	function vitest(args = [], env = {}, report = 'test-results/vitest.json') {
		rmSync(report, { force: true });
		const { code, seconds } = step(
			'vitest',
			'npx',
			[
				'vitest',
				'run',
				...args,
				'--reporter=default',
				'--reporter=json',
				`--outputFile.json=${report}`
			],
			env
		);
		const json = readJson(report);
		const passed = json?.numPassedTests ?? 0;
		for (const file of json?.testResults ?? []) {
			const name = file.name.replace(`${process.cwd()}/`, '');
			for (const t of file.assertionResults ?? []) {
				if (t.status === 'failed') failedNames.push(`vitest  ${name} › ${t.fullName}`);
			}
			if (
				file.status === 'failed' &&
				!(file.assertionResults ?? []).some((t) => t.status === 'failed')
			) {
				failedNames.push(`vitest  ${name} (${(file.message ?? 'failed').split('\n')[0]})`);
			}
		}
		const failed =
			(json?.numFailedTests ?? 0) +
			(json ? 0 : 1) +
			(json && code !== 0 && json.numFailedTests === 0 ? 1 : 0);
		results.push({ name: 'vitest', passed, failed, seconds });
	}

	/** Playwright end-to-end in Debian's Chromium, its results read from its JSON report. */
	function playwright(env = {}) {
		const report = 'test-results/playwright.json';
		rmSync(report, { force: true });
		const { seconds } = step('playwright', 'npx', ['playwright', 'test'], {
			PLAYWRIGHT_JSON_OUTPUT_NAME: report,
			...env
		});
		const json = readJson(report);
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
		for (const e of json?.errors ?? []) {
			failedNames.push(`e2e     ${(e.message ?? '').split('\n')[0]}`);
		}
		const passed = stats ? stats.expected + stats.flaky : 0;
		const failed = stats ? stats.unexpected + (json.errors?.length ?? 0) : 1;
		results.push({ name: 'playwright', passed, failed, seconds });
	}

	/** Prints the summary; returns the number of failures. */
	function summary() {
		console.log('\n━━ Summary');
		if (failedNames.length > 0) {
			console.log('  Failed:');
			for (const name of failedNames) console.log(`    ✗ ${name}`);
		}
		if (flakyNames.length > 0) {
			console.log('  Passed only on a retry:');
			for (const name of flakyNames) console.log(`    ~ ${name}`);
		}
		for (const r of results) {
			console.log(`  ${r.name.padEnd(12)} ${r.passed} passed, ${r.failed} failed  (${r.seconds}s)`);
		}
		const passed = results.reduce((n, r) => n + r.passed, 0);
		const failed = results.reduce((n, r) => n + r.failed, 0);
		console.log(`${passed} passed, ${failed} failed`);
		return failed;
	}

	return { step, check, vitest, playwright, summary };
}
