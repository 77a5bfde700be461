#!/usr/bin/env node
// Makes a fresh clone runnable: installs npm packages when missing or stale, builds when sources changed
// (--build), and for the tests (--test) also the Debian packages they drive (Chromium, CJK fonts; with
// --couchdb haproxy) — through apt-get when running as root, with a clear message otherwise.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = new Set(process.argv.slice(2));
const run = (cmd) => execSync(cmd, { stdio: 'inherit' });
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

function newest(path) {
	if (!existsSync(path)) return 0;
	const st = statSync(path);
	if (!st.isDirectory()) return st.mtimeMs;
	let max = st.mtimeMs;
	for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)));
	return max;
}

// 1. npm packages (better-sqlite3 compiles its bundled SQLite: it needs a C++ toolchain and Python)
const toolchain = [
	['/usr/bin/g++', 'g++'],
	['/usr/bin/make', 'make'],
	['/usr/bin/python3', 'python3']
];
const missingTools = toolchain.filter(([file]) => !existsSync(file)).map(([, pkg]) => pkg);
if (missingTools.length > 0 && !existsSync('node_modules/better-sqlite3/build/Release')) {
	if (process.getuid?.() === 0) {
		console.log(`» Installing the build tools: ${missingTools.join(' ')} …`);
		run('apt-get update -qq -o DPkg::Lock::Timeout=600');
		run(
			`DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 ${missingTools.join(' ')}`
		);
	} else {
		console.error(
			`✗ Installing better-sqlite3 needs: ${missingTools.join(' ')}.\n` +
				`  Install them as root:  sudo apt-get install -y ${missingTools.join(' ')}`
		);
	}
}
const installed = 'node_modules/.package-lock.json';
if (
	!existsSync(installed) ||
	mtime('package-lock.json') > mtime(installed) ||
	mtime('package.json') > mtime(installed)
) {
	console.log('» Installing npm packages …');
	run('npm install --no-audit --no-fund');
}

// 2. Debian packages for the end-to-end tests
if (args.has('--test')) {
	const wanted = [
		['/usr/bin/chromium', 'chromium'],
		['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', 'fonts-noto-cjk'],
		// Telephony: Kamailio (registrar/router) and its module packages, Janus (WebRTC gateway), sipp
		// (the carrier in tests), sox (mixing recordings, IVR prompts), rtpengine (the IVR's media) and
		// espeak-ng (IVR prompts' speech).
		['/usr/sbin/kamailio', 'kamailio'],
		['/usr/lib/x86_64-linux-gnu/kamailio/modules/http_client.so', 'kamailio-utils-modules'],
		['/usr/lib/x86_64-linux-gnu/kamailio/modules/evapi.so', 'kamailio-extra-modules'],
		['/usr/lib/x86_64-linux-gnu/kamailio/modules/json.so', 'kamailio-json-modules'],
		['/usr/bin/janus', 'janus'],
		['/usr/bin/janus-pp-rec', 'janus-tools'],
		['/usr/bin/sipp', 'sip-tester'],
		['/usr/bin/sox', 'sox'],
		['/usr/bin/rtpengine', 'rtpengine-daemon'],
		['/usr/bin/espeak-ng', 'espeak-ng'],
		// `npm run test:couchdb`: the reverse proxy in front of two app servers (issue #16).
		...(args.has('--couchdb') ? [['/usr/sbin/haproxy', 'haproxy']] : [])
	];
	const missing = wanted.filter(([file]) => !existsSync(file)).map(([, pkg]) => pkg);
	if (missing.length > 0) {
		if (process.getuid?.() === 0) {
			console.log(`» Installing Debian packages: ${missing.join(' ')} …`);
			run('apt-get update -qq -o DPkg::Lock::Timeout=600');
			run(
				`DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 ${missing.join(' ')}`
			);
		} else {
			console.error(
				`✗ The end-to-end tests need the Debian packages: ${missing.join(' ')}.\n` +
					`  Install them as root:  sudo apt-get install -y ${missing.join(' ')}\n` +
					'  (Playwright drives /usr/bin/chromium; no browser is downloaded.)'
			);
		}
	}
}

// 3. Build when any source is newer than the last build
const stamp = 'build/.stamp';
const sources = [
	'src',
	'server',
	'sync',
	'static',
	'package.json',
	'package-lock.json',
	'svelte.config.js',
	'vite.config.ts',
	'scripts/build-server.mjs'
];
if (
	(args.has('--build') || args.has('--test')) &&
	Math.max(...sources.map(newest)) > mtime(stamp)
) {
	console.log('» Building …');
	run('npm run build');
	writeFileSync(stamp, new Date().toISOString() + '\n');
}
