/**
 * #16 `npm run telephony`: Kamailio and Janus for several app servers (`TELEPHONY=shared` on each), run
 * apart from them so that calls in progress outlive any one app server. Configured by the same variables as
 * the app (SIP_*, JANUS_*, HOTLINES, ACD_*, EVAPI_PORT, TELEPHONY_KEY), plus APP_URL — where Kamailio asks
 * the app servers for credentials (the reverse proxy in front of them) — and TELEPHONY_HOST, the address the
 * app servers reach evapi and Janus's WebSocket at. Kamailio tells calls to the app server that holds call
 * routing (the newest to link) and tells a new one every call still waiting.
 */
import { SettingsError, loadSettings } from './settings';
import { privateFolder } from './secrets';
import { startTelephony } from './telephony/supervisor';
import { sharedSecrets } from './telephony/shared';
import { telephonySettings } from './telephony/telephony-config';

async function main() {
	const settings = loadSettings();
	if (!settings.telephonyKey) {
		throw new SettingsError(
			'npm run telephony needs TELEPHONY_KEY: the secret it shares with the app servers (TELEPHONY=shared)'
		);
	}
	if (!settings.sip.janusIp) {
		throw new SettingsError(
			'Janus needs an address of its own for SIP (no network interface but loopback): set JANUS_SIP_IP'
		);
	}
	privateFolder(settings.dataDir);
	const secrets = sharedSecrets(settings.telephonyKey);
	const log = (msg: string) => console.error(msg);
	const running = await startTelephony(
		telephonySettings(settings, {
			appUrl: settings.appUrl,
			serviceHost: settings.sip.telephonyHost,
			internalKey: secrets.internalKey,
			gateToken: secrets.gateToken,
			secret: secrets.secret
		}),
		log
	);
	console.log(
		`\n  广电呼叫中心 telephony: ${running.detail}\n` +
			`  App servers (TELEPHONY=shared, the same TELEPHONY_KEY) reach evapi at ${settings.sip.telephonyHost}:${settings.sip.evapiPort}; Kamailio asks ${settings.appUrl}\n`
	);
	let stopping = false;
	const stop = (signal: string) => {
		if (stopping) return;
		stopping = true;
		console.log(`${signal}: stopping Kamailio and Janus`);
		void running.stop().then(() => process.exit(0));
	};
	process.on('SIGINT', () => stop('SIGINT'));
	process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
	console.error(err instanceof SettingsError ? err.message : err);
	process.exit(1);
});
