import { defineConfig } from '@playwright/test';
import { couchEnv } from './test/helpers/couch';

/**
 * The e2e server: the built product on its own port, with a fresh embedded store for every run (or fresh
 * databases on the Apache CouchDB of `COUCHDB_URL`, `npm run test:couchdb`).
 */
export const E2E_PORT = 4173;
export const E2E_ADMIN_PASSWORD = 'e2e-admin-password';
/** Kamailio's port for the end-to-end server (Janus and evapi use the next four). */
export const E2E_SIP_PORT = 24_160;
/** F29: the e2e server is the center of one branch office, which `branch.e2e.ts` starts on this port. */
export const E2E_BRANCH_PORT = E2E_PORT + 7;
export const E2E_BRANCH = { name: 'e2e-east', key: 'e2e-branch-key-0123456789' };
/** Where the e2e carrier's gateway (a sipp) takes agents' outbound calls. */
export const E2E_GATEWAY_PORT = E2E_SIP_PORT + 6;
const DATA_DIR = 'test-results/e2e-data';

/** Debian's Chromium as every browser test drives it (F30: a fake microphone, media on loopback). */
export const CHROMIUM_LAUNCH = {
	executablePath: '/usr/bin/chromium',
	args: [
		'--no-sandbox',
		'--disable-gpu',
		'--disable-quic',
		'--no-first-run',
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync',
		// F30: agents' microphones are Chromium's fake device; media stays on loopback.
		'--use-fake-device-for-media-stream',
		'--use-fake-ui-for-media-stream',
		'--allow-loopback-in-peer-connection',
		'--autoplay-policy=no-user-gesture-required'
	]
};

export default defineConfig({
	testDir: 'test/e2e',
	testMatch: '**/*.e2e.ts',
	timeout: 60_000,
	expect: { timeout: 10_000 },
	workers: 1,
	forbidOnly: !!process.env.CI,
	reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
	use: {
		baseURL: `http://127.0.0.1:${E2E_PORT}`,
		locale: 'zh-CN',
		trace: 'retain-on-failure',
		launchOptions: CHROMIUM_LAUNCH
	},
	webServer: {
		command: `rm -rf ${DATA_DIR} && node build/server/index.js`,
		url: `http://127.0.0.1:${E2E_PORT}/api/health`,
		reuseExistingServer: false,
		timeout: 60_000,
		env: {
			PORT: String(E2E_PORT),
			HOST: '127.0.0.1',
			DATA_DIR,
			ADMIN_PASSWORD: E2E_ADMIN_PASSWORD,
			// Kamailio and Janus run when installed (npm test installs them as root).
			TELEPHONY: 'auto',
			SIP_PORT: String(E2E_SIP_PORT),
			JANUS_HTTP_PORT: String(E2E_SIP_PORT + 1),
			JANUS_WS_PORT: String(E2E_SIP_PORT + 2),
			JANUS_ADMIN_PORT: String(E2E_SIP_PORT + 3),
			EVAPI_PORT: String(E2E_SIP_PORT + 4),
			// #18 F23 the second hotline has the voice menu in front (rtpengine, espeak-ng when installed).
			HOTLINES: '96000,96001',
			IVR_HOTLINES: '96001',
			IVR_SIP_PORT: String(E2E_SIP_PORT + 10),
			IVR_NG_PORT: String(E2E_SIP_PORT + 11),
			IVR_DTMF_PORT: String(E2E_SIP_PORT + 12),
			IVR_RTP_PORTS: '43000-43199',
			JANUS_PUBLIC_IP: '127.0.0.1',
			SIP_OUTBOUND: `127.0.0.1:${E2E_GATEWAY_PORT}`,
			DESK_PHONES: '127.0.0.3',
			RECORD_CALLS: 'on',
			// The suite registers ~60 users from 127.0.0.1; registrations per address are 5× this limit.
			LOGIN_MAX_FAILURES: '100',
			AGENT_GONE_SECONDS: '5',
			ACD_OFFER_SECONDS: '5',
			ACD_MAX_WAIT_SECONDS: '10',
			ACD_WRAPUP_SECONDS: '1',
			BRANCHES: `${E2E_BRANCH.name}=${E2E_BRANCH.key}@department:business-east`,
			// `npm run test:couchdb`: on that Apache CouchDB, under this run's own database prefix.
			...couchEnv('e2e')
		}
	}
});
