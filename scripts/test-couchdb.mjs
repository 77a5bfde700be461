#!/usr/bin/env node
// `npm run test:couchdb`: the integration suite and the end-to-end suite against the Apache CouchDB named
// by COUCHDB_URL (a single node or a cluster) instead of the embedded store. Every server the tests start
// works under its own database prefix beginning with this run's id (`test/helpers/couch.ts`); the run
// deletes every database of its id at the end. Not part of `npm test`, which stays on the embedded store.
import { mkdirSync } from 'node:fs';
import { createSuite } from './lib/suite.mjs';

const url = process.env.COUCHDB_URL;
if (!url) {
	console.error(
		'test:couchdb needs COUCHDB_URL, the Apache CouchDB 3.x to run against, with an account that may\n' +
			'create and delete databases, e.g.\n' +
			'  COUCHDB_URL=http://admin:secret@127.0.0.1:5984 npm run test:couchdb\n' +
			'(`npm test` runs the same suites on the embedded store and needs nothing.)'
	);
	process.exit(2);
}

const base = new URL(url);
const auth =
	base.username || base.password
		? 'Basic ' +
			Buffer.from(
				`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`
			).toString('base64')
		: null;
base.username = '';
base.password = '';
/**
 * One request to CouchDB, tried again on a network error: a keep-alive connection left idle through the
 * suites may have been closed by CouchDB by the time the run cleans up.
 */
async function couch(path, init = {}) {
	for (let attempt = 1; ; attempt++) {
		try {
			return await fetch(new URL(path, base), {
				...init,
				headers: { accept: 'application/json', ...(auth ? { authorization: auth } : {}) }
			});
		} catch (err) {
			if (attempt === 3) throw err;
		}
	}
}

let version;
try {
	const res = await couch('/');
	const body = await res.json();
	if (!res.ok || !body.couchdb) throw new Error(`${res.status} ${JSON.stringify(body)}`);
	version = body.version;
	const members = await couch('/_membership').then((r) => (r.ok ? r.json() : null));
	const nodes = members?.cluster_nodes?.length ?? 1;
	console.log(
		`Apache CouchDB ${version} at ${base.origin} (${nodes} node${nodes === 1 ? '' : 's'})`
	);
} catch (err) {
	console.error(`COUCHDB_URL does not answer as CouchDB (${base.origin}): ${err.message}`);
	process.exit(2);
}

const run = `t${Date.now().toString(36)}`;
console.log(`Run ${run}: every database of this run begins with ${run}_`);
mkdirSync('test-results', { recursive: true });
const suite = createSuite();
// The fuzz run checks every refused request against the store: CouchDB counts no writes, so each check reads
// every database's changes (40 inputs per route took ~10 min on a 3-node cluster): fewer inputs here.
const env = { COUCHDB_URL: url, COUCH_TEST_RUN: run, FUZZ_RUNS: process.env.FUZZ_RUNS ?? '15' };

/** Deletes every database of this run; a database that will not go is named, never fatal. */
async function cleanUp() {
	try {
		const all = await couch('/_all_dbs').then((r) => r.json());
		const mine = all.filter((name) => name.startsWith(`${run}_`));
		const left = [];
		for (const name of mine) {
			let gone = false;
			for (let attempt = 0; attempt < 3 && !gone; attempt++) {
				gone = await couch(`/${encodeURIComponent(name)}`, { method: 'DELETE' })
					.then((r) => r.ok || r.status === 404)
					.catch(() => false);
			}
			if (!gone) left.push(name);
		}
		console.log(`\nDeleted the run's ${mine.length - left.length} databases.`);
		if (left.length > 0) console.log(`  Could not delete: ${left.join(', ')}`);
	} catch (err) {
		console.log(`\nCould not list the run's databases to delete them: ${err.message}`);
	}
}

if (suite.step('install', 'node', ['scripts/ensure.mjs', '--test', '--couchdb']).code !== 0) {
	console.log('\n0 passed, 1 failed');
	process.exit(1);
}
suite.check('build', 'node', ['scripts/ensure.mjs', '--build']);
suite.vitest(
	['--project', 'integration', '--project', 'couchdb'],
	env,
	'test-results/vitest-couchdb.json'
);
suite.playwright(env);
await cleanUp();
const failed = suite.summary();
process.exit(failed > 0 ? 1 : 0);
