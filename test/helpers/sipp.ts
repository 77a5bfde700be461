/**
 * sipp (Debian `sip-tester`) as the carrier or a SIP endpoint in tests: runs one scenario, returns its exit
 * code (0 = every expected message came) and its output. Each run gets its own local port.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let nextPort = 25_070 + Math.floor(Math.random() * 2000);

export async function runSipp(
	scenario: string,
	target: string,
	options: {
		service?: string;
		localIp?: string;
		args?: string[];
		timeoutS?: number;
		port?: number;
		/** Where sipp runs and writes its logs (a fresh temporary folder by default). */
		cwd?: string;
	} = {}
): Promise<{ code: number; output: string }> {
	const dir = options.cwd ?? mkdtempSync(join(tmpdir(), 'sipp-'));
	const file = join(dir, 'scenario.xml');
	writeFileSync(file, scenario);
	const args = [
		'-sf',
		file,
		'-s',
		options.service ?? 'test',
		target,
		'-i',
		options.localIp ?? '127.0.0.1',
		'-p',
		String(options.port ?? nextPort++),
		'-m',
		'1',
		'-l',
		'1',
		'-nostdin',
		'-timeout',
		`${options.timeoutS ?? 10}s`,
		'-timeout_error',
		...(options.args ?? [])
	];
	return new Promise((resolve, reject) => {
		const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
		let output = '';
		child.stdout.on('data', (d: Buffer) => (output += d.toString()));
		child.stderr.on('data', (d: Buffer) => (output += d.toString()));
		child.on('error', reject);
		child.on('exit', (code) => resolve({ code: code ?? -1, output }));
	});
}

const HEAD = `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">`;

/** REGISTER as `[service]`, answer the challenge with -au/-ap, expect `finalCode`. */
export const registerScenario = (domain: string, finalCode: number, expires = 60) => `${HEAD}
<scenario name="register">
  <send retrans="500"><![CDATA[
REGISTER sip:${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@${domain}>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@${domain}>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:[service]@[local_ip]:[local_port]>
Expires: ${expires}
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
REGISTER sip:${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@${domain}>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@${domain}>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:[service]@[local_ip]:[local_port]>
[authentication]
Expires: ${expires}
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="${finalCode}"/>
</scenario>`;

/** A desk phone's REGISTER without credentials (trusted network), Contact on `contactPort`, expecting 200. */
export const registerOpenScenario = (domain: string, contactPort: number) => `${HEAD}
<scenario name="desk phone registers">
  <send retrans="500"><![CDATA[
REGISTER sip:${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@${domain}>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@${domain}>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:[service]@[local_ip]:${contactPort}>
Expires: 60
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>`;

/** An INVITE to `[service]` (no media), expecting the final answer `finalCode`, then ACK. */
export const inviteScenario = (domain: string, finalCode: number) => `${HEAD}
<scenario name="invite">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+8657188886666@carrier.example>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@${domain}>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:carrier@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="${finalCode}"/>
  <send><![CDATA[
ACK sip:[service]@${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+8657188886666@carrier.example>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@${domain}>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
</scenario>`;

/** REGISTER whose Contact is another port (where a UAS scenario listens), with -au/-ap credentials. */
export const registerContactScenario = (domain: string, contactPort: number, expires = 60) =>
	registerScenario(domain, 200, expires).replaceAll(
		'Contact: <sip:[service]@[local_ip]:[local_port]>',
		`Contact: <sip:[service]@[local_ip]:${contactPort}>`
	);

/** An agent's phone: rings, answers, waits for the caller's BYE. Run in server mode on its own port. */
export const answerScenario = () => `${HEAD}
<scenario name="agent answers">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]agent[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:[service]@[local_ip]:[local_port]>
Content-Length: 0

]]></send>
  <pause milliseconds="200"/>
  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]agent[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:[service]@[local_ip]:[local_port]>
Content-Length: 0

]]></send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>`;

/** The carrier's caller: waits (hearing ringing) until answered, talks briefly, hangs up. */
export const callerAnsweredScenario = (domain: string) => `${HEAD}
<scenario name="caller answered">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+8657188886666@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@${domain}>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:carrier@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+8657188886666@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@${domain}>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
[routes]
Max-Forwards: 70
Content-Length: 0

]]></send>
  <pause milliseconds="300"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+8657188886666@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@${domain}>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
[routes]
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>`;

/**
 * The caller hears ringing and gives up: CANCEL after `afterMs`. `rings` = how many 180s come first
 * (Kamailio's own, then the agent's phone when one is known to ring).
 */
