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
	} = {}
): Promise<{ code: number; output: string }> {
	const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
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
export const registerScenario = (domain: string, finalCode: number) => `${HEAD}
<scenario name="register">
  <send retrans="500"><![CDATA[
REGISTER sip:${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@${domain}>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@${domain}>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:[service]@[local_ip]:[local_port]>
Expires: 60
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

/** REGISTER whose Contact is another port (where a UAS scenario listens), with -au/-ap credentials. */
export const registerContactScenario = (domain: string, contactPort: number) =>
	registerScenario(domain, 200).replaceAll(
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

/** The caller hears ringing and gives up: CANCEL after `afterMs`. */
export const callerCancelScenario = (domain: string, afterMs: number) => `${HEAD}
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
  <recv response="180"/>
  <pause milliseconds="${afterMs}"/>
  <send><![CDATA[
CANCEL sip:[service]@${domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-4]
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
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-7]
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
