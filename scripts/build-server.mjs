// Bundles the server (server/index.ts and what it imports from src/lib/shared and sync/) into
// build/server/index.js, and the search index writer's thread into build/server/customer-index-worker.js;
// npm packages stay external and load from node_modules. The embedded store's worker thread is plain
// JavaScript and is copied beside the bundle.
import { build } from 'esbuild';
import { copyFileSync } from 'node:fs';

const common = {
	bundle: true,
	platform: 'node',
	format: 'esm',
	target: 'node20',
	packages: 'external',
	// `#shared/*` is this package's own import map (package.json "imports"), not a dependency: bundle it.
	alias: { '#shared': './src/lib/shared' },
	sourcemap: true,
	logLevel: 'warning'
};
await build({ ...common, entryPoints: ['server/index.ts'], outfile: 'build/server/index.js' });
// #16 Kamailio and Janus shared by several app servers (`npm run telephony`).
await build({
	...common,
	entryPoints: ['server/telephony-node.ts'],
	outfile: 'build/server/telephony.js'
});
await build({
	...common,
	entryPoints: ['server/services/customer-index-worker.ts'],
	outfile: 'build/server/customer-index-worker.js'
});

copyFileSync('server/store/embedded-worker.mjs', 'build/server/embedded-worker.mjs');
