#!/usr/bin/env node
// The whole suite behind `npm test`: type check, lint, vitest (unit, sync, integration) and Playwright
// end-to-end. Every runner runs even when an earlier one failed; the last line sums the results as
// `N passed, N failed` (build, the bundle budget, type check, format and lint count as one test each)
// and the exit code is 1 on any failure.
import { existsSync, mkdirSync } from 'node:fs';
import { createSuite } from './lib/suite.mjs';

mkdirSync('test-results', { recursive: true });
const suite = createSuite();

// Installs (npm packages; Debian packages as root). Without them nothing can run.
if (suite.step('install', 'node', ['scripts/ensure.mjs', '--test']).code !== 0) {
	console.log('\n0 passed, 1 failed');
	process.exit(1);
}

// The build the end-to-end tests run against; type check, lint and unit tests run even if it fails.
suite.check('build', 'node', ['scripts/ensure.mjs', '--build']);

// #15: the JavaScript the agent desk loads at start-up stays within its budget (reads the build above).
suite.check(
	'bundle',
	'node',
	['scripts/check-bundle.mjs', '--route', '/agent'],
	{},
	'bundle (/agent JavaScript budget)'
);

// Type check and lint: one "test" each.
suite.step('type check', 'npx', ['svelte-kit', 'sync']);
suite.check('type check', 'npx', [
	'svelte-check',
	'--tsconfig',
	'./tsconfig.json',
	'--fail-on-warnings',
	'--threshold',
	'warning'
]);
suite.check('format', 'npx', ['prettier', '--check', '.']);
suite.check('lint', 'npx', ['eslint', '.', '--max-warnings', '0']);

// vitest: unit (server, sync) and integration against the embedded store.
suite.vitest(['--project', 'server', '--project', 'sync', '--project', 'integration']);

// Playwright end-to-end in Debian's Chromium.
suite.playwright();

const failed = suite.summary();
process.exit(failed > 0 || !existsSync('test-results') ? 1 : 0);
