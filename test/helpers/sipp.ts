/**
 * sipp (Debian `sip-tester`) as the carrier or a SIP endpoint in tests: runs one scenario, returns its exit
 * code (0 = every expected message came) and its output. Each run gets its own local port. Raw SIP over
 * UDP (node:dgram) plays whoever sends what no well-behaved endpoint would: forged CANCELs and BYEs,
 * in-dialog requests with a foreign Route.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let nextPort = 25_070 + Math.floor(Math.random() * 2000);

/** An address that is neither a trunk, nor Janus, nor the desk phones' network in the tests. */
export const STRANGER_IP = '127.0.0.4';

/** Resolves once a UDP socket is bound to ip:port (a sipp in server mode is listening). */
export async function udpBound(ip: string, port: number, timeoutMs = 10_000): Promise<void> {
	const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');
	const local = `${ip
		.split('.')
		.reverse()
		.map((b) => hex(Number(b), 2))
		.join('')}:${hex(port, 4)}`;
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const table = readFileSync('/proc/net/udp', 'utf8');
		if (table.split('\n').some((line) => line.trim().split(/\s+/)[1] === local)) return;
		await new Promise((r) => setTimeout(r, 20));
	}
	throw new Error(`nothing listens on udp ${ip}:${port}`);
}

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