export const callerCancelScenario = (domain: string, afterMs: number, rings = 1) => `${HEAD}
<scenario name="caller cancels">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+8613900001111@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@${domain}>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:carrier@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="100" optional="true"/>
${'  <recv response="180"/>\n'.repeat(rings)}  <pause milliseconds="${afterMs}"/>
  <send><![CDATA[
CANCEL sip:[service]@${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-${3 + rings}]
From: <sip:+8613900001111@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@${domain}>
Call-ID: [call_id]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" optional="true"/>
  <recv response="487"/>
  <send><![CDATA[
ACK sip:[service]@${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-${6 + rings}]
From: <sip:+8613900001111@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@${domain}>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
</scenario>`;

/** Picks a free-looking local port for a UAS sipp. */
export const samplePort = () => nextPort++;

const SDP = (direction = 'sendrecv') => `v=0
o=carrier 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=${direction}
`;

/** A 200 OK with SDP to the request just received (in-dialog re-INVITE or a new INVITE). */
const okWithSdp = (direction: string, toTag = '') => `  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]${toTag}
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:carrier@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

${SDP(direction)}
]]></send>`;

const ok = `  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>`;

/**
 * F30 the carrier's caller talking to an agent in the browser (run with `-rtp_echo`, so every audio packet
 * the agent sends comes back): the agent holds (re-INVITE sendonly) and resumes, presses 5 on the keypad
 * (SIP INFO) and transfers the call (REFER to `transferTo`), after which the carrier ends its leg (BYE).
 */
export const callerSoftphoneScenario = (domain: string, transferTo: string) => `${HEAD}
<scenario name="caller talks to the softphone">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+8657188887777@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@${domain}>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:carrier@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

${SDP()}
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true">
    <!-- Janus's Contact carries a display name: keep the URI only. -->
    <action><ereg regexp="&lt;(sip:[^&gt;]*)&gt;" search_in="hdr" header="Contact:" assign_to="ct,cturi"/></action>
  </recv>
  <send><![CDATA[
ACK [$cturi] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+8657188887777@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@${domain}>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
[routes]
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv request="INVITE" crlf="true">
    <action><ereg regexp="a=sendonly" search_in="body" check_it="true" assign_to="held"/></action>
  </recv>
${okWithSdp('recvonly')}
  <recv request="ACK" crlf="true"/>
  <!-- Resumed: the next offer is no longer sendonly (a=sendrecv is the default and may be left out). -->
  <recv request="INVITE" crlf="true"/>
${okWithSdp('sendrecv')}
  <recv request="ACK" crlf="true"/>
  <recv request="INFO">
    <action><ereg regexp="Signal=5" search_in="body" check_it="true" assign_to="digit"/></action>
  </recv>
${ok}
  <recv request="REFER">
    <action><ereg regexp="Refer-To: *&lt;?sip:${transferTo}@" search_in="msg" check_it="true" assign_to="referto"/></action>
  </recv>
  <send><![CDATA[
SIP/2.0 202 Accepted
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <send retrans="500"><![CDATA[
BYE [$cturi] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+8657188887777@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@${domain}>[peer_tag_param]
Call-ID: [call_id]
CSeq: 3 BYE
[routes]
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
  <Reference variables="held,digit,referto,ct"/>
</scenario>`;

/**
 * The carrier's gateway for outbound calls (run as a server with `-rtp_echo`): the agent's call arrives,
 * is answered with audio, and the agent hangs up.
 */
export const gatewayAnswerScenario = () => `${HEAD}
<scenario name="gateway answers an outbound call">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]gw[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:carrier@[local_ip]:[local_port]>
Content-Length: 0

]]></send>
${okWithSdp('sendrecv', ';tag=[pid]gw[call_number]')}
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
${ok}
</scenario>`;

/** The carrier's caller for trying the product by hand (`npm run call:hotline`): waits for the agent's BYE. */
export const callerEchoScenario = (domain: string) =>
	callerSoftphoneScenario(domain, '')
		.replace(
			/ {2}<recv request="INVITE" crlf="true">[\s\S]*?<recv request="REFER">[\s\S]*?<\/send>\n/,
			''
		)
		.replace(
			/ {2}<send retrans="500"><!\[CDATA\[\nBYE [\s\S]*?<recv response="200"\/>\n/,
			`  <recv request="BYE"/>\n${ok}\n`
		)
		.replace('<Reference variables="held,digit,referto,ct"/>', '<Reference variables="ct"/>');
