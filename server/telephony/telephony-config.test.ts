/**
 * #13 the settings Kamailio's trust rests on: trunks by address and port, Janus on an address of its own,
 * never a trunk's. (What Kamailio does with them is proven against the real one in
 * test/integration/sip-security.test.ts.)
 */
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { SettingsError, loadSettings } from '../settings';
import { renderJanus, renderKamailio, type TelephonySettings } from './telephony-config';

const lanIp = Object.values(networkInterfaces())
	.flatMap((l) => l ?? [])
	.find((a) => a.family === 'IPv4' && !a.internal)?.address;

const settings = (over: Partial<TelephonySettings> = {}): TelephonySettings => ({
	dir: '/tmp/x',
	sipHost: '10.0.0.5',
	sipPort: 5060,
	sipDomain: 'callcenter.local',
	trunks: [],
	janusIp: '10.0.0.5',
	hotlines: ['96000'],
	ivrHotlines: [],
	ivrPort: 5070,
	outbound: '',
	deskPhones: [],
	janusHttpPort: 8088,
	janusWsPort: 8188,
	janusAdminPort: 7088,
	janusPublicIp: '',
	appUrl: 'http://127.0.0.1:3000',
	serviceHost: '127.0.0.1',
	internalKey: 'key',
	gateToken: 'gate',
	secret: 'secret',
	evapiPort: 8448,
	offerSeconds: 15,
	maxWaitSeconds: 120,
	...over
});

describe('#13 SIP_TRUNKS and JANUS_SIP_IP', () => {
	it('reads trunks with and without a port', () => {
		const settings = loadSettings({
			SIP_HOST: '10.0.0.5',
			JANUS_SIP_IP: lanIp,
			SIP_TRUNKS: '203.0.113.7:5060, 198.51.100.1, [2001:db8::1]:5070'
		});
		expect(settings.sip.trunks).toEqual([
			{ ip: '203.0.113.7', port: 5060 },
			{ ip: '198.51.100.1', port: null },
			{ ip: '2001:db8::1', port: 5070 }
		]);
		expect(() => loadSettings({ SIP_TRUNKS: '203.0.113.7:99999' })).toThrow(/SIP_TRUNKS/);
		expect(() => loadSettings({ SIP_TRUNKS: '203.0.113:5060' })).toThrow(/SIP_TRUNKS/);
	});

	it.runIf(lanIp)(
		'gives Janus this machine’s LAN address beside a loopback SIP_HOST, never a trunk’s',
		() => {
			expect(loadSettings({}).sip.janusIp).toBe(lanIp);
			expect(loadSettings({ SIP_HOST: '10.0.0.5' }).sip.janusIp).toBe('10.0.0.5');
			expect(() => loadSettings({ SIP_TRUNKS: `127.0.0.1, ${lanIp}:5060` })).toThrow(SettingsError);
			expect(() => loadSettings({ SIP_TRUNKS: lanIp })).toThrow(/Janus's SIP address/);
			// Janus binds only to its interfaces' addresses: a loopback alias would be ignored.
			expect(() => loadSettings({ JANUS_SIP_IP: '127.0.0.2' })).toThrow(/JANUS_SIP_IP/);
		}
	);

	it('matches trunks on source address and, where given, port; Janus on its address', () => {
		const cfg = renderKamailio(
			settings({
				trunks: [
					{ ip: '203.0.113.7', port: 5060 },
					{ ip: '198.51.100.1', port: null }
				],
				deskPhones: ['10.1.0.0']
			})
		);
		expect(cfg).toContain('if (($si == "203.0.113.7" && $sp == 5060) || $si == "198.51.100.1") {');
		expect(cfg).toContain('if (!($si == "10.0.0.5")) {');
		const janus = renderJanus(settings({ janusIp: '10.0.0.9' }))['janus.plugin.sip.jcfg'];
		expect(janus).toContain('local_ip = "10.0.0.9"');
		expect(janus).toContain('sdp_ip = "10.0.0.9"');
	});

	it('trusts no trunk at all when none is configured', () => {
		const cfg = renderKamailio(settings());
		expect(cfg).toContain('if (0) {\n\t\tif ($rU == "96000") {');
	});
});

describe('#18 IVR_HOTLINES', () => {
	it('sends the carrier’s calls to those hotlines to the menu, and takes hand-offs from the menu’s address only', () => {
		const cfg = renderKamailio(
			settings({
				hotlines: ['96000', '96001'],
				ivrHotlines: ['96001'],
				ivrPort: 5070,
				trunks: [{ ip: '10.0.0.9', port: null }]
			})
		);
		expect(cfg).toContain('if (($si == "10.0.0.5" && $sp == 5070)) {');
		expect(cfg).toContain('if ($rU == "96001") {');
		expect(cfg).toContain('$du = "sip:10.0.0.5:5070";');
		// Without a menu nothing of it is there.
		const plain = renderKamailio(settings({ hotlines: ['96000', '96001'] }));
		expect(plain).not.toContain('5070');
		expect(plain).not.toContain('X-IVR-Call-ID');
	});

	it('must name hotlines', () => {
		expect(() => loadSettings({ HOTLINES: '96000', IVR_HOTLINES: '96001' })).toThrow(
			/IVR_HOTLINES: 96001 not among the hotlines/
		);
		expect(() => loadSettings({ IVR_RTP_PORTS: '30000-30003' })).toThrow(SettingsError);
		expect(loadSettings({ HOTLINES: '96000,96001', IVR_HOTLINES: '96001' }).ivr).toMatchObject({
			hotlines: ['96001'],
			sipPort: 5070,
			rtpMin: 30000,
			rtpMax: 30999
		});
	});
});