/** A REGISTER without credentials, Contact on `contactPort`, expecting `finalCode` (401: challenged). */
export const registerOpenScenario = (
	domain: string,
	contactPort: number,
	finalCode = 401
) => `${HEAD}
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
  <recv response="${finalCode}"/>
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

/**
 * REGISTER whose Contact is another port (where a UAS scenario listens), with -au/-ap credentials; a
 * `contact` replaces the whole Contact header's value (another host, several contacts…).
 */
export const registerContactScenario = (
	domain: string,
	contactPort: number,
	expires = 60,
	{ finalCode = 200, contact }: { finalCode?: number; contact?: string } = {}
) =>
	registerScenario(domain, finalCode, expires).replaceAll(
		'Contact: <sip:[service]@[local_ip]:[local_port]>',
		`Contact: ${contact ?? `<sip:[service]@[local_ip]:${contactPort}>`}`
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
 * #16 the carrier's caller under load: answered (talks `talkMs`, hangs up) or given the fallback answer
 * (480, acknowledged) — both end the call as sipp's success; the final screen counts each (`480 <----`).
 */
export const callerAnsweredOrFallbackScenario = (domain: string, talkMs: number) =>
	callerAnsweredScenario(domain)
		.replace(
			'<recv response="200" rrs="true"/>',
			'<recv response="480" optional="true" next="fallback"/>\n  <recv response="200" rrs="true"/>'
		)
		.replace('<pause milliseconds="300"/>', `<pause milliseconds="${talkMs}"/>`)
		.replace(
			'  <recv response="200"/>\n</scenario>',
			`  <recv response="200" next="done"/>
  <label id="fallback"/>
  <send><![CDATA[
ACK sip:[service]@${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+8657188886666@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@${domain}>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <label id="done"/>
  <nop/>
</scenario>`
		);

/**
 * The end of a call its caller (`from`, a whole From header) placed and had answered: ACK the 200 (INVITE's
 * CSeq `cseq`), wait for an OPTIONS within the call — the test's go-ahead (`tellToHangUp`; sipp would send
 * any answer to Kamailio, so it gives none) — then BYE.
 */
const ackThenHangUpWhenTold = (domain: string, from: string, cseq: number) => `  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${from}
To: <sip:[service]@${domain}>[peer_tag_param]
Call-ID: [call_id]
CSeq: ${cseq} ACK
[routes]
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv request="OPTIONS" timeout="60000"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${from}
To: <sip:[service]@${domain}>[peer_tag_param]
Call-ID: [call_id]
CSeq: ${cseq + 1} BYE
[routes]
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>`;

/**
 * The carrier's caller in an answered call who hangs up only when told: it waits for an OPTIONS within
 * its call (the test's go-ahead to its port, with its Call-ID; sipp would send any answer to Kamailio, so
 * it gives none), then sends BYE.
 */
export const callerHangsUpWhenToldScenario = (domain: string) => `${HEAD}
<scenario name="caller hangs up when told">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+8657188885555@carrier.example>;tag=[pid]c[call_number]
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
${ackThenHangUpWhenTold(domain, 'From: <sip:+8657188885555@carrier.example>;tag=[pid]c[call_number]', 1)}
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
 * The carrier's caller placing a call to `[service]` with audio until it is answered and ACKed; the 200's
 * Contact is kept (`$cturi`) for the requests within the call. `tag` tells the caller's calls apart;
 * `extra` adds header lines (a Replaces).
 */
const callerAnswered = (domain: string, tag = 'c', extra = '') =>
	`  <send retrans="500"><![CDATA[
INVITE sip:[service]@${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+8657188887777@carrier.example>;tag=[pid]${tag}[call_number]
To: <sip:[service]@${domain}>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:carrier@[local_ip]:[local_port]>
${extra}Max-Forwards: 70
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
From: <sip:+8657188887777@carrier.example>;tag=[pid]${tag}[call_number]
To: <sip:[service]@${domain}>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
[routes]
Max-Forwards: 70
Content-Length: 0

]]></send>
`;

/** The agent holds the call: a re-INVITE with a=sendonly, answered recvonly. */
const heldByAgent = `  <recv request="INVITE" crlf="true">
    <action><ereg regexp="a=sendonly" search_in="body" check_it="true" assign_to="held"/></action>
  </recv>
${okWithSdp('recvonly')}
  <recv request="ACK" crlf="true"/>
`;

/** The REFER just received is taken (202). */
const referAccepted = `  <send><![CDATA[
SIP/2.0 202 Accepted
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
`;

/** The caller of `callerAnswered` ends the call (BYE) and hears it taken. */
const callerHangsUp = (domain: string) => `  <send retrans="500"><![CDATA[
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
`;

/** #16 the carrier's caller answered by an agent in the browser: talks `talkMs`, then hangs up. */
export const callerTalksToSoftphoneScenario = (domain: string, talkMs: number) => `${HEAD}
<scenario name="caller talks to the softphone, then hangs up">
${callerAnswered(domain)}  <pause milliseconds="${talkMs}"/>
${callerHangsUp(domain)}  <Reference variables="ct"/>
</scenario>`;

/**
 * F30 the carrier's caller talking to an agent in the browser (run with `-rtp_echo`, so every audio packet
 * the agent sends comes back): the agent holds (re-INVITE sendonly) and resumes, presses 5 on the keypad
 * (SIP INFO) and transfers the call (REFER to `transferTo`), after which the carrier ends its leg (BYE).
 */
export const callerSoftphoneScenario = (domain: string, transferTo: string) => `${HEAD}
<scenario name="caller talks to the softphone">
${callerAnswered(domain)}${heldByAgent}  <!-- Resumed: the next offer is no longer sendonly (a=sendrecv is the default and may be left out). -->
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
${referAccepted}${callerHangsUp(domain)}  <Reference variables="held,digit,referto,ct"/>
</scenario>`;

/**
 * #17 the carrier's caller whose agent consults a colleague and then completes an attended transfer: the
 * agent holds the call (re-INVITE sendonly) and sends REFER; the carrier's first try fails (NOTIFY with a
 * sipfrag 404), so the agent completes again: a REFER to `transferTo` with Replaces — its value
 * written to `replaces.txt` in sipp's folder (`cwd`) for the test, which plays the carrier's new call
 * (`followReferScenario`). This leg then ends when told (`tellToHangUp`), as a carrier ends the
 * transferred leg once the new call is up.
 */
export const callerAttendedTransferScenario = (domain: string, transferTo: string) => `${HEAD}
<scenario name="caller transferred attended">
${callerAnswered(domain)}${heldByAgent}  <!-- The first REFER: the carrier's call to the target fails (its NOTIFY says 404). -->
  <recv request="REFER"/>
${referAccepted}  <send retrans="500"><![CDATA[
NOTIFY [$cturi] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+8657188887777@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@${domain}>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 NOTIFY
[routes]
Contact: <sip:carrier@[local_ip]:[local_port]>
Event: refer
Subscription-State: terminated;reason=noresource
Max-Forwards: 70
Content-Type: message/sipfrag
Content-Length: [len]

SIP/2.0 404 Not Found
]]></send>
  <recv response="200"/>
  <!-- The second: its Replaces for the test, which places the carrier's new call. -->
  <recv request="REFER">
    <action>
      <ereg regexp="sip:${transferTo}@[^?&gt;]*[?][Rr]eplaces=([^&gt;]+)" search_in="hdr" header="Refer-To:" check_it="true" assign_to="referto,replaces"/>
      <exec command="echo '[$replaces]' | tee replaces.txt"/>
    </action>
  </recv>
${referAccepted}  <recv request="OPTIONS" timeout="60000"/>
${callerHangsUp(domain)}  <Reference variables="held,referto,ct"/>
</scenario>`;

/**
 * #17 the carrier following an attended transfer: a new call from the same caller to `[service]` (the
 * colleague) that replaces the consultation — `Replaces: [field0];to-tag=[field1];from-tag=[field2]`, from
 * an `-inf` file — answered at once; then the colleague hangs up (BYE).
 */
export const followReferScenario = (domain: string) => `${HEAD}
<scenario name="carrier follows the REFER">
${callerAnswered(domain, 'r', 'Replaces: [field0];to-tag=[field1];from-tag=[field2]\n')}  <recv request="BYE" timeout="60000"/>
${ok}
  <Reference variables="ct"/>
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

/**
 * #17 a desk phone dialling `[service]` (a number outside) as `extension`: challenged, it answers with its
 * account (-au/-ap), is answered (by the gateway), and hangs up when told — an OPTIONS within its call, as
 * in `callerHangsUpWhenToldScenario` (run it with `-cid_str` to know the Call-ID). With another `finalCode`
 * the authenticated INVITE expects that refusal instead.
 */
export const deskPhoneDialsScenario = (domain: string, extension: string, finalCode = 200) => {
	const from = `From: <sip:${extension}@${domain}>;tag=[pid]d[call_number]`;
	const ackRefusal = `  <send><![CDATA[
ACK sip:[service]@${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-3]
${from}
To: <sip:[service]@${domain}>[peer_tag_param]
Call-ID: [call_id]
CSeq: [cseq] ACK
Max-Forwards: 70
Content-Length: 0

]]></send>`;
	const invite = (cseq: number, auth: string) => `  <send retrans="500"><![CDATA[
INVITE sip:[service]@${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
${from}
To: <sip:[service]@${domain}>
Call-ID: [call_id]
CSeq: ${cseq} INVITE
Contact: <sip:${extension}@[local_ip]:[local_port]>
${auth}Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

${SDP()}
]]></send>`;
	return `${HEAD}
<scenario name="desk phone dials out">
${invite(1, '')}
  <recv response="100" optional="true"/>
  <recv response="407" auth="true"/>
${ackRefusal.replace('[cseq]', '1')}
${invite(2, '[authentication]\n')}
  <recv response="100" optional="true"/>
${
	finalCode !== 200
		? `  <recv response="${finalCode}"/>
${ackRefusal.replace('[cseq]', '2')}
</scenario>`
		: `  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
${ackThenHangUpWhenTold(domain, from, 2)}
</scenario>`
}`;
};

/** The go-ahead for a scenario waiting for an OPTIONS within its call `callId`, listening on host:port. */
export async function tellToHangUp(port: number, callId: string, host = '127.0.0.1') {
	const test = await udpListener('127.0.0.1');
	await test.send(
		{ host, port },
		sipMessage(`OPTIONS sip:carrier@${host}:${port} SIP/2.0`, [
			`Via: SIP/2.0/UDP 127.0.0.1:${test.port};branch=${newBranch()}`,
			`From: <sip:test@127.0.0.1>;tag=go`,
			`To: <sip:carrier@127.0.0.1>`,
			`Call-ID: ${callId}`,
			'CSeq: 1 OPTIONS'
		])
	);
	test.close();
}

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

export interface SipReply {
	status: number;
	text: string;
}

/**
 * Sends one SIP request over UDP from `fromIp` (port `fromPort`, or any) to `target` and gathers the
 * replies until a final one (or `timeoutMs`). `request` gets the socket's own address for its Via.
 */
export async function sendSip(
	target: { host: string; port: number },
	request: (local: { ip: string; port: number; branch: string }) => string,
	{
		fromIp,
		fromPort = 0,
		timeoutMs = 5_000
	}: { fromIp: string; fromPort?: number; timeoutMs?: number }
): Promise<{ final: SipReply | null; replies: SipReply[] }> {
	const socket = createSocket('udp4');
	const replies: SipReply[] = [];
	await new Promise<void>((resolve, reject) => {
		socket.once('error', reject);
		socket.bind(fromPort, fromIp, () => resolve());
	});
	const text = request({ ip: fromIp, port: socket.address().port, branch: newBranch() });
	return new Promise((resolve) => {
		const done = (final: SipReply | null) => {
			clearTimeout(timer);
			socket.close();
			resolve({ final, replies });
		};
		const timer = setTimeout(() => done(null), timeoutMs);
		socket.on('message', (msg) => {
			const reply = msg.toString();
			const status = Number(/^SIP\/2\.0 (\d{3})/.exec(reply)?.[1] ?? 0);
			if (!status) return;
			replies.push({ status, text: reply });
			if (status >= 200) done({ status, text: reply });
		});
		// Over UDP a client retransmits until it hears back (RFC 3261 timers A/E: 0.5 s, doubling to 4 s):
		// one datagram dropped by a busy machine is not a refusal.
		const send = (wait: number) => {
			if (replies.length > 0 || closed) return;
			socket.send(text.replaceAll(/\r?\n/g, '\r\n'), target.port, target.host);
			retransmit = setTimeout(() => send(Math.min(2 * wait, 4_000)), wait);
		};
		let closed = false;
		let retransmit: NodeJS.Timeout | undefined;
		socket.once('close', () => {
			closed = true;
			clearTimeout(retransmit);
		});
		send(500);
	});
}

/**
 * A UDP socket that keeps whatever reaches it (proof that nothing was relayed there), and can play a
 * simple endpoint: send a request from its own address, answer a request it received.
 */
export async function udpListener(ip: string) {
	const socket = createSocket('udp4');
	const received: string[] = [];
	const sources: { address: string; port: number }[] = [];
	socket.on('message', (msg, from) => {
		received.push(msg.toString());
		sources.push({ address: from.address, port: from.port });
	});
	await new Promise<void>((resolve) => socket.bind(0, ip, () => resolve()));
	const crlf = (text: string) => text.replaceAll(/\r?\n/g, '\r\n');
	return {
		ip,
		port: socket.address().port,
		received,
		/** Resolves once the datagram is out (closing before then would drop it). */
		send(target: { host: string; port: number }, text: string): Promise<void> {
			return new Promise((resolve, reject) =>
				socket.send(crlf(text), target.port, target.host, (err) => (err ? reject(err) : resolve()))
			);
		},
		/** Answers `request` (one of `received`) with `status` ("486 Busy Here"), back where it came from. */
		reply(request: string, status: string) {
			const source = sources[received.indexOf(request)]!;
			const headers = request.split('\r\n').filter((h) => /^(Via|From|To|Call-ID|CSeq):/i.test(h));
			const lines = headers.map((h) =>
				/^To:/i.test(h) && !/;tag=/.test(h) ? `${h};tag=listener` : h
			);
			socket.send(
				crlf([`SIP/2.0 ${status}`, ...lines, 'Content-Length: 0', '', ''].join('\n')),
				source.port,
				source.address
			);
		},
		close: () => socket.close()
	};
}

/** A new Via branch (RFC 3261 magic cookie first). */
export const newBranch = () => `z9hG4bK${randomBytes(8).toString('hex')}`;

/** A SIP request's text (CRLF added by `sendSip`); `Content-Length: 0` and the blank line end it. */
export const sipMessage = (firstLine: string, headers: string[]) =>
	[firstLine, ...headers, 'Max-Forwards: 70', 'Content-Length: 0', '', ''].join('\n');

/**
 * #18 the carrier's caller to a hotline with a voice menu: keys by SIP INFO one after the other — when the test
 * tells it (`tellToHangUp`), or `afterMs` after the menu answered, as a caller who listens a moment first —
 * then hangs up when told (`end: 'caller'`), or waits for the far end's BYE (`end: 'agent'`). Its media: the
 * test's socket on `mediaPort`, or sipp's own (`-mp`, `-rtp_echo`) when null.
 */
export const callerMenuScenario = (o: {
	mediaPort: number | null;
	keys: string[];
	afterMs?: number;
	end: 'caller' | 'agent';
}) => {
	const dialog = (method: string, cseq: number) => `${method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:+8657188886666@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: ${cseq} ${method}
Max-Forwards: 70`;
	return `${HEAD}
<scenario name="caller walks the voice menu">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+8657188886666@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:carrier@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=carrier 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio ${o.mediaPort ?? '[media_port]'} RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
${dialog('ACK', 1)}
Content-Length: 0

]]></send>
${o.afterMs === undefined ? '  <recv request="OPTIONS" timeout="30000"/>' : `  <pause milliseconds="${o.afterMs}"/>`}
${o.keys
	.map(
		(key, i) => `  <send retrans="500"><![CDATA[
${dialog('INFO', 2 + i)}
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal=${key}
Duration=160
]]></send>
  <recv response="200"/>
`
	)
	.join('')}${
		o.end === 'caller'
			? `  <recv request="OPTIONS" timeout="60000"/>
  <send retrans="500"><![CDATA[
${dialog('BYE', 20)}
Content-Length: 0

]]></send>
  <recv response="200"/>`
			: `  <recv request="BYE" timeout="60000"/>
${ok}`
	}
</scenario>`;
};

/**
 * #18 an agent's phone that answers with audio (PCMA; echoed when sipp runs with `-rtp_echo`), after ringing
 * `ringMs` (a phone rings a moment — the caller's side of the test, not a wait for an event), then waits for
 * the BYE. `viaProxy`: behind Kamailio (its Record-Route returned in the answers).
 */
export const agentAnswersWithAudioScenario = ({
	ringMs = 0,
	viaProxy = false
}: { ringMs?: number; viaProxy?: boolean } = {}) => {
	const rr = viaProxy ? '\n[last_Record-Route:]' : '';
	return `${HEAD}
<scenario name="agent answers with audio">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]agent[call_number]
[last_Call-ID:]
[last_CSeq:]${rr}
Contact: <sip:[service]@[local_ip]:[local_port]>
Content-Length: 0

]]></send>
${ringMs > 0 ? `  <pause milliseconds="${ringMs}"/>\n` : ''}  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]agent[call_number]
[last_Call-ID:]
[last_CSeq:]${rr}
Contact: <sip:[service]@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=agent 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
]]></send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
${ok}
</scenario>`;
};
