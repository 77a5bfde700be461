#!/usr/bin/env node
// Issue #15: the agent desk's JavaScript budget. Reads the built app (`build/web`) and computes what a page
// loads at start-up — SvelteKit's `entry/start` and `entry/app`, the page's layout nodes and its own node —
// following static imports only (a dynamic `import()` loads later, when its feature is used: charts, Excel,
// QR codes, the softphone's janus.js). Prints every file with its raw, gzip (-9) and brotli size, and what
// the page imports later; fails when the gzip total is above the budget or a start-up file lacks its
// precompressed .br/.gz copy (the server sends those). Cheap and browser-free: `npm test` runs it after
// the build; `test/bench/agent-desk.bench.ts` measures the same in Chromium.
//
//   node scripts/check-bundle.mjs [--route /agent] [--budget-kb 150] [--dir build/web] [--json]
//
// KB here is 1,000 bytes.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import {
	brotliCompressSync,
	brotliDecompressSync,
	constants,
	gunzipSync,
	gzipSync
} from 'node:zlib';
import { init, parse } from 'es-module-lexer';

const args = process.argv.slice(2);
const option = (name, fallback) => {
	const i = args.indexOf(`--${name}`);
	return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const route = option('route', '/agent');
const budgetKb = Number(option('budget-kb', '150'));
const dir = option('dir', 'build/web');
const asJson = args.includes('--json');

function fail(message) {
	console.error(`check-bundle: ${message}`);
	process.exit(1);
}

const shell = join(dir, '200.html');
if (!existsSync(shell)) fail(`${shell} not found: build the app first (npm run build:web)`);

// The shell starts the app with `import("/_app/immutable/entry/start.….js")` and `…/entry/app.….js`.
const html = readFileSync(shell, 'utf8');
const entries = [...html.matchAll(/import\("(\/_app\/immutable\/entry\/[^"]+\.js)"\)/g)].map(
	(m) => m[1]
);
const appEntry = entries.find((e) => /\/entry\/app\.[^/]+\.js$/.test(e));
if (!entries.some((e) => /\/entry\/start\./.test(e)) || !appEntry)
	fail(`no entry/start and entry/app import in ${shell}`);

// entry/app's route dictionary: `"/agent":[16]` or `"/admin/users":[14,[2]]` — the page node, then its
// layouts besides the root layout (node 0, always loaded).
const appSource = readFileSync(join(dir, appEntry), 'utf8');
const quoted = JSON.stringify(route).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const match = new RegExp(`${quoted}:\\[(\\d+)(?:,\\[([\\d,]*)\\])?`).exec(appSource);
if (!match) fail(`route ${route} not in the route dictionary of ${appEntry}`);
const nodeIds = [
	0,
	...(match[2] ? match[2].split(',').filter(Boolean).map(Number) : []),
	+match[1]
];
const nodesDir = join(dir, '_app/immutable/nodes');
const nodeFiles = nodeIds.map((id) => {
	const file = readdirSync(nodesDir).find((f) => f.startsWith(`${id}.`) && f.endsWith('.js'));
	if (!file) fail(`node ${id} (${route}) not found in ${nodesDir}`);
	return `/_app/immutable/nodes/${file}`;
});

// The static import closure (es-module-lexer: the parser Vite itself uses; type 1 is a static import,
// 2 a dynamic one).
await init;
const resolveFrom = (url, specifier) =>
	specifier.startsWith('/') ? specifier : posix.join(posix.dirname(url), specifier);
/** Files reached from `start` by static imports (not in `known`), and the dynamic imports they make. */
function closure(start, known = new Map()) {
	const seen = new Map();
	const dynamic = new Set();
	const queue = [...start];
	while (queue.length > 0) {
		const url = queue.shift();
		if (seen.has(url) || known.has(url)) continue;
		const source = readFileSync(join(dir, url), 'utf8');
		seen.set(url, source);
		for (const imp of parse(source)[0]) {
			if (!imp.n || !imp.n.endsWith('.js')) continue;
			if (imp.t === 1) queue.push(resolveFrom(url, imp.n));
			else if (imp.t === 2) dynamic.add(resolveFrom(url, imp.n));
		}
	}
	return { seen, dynamic };
}
const { seen, dynamic } = closure([...entries, ...nodeFiles]);
// What the page's own code loads later, when a feature is used (entry/app's `import()` of every page
// node is the router's, not this page's).
const gzipOf = (sources) =>
	sources.reduce((t, source) => t + gzipSync(Buffer.from(source), { level: 9 }).length, 0);
const laterUrls = [...dynamic].filter((url) => !seen.has(url) && !url.includes('/nodes/'));
const later = laterUrls
	.map((url) => {
		const files = [...closure([url], seen).seen.values()];
		return { file: relative(dir, join(dir, url)), files: files.length, gzip: gzipOf(files) };
	})
	.sort((a, b) => b.gzip - a.gzip);
const laterAll = closure(laterUrls, seen).seen;
const laterTotal = { files: laterAll.size, gzip: gzipOf([...laterAll.values()]) };
// The sources behind the chunks' hashed names, when the build's manifest is still there (for people).
const sourceOf = (() => {
	try {
		const manifest = JSON.parse(
			readFileSync('.svelte-kit/output/client/.vite/manifest.json', 'utf8')
		);
		const names = new Map(
			Object.entries(manifest).map(([src, m]) => [
				m.file,
				src.startsWith('_') ? (m.name ?? '') : src.replace(/^(\.\.\/)+(main\/)?/, '')
			])
		);
		return (file) => names.get(file.replace(/^.*?_app\//, '_app/')) ?? '';
	} catch {
		return () => '';
	}
})();

// The server sends the build's precompressed copies (server/app.ts): each start-up file must have them,
// and they must be of this build (a stale copy would be served in its place).
const missingCopies = [...seen.keys()].filter((url) => {
	const original = readFileSync(join(dir, url));
	try {
		return !(
			brotliDecompressSync(readFileSync(join(dir, `${url}.br`))).equals(original) &&
			gunzipSync(readFileSync(join(dir, `${url}.gz`))).equals(original)
		);
	} catch {
		return true;
	}
});

const files = [...seen].map(([url, source]) => {
	const buf = Buffer.from(source);
	return {
		file: relative(dir, join(dir, url)),
		raw: buf.length,
		gzip: gzipSync(buf, { level: 9 }).length,
		brotli: brotliCompressSync(buf, {
			params: {
				[constants.BROTLI_PARAM_QUALITY]: 11,
				[constants.BROTLI_PARAM_SIZE_HINT]: buf.length
			}
		}).length
	};
});
files.sort((a, b) => b.gzip - a.gzip);
const total = files.reduce(
	(t, f) => ({ raw: t.raw + f.raw, gzip: t.gzip + f.gzip, brotli: t.brotli + f.brotli }),
	{ raw: 0, gzip: 0, brotli: 0 }
);
const kb = (n) => (n / 1000).toFixed(1);
const ok = total.gzip <= budgetKb * 1000 && missingCopies.length === 0;

if (asJson) {
	console.log(
		JSON.stringify({ route, budgetKb, ok, total, files, later, laterTotal, missingCopies }, null, 1)
	);
} else {
	console.log(
		`${route}: ${files.length} files loaded at start-up (static imports of ${dirname(appEntry)}/…)`
	);
	console.log(
		`${'file'.padEnd(44)} ${'raw KB'.padStart(8)} ${'gzip KB'.padStart(8)} ${'br KB'.padStart(8)}`
	);
	for (const f of files)
		console.log(
			`${f.file.padEnd(44)} ${kb(f.raw).padStart(8)} ${kb(f.gzip).padStart(8)} ${kb(f.brotli).padStart(8)}  ${sourceOf(f.file)}`
		);
	console.log(
		`${'total'.padEnd(44)} ${kb(total.raw).padStart(8)} ${kb(total.gzip).padStart(8)} ${kb(total.brotli).padStart(8)}`
	);
	if (later.length > 0) {
		console.log(
			`loaded later by the page's import() when used (not counted; each with the files it adds):`
		);
		for (const l of later)
			console.log(
				`  ${l.file.padEnd(42)} ${kb(l.gzip).padStart(17)}  ${l.files} file(s)  ${sourceOf(l.file)}`
			);
		console.log(
			`  ${'all of them'.padEnd(42)} ${kb(laterTotal.gzip).padStart(17)}  ${laterTotal.files} file(s)`
		);
	}
	for (const url of missingCopies)
		console.log(`FAILED: ${url} has no precompressed .br/.gz copy of this build`);
	const within = total.gzip <= budgetKb * 1000;
	console.log(
		`${within ? 'ok' : 'FAILED'}: ${kb(total.gzip)} KB gzip ${within ? '≤' : '>'} ${budgetKb} KB budget`
	);
}
process.exit(ok ? 0 : 1);
