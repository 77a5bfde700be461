/**
 * #16 `npm run telephony`: Kamailio and Janus for several app servers (`TELEPHONY=shared` on each), run
 * apart from them so that calls in progress outlive any one app server. Configured by the same variables as
 * the app (SIP_*, JANUS_*, HOTLINES, ACD_*, EVAPI_PORT, TELEPHONY_KEY), plus APP_URL — where Kamailio asks
 * the app servers for credentials (the reverse proxy in front of them) — and TELEPHONY_HOST, the address the
 * app servers reach evapi and Janus's WebSocket at. Kamailio tells calls to the app server that holds call
 * routing (the newest to link) and tells a new one every call still waiting.
 */
import { join } from 'node:path';
import { SettingsError, loadSettings } from './settings';
import { privateFolder } from './secrets';
import { startTelephony } from './telephony/supervisor';
import { sharedSecrets } from './telephony/shared';

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
		{
			dir: join(settings.dataDir, 'telephony'),
			sipHost: settings.sip.host,
			sipPort: settings.sip.port,
			sipDomain: settings.sip.domain,
			trunks: settings.sip.trunks,
			janusIp: settings.sip.janusIp,
			hotlines: settings.sip.hotlines,
			outbound: settings.sip.outbound,
			deskPhones: settings.sip.deskPhones,
			janusHttpPort: settings.sip.janusHttpPort,
			janusWsPort: settings.sip.janusWsPort,
			janusAdminPort: settings.sip.janusAdminPort,
			janusPublicIp: settings.sip.janusPublicIp,
			appUrl: settings.appUrl,
			internalKey: secrets.internalKey,
			gateToken: secrets.gateToken,
			secret: secrets.secret,
			evapiPort: settings.sip.evapiPort,
			serviceHost: settings.sip.telephonyHost,
			offerSeconds: settings.acd.offerSeconds,
			maxWaitSeconds: settings.acd.maxWaitSeconds
		},
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
