/**
 * #18 `npm run bench:ivr`: the IVR engine (server/ivr/) with the real rtpengine (Debian `rtpengine-daemon`,
 * userspace), espeak-ng/sox prompts and sipp, on loopback. The engine is hosted in this Node process (as in
 * test/integration/ivr-engine.test.ts): it is not yet wired to the product's Kamailio/ACD, so callers reach
 * its SIP UA directly and its `route` names the sipp agent.
 *
 * 1. Latency, BENCH_IVR_CALLS (default 30) calls one after the other. The caller's signalling is a second
 *    SIP UA in this process (so the INVITE's and the INFO's departure times are exact: no sipp start-up in
 *    the figures), its media a UDP socket of the bench (as in the test): INVITE sent → 200 OK, INVITE sent →
 *    the first prompt RTP packet at that socket; 1 by RFC 2833 (sip-tester's pcap replayed from that socket)
 *    — the first end-of-event packet sent → the engine's `digit` and → its `prompt` of the next node (rtpengine
 *    acknowledged `play media`); 2 by SIP INFO — sent → `digit` and → the next node's `prompt`. Then BYE.
 * 2. Load, BENCH_IVR_CONCURRENT (default 100) sipp callers started at BENCH_IVR_RATE a second (default 20):
 *    each listens to the greeting, presses 1 (RFC 2833, `play_pcap_audio` of sip-tester's pcap), 2 (SIP
 *    INFO), 0 (RFC 2833) → handed to one sipp agent (UAS, `-rtp_echo`, answering every hand-off), talks
 *    (sip-tester's g711a.pcap, BENCH_IVR_TALK_MS), hangs up. Counted: sipp's successful/failed calls, the
 *    engine's events, the digits it saw per kind; CPU of rtpengine, this Node process (the engine and the
 *    bench's bookkeeping) and sipp (callers, agent) from /proc/<pid>/stat utime+stime over the window (the
 *    callers' sipp from this process's cutime+cstime once it is reaped); rtpengine's and Node's RSS.
 *
 * Prints one summary at the end. Every process it starts is stopped, also on failure and Ctrl-C.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIvrEngine, type IvrEngine, type IvrEvents } from '../../server/ivr/engine';
import { synthesize } from '../../server/ivr/prompts';
import {
	listenDtmf,
	now,
	startRtpengine,
	type DtmfListener,
	type RunningRtpengine
} from '../../server/ivr/rtpengine';
import { SipUa, type OutgoingCall } from '../../server/ivr/sip-ua';
import {
	freeUdpPort,
	mediaSocket,
	PCAPS,
	playPcap,
	rtpRange,
	TEST_MENU,
	TEST_PROMPTS
} from '../helpers/ivr';
import { agentAnswersWithAudioScenario, udpBound } from '../helpers/sipp';
import { until } from '../helpers/until';

const CALLS = Number(process.env.BENCH_IVR_CALLS ?? 30);
const CONCURRENT = Number(process.env.BENCH_IVR_CONCURRENT ?? 100);
const RATE = Number(process.env.BENCH_IVR_RATE ?? 20);
const TALK_MS = Number(process.env.BENCH_IVR_TALK_MS ?? 6_000);
const HOST = '127.0.0.1';
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

// ---------------------------------------------------------------------------------------------------------
// small tools

type EventName = keyof IvrEvents;
type EventData<K extends EventName> = IvrEvents[K][0];

const percentile = (xs: number[], p: number) => {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(x < 10 ? 2 : 1)} ms` : '–');

/** utime+stime (and the reaped children's cutime+cstime) of a process, in ms of CPU; null once gone. */
function cpuOf(pid: number): { own: number; children: number } | null {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		const tick = (i: number) => (Number(f[i]) * 1000) / CLK_TCK;
		return { own: tick(11) + tick(12), children: tick(13) + tick(14) };
	} catch {
		return null;
	}
}

/** VmRSS / VmHWM of a process in MB; null once gone. */
function memOf(pid: number): { rss: number; hwm: number } | null {
	try {
		const status = readFileSync(`/proc/${pid}/status`, 'utf8');
		const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
		return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
	} catch {
		return null;
	}
}

const callerSdp = (port: number) =>
	[
		'v=0',
		`o=carrier 1 1 IN IP4 ${HOST}`,
		's=-',
		`c=IN IP4 ${HOST}`,
		't=0 0',
		`m=audio ${port} RTP/AVP 8 101`,
		'a=rtpmap:8 PCMA/8000',
		'a=rtpmap:101 telephone-event/8000',
		'a=fmtp:101 0-15',
		'a=sendrecv',
		''
	].join('\r\n');

/**
 * The load's caller: listens to the greeting, 1 by RFC 2833, 2 by SIP INFO, 0 by RFC 2833 (handed to the
 * agent), talks (sends sip-tester's A-law audio, which the agent echoes), hangs up. The pauses are the
 * caller's behaviour (a person listening, then keying), not waits for the engine.
 */
const loadCallerScenario = (talkMs: number) => `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="IVR caller walks the menu to an agent">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+86138[call_number]@carrier.example>;tag=[pid]c[call_number]
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
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
]]></send>
  <recv response="100" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:+86138[call_number]@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <pause milliseconds="1500"/>
  <nop><action><exec play_pcap_audio="${PCAPS}/dtmf_2833_1.pcap"/></action></nop>
  <pause milliseconds="1000"/>
  <send retrans="500"><![CDATA[
INFO [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:+86138[call_number]@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 INFO
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal=2
Duration=160
]]></send>
  <recv response="200"/>
  <pause milliseconds="1000"/>
  <nop><action><exec play_pcap_audio="${PCAPS}/dtmf_2833_0.pcap"/></action></nop>
  <pause milliseconds="1000"/>
  <nop><action><exec play_pcap_audio="${PCAPS}/g711a.pcap"/></action></nop>
  <pause milliseconds="${talkMs}"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:+86138[call_number]@carrier.example>;tag=[pid]c[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 3 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>`;

/** sipp as a child: its output kept, its exit awaited. */
function startSipp(args: string[], cwd: string) {
	const child: ChildProcess = spawn('sipp', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
	child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
	const exited = new Promise<number>((resolve, reject) => {
		child.once('error', reject);
		child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1)));
	});
	return { child, exited, output: () => output };
}
const sippCount = (output: string, what: string) =>
	Number(new RegExp(`${what}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`).exec(output)?.[1] ?? NaN);

// ---------------------------------------------------------------------------------------------------------
// the rig

const dir = mkdtempSync(join(tmpdir(), 'ivr-bench-'));
const children: ChildProcess[] = [];
let dtmf: DtmfListener | undefined;
let rtp: RunningRtpengine | undefined;
let sip: SipUa | undefined;
let callerUa: SipUa | undefined;
let engine: IvrEngine | undefined;

const events: { [K in EventName]?: EventData<K>[] } = {};
const waiters = new Set<() => void>();
const recorded = <K extends EventName>(name: K): EventData<K>[] =>
	(events[name] ??= []) as EventData<K>[];

/** The first `name` event matching `where` (already seen or still to come), or an error naming `what`. */
function waitEvent<K extends EventName>(
	name: K,
	where: (d: EventData<K>) => boolean,
	what: string,
	timeoutMs = 10_000
): Promise<EventData<K>> {
	return new Promise((resolve, reject) => {
		const check = () => {
			const hit = recorded(name).find(where);
			if (!hit) return false;
			clearTimeout(timer);
			waiters.delete(check);
			resolve(hit);
			return true;
		};
		const timer = setTimeout(() => {
			waiters.delete(check);
			reject(new Error(`timed out waiting for ${what}`));
		}, timeoutMs);
		if (!check()) waiters.add(check);
	});
}

let cleaned: Promise<void> | undefined;
function cleanUp() {
	cleaned ??= (async () => {
		await engine?.close().catch(() => {});
		callerUa?.close();
		sip?.close();
		await rtp?.stop().catch(() => {});
		dtmf?.close();
		await Promise.all(
			children.map(
				(c) =>
					new Promise<void>((resolve) => {
						if (c.exitCode !== null || c.signalCode !== null) return resolve();
						const kill = setTimeout(() => c.kill('SIGKILL'), 2_000);
						c.once('exit', () => (clearTimeout(kill), resolve()));
						c.kill('SIGTERM');
					})
			)
		);
		rmSync(dir, { recursive: true, force: true });
	})();
	return cleaned;
}
process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));
process.once('SIGTERM', () => void cleanUp().then(() => process.exit(143)));

/** What the load measured (printed in the summary). */
interface LoadResult {
	callersCode: number;
	successful: number;
	failed: number;
	sippErrors: string[];
	calls: number;
	answered: number;
	handoff: number;
	walked: number;
	odd: string[];
	bridged: number;
	handoffFailed: number;
	ended: number;
	endedBy: string;
	rfc2833: number;
	info: number;
	leftInRtpengine: number;
	peakCalls: number;
	peakBridged: number;
	meanConcurrent: number;
	windowMs: number;
	handoffToBridged: number[];
	echoed: number;
	sampled: number;
	fromCallers: number[];
	fromAgents: number[];
	cpu: Record<'rtpengine' | 'node' | 'callers' | 'agent', number>;
	rtpRssIdle: number;
	rtpRssPeak: number;
	rtpHwm: number;
	nodeRssBefore: number;
	nodeRssPeak: number;
}

const latency = {
	inviteToOk: [] as number[],
	inviteToFirstPacket: [] as number[],
	rfc2833ToDigit: [] as number[],
	rfc2833ToPrompt: [] as number[],
	infoToDigit: [] as number[],
	infoToPrompt: [] as number[]
};
let load: LoadResult | undefined;

try {
	const files: Record<string, string> = {};
	for (const [id, text] of Object.entries(TEST_PROMPTS)) {
		files[id] = await synthesize(text, { dir: join(dir, 'prompts') });
	}
	dtmf = await listenDtmf({ host: HOST, port: 0 });
	rtp = await startRtpengine({
		interface: HOST,
		ng: { host: HOST, port: await freeUdpPort() },
		dtmfLog: dtmf.address,
		// Caller and sink/agent side, RTP and RTCP: a few ports a call, for the load's calls at once.
		...rtpRange(1000)
	});
	sip = await SipUa.listen({ host: HOST });
	callerUa = await SipUa.listen({ host: HOST, user: 'carrier' });

	const agentPort = await freeUdpPort();
	const agentUri = `sip:agent1@${HOST}:${agentPort}`;
	engine = await startIvrEngine({
		sip,
		ng: rtp.ng,
		dtmf,
		menu: TEST_MENU,
		promptFile: (id) => files[id]!,
		host: HOST,
		route: () => agentUri,
		log: (msg) => console.error(`engine: ${msg}`)
	});
	for (const name of [
		'call',
		'answered',
		'prompt',
		'digit',
		'menu',
		'handoff',
		'bridged',
		'handoff-failed',
		'callback',
		'ended'
	] as const) {
		engine.on(name, ((data: EventData<typeof name>) => {
			recorded(name).push(data);
			for (const check of [...waiters]) check();
		}) as never);
	}
	const target = `sip:4000@${HOST}:${sip.address.port}`;
	// The callers' From tags (rtpengine's tag of the caller's side), for the echo check of the load.
	const callerTags = new Map<string, string>();
	sip.on('invite', (c) => void callerTags.set(c.callId, c.fromTag));

	// ---- 1. latency: one call at a time -----------------------------------------------------------------
	for (let i = 0; i < CALLS; i++) {
		const media = await mediaSocket();
		let call: OutgoingCall | undefined;
		try {
			const invitedAt = now();
			call = callerUa.invite({ target, sdp: callerSdp(media.port), fromUser: '+8613800001111' });
			const id = call.callId;
			const answered = new Promise<number>((resolve, reject) => {
				call!.once('answered', () => resolve(now()));
				call!.once('ended', (how) =>
					reject(new Error(`call ${i + 1} not answered: ${how.status}`))
				);
			});
			const okAt = await answered;
			const first = await Promise.race([
				media.first,
				new Promise<never>((_, reject) =>
					setTimeout(() => reject(new Error(`no prompt packet in call ${i + 1}`)), 10_000)
				)
			]);
			latency.inviteToOk.push(okAt - invitedAt);
			latency.inviteToFirstPacket.push(first.at - invitedAt);

			// 1 by RFC 2833 during the greeting (barge-in) → the tv node's prompt.
			const endSentAt = await playPcap(media, 'dtmf_2833_1.pcap', first.from);
			const tv = await waitEvent(
				'prompt',
				(d) => d.callId === id && d.prompt === 'tv',
				`the tv prompt (call ${i + 1})`
			);
			const one = recorded('digit').find((d) => d.callId === id && d.digit === '1')!;
			if (one.via !== 'rfc2833') throw new Error(`1 came by ${one.via}`);
			latency.rfc2833ToDigit.push(one.at - endSentAt);
			latency.rfc2833ToPrompt.push(tv.at - endSentAt);

			// 2 by SIP INFO → the billing node's prompt. (`request` sends at once: its first transmission.)
			const infoAt = now();
			void callerUa.request(
				call.dialog,
				'INFO',
				'Signal=2\r\nDuration=160\r\n',
				'application/dtmf-relay'
			);
			const billing = await waitEvent(
				'prompt',
				(d) => d.callId === id && d.prompt === 'billing',
				`the billing prompt (call ${i + 1})`
			);
			const two = recorded('digit').find((d) => d.callId === id && d.digit === '2')!;
			if (two.via !== 'info') throw new Error(`2 came by ${two.via}`);
			latency.infoToDigit.push(two.at - infoAt);
			latency.infoToPrompt.push(billing.at - infoAt);

			call.hangup();
			await waitEvent('ended', (d) => d.callId === id, `the end of call ${i + 1}`);
		} finally {
			call?.hangup();
			media.close();
		}
	}

	// ---- 2. load: sipp callers walking the menu to the sipp agent --------------------------------------
	writeFileSync(join(dir, 'agent.xml'), agentAnswersWithAudioScenario());
	writeFileSync(join(dir, 'caller.xml'), loadCallerScenario(TALK_MS));
	const agent = startSipp(
		[
			'-sf',
			join(dir, 'agent.xml'),
			'-i',
			HOST,
			'-p',
			String(agentPort),
			'-mi',
			HOST,
			'-mp',
			String(await freeUdpPort()),
			'-rtp_echo',
			'-nostdin',
			'-trace_err'
		],
		dir
	);
	children.push(agent.child);
	await udpBound(HOST, agentPort);

	const before = Object.fromEntries(
		(Object.keys(events) as EventName[]).map((k) => [k, recorded(k).length])
	) as Record<EventName, number>;
	const since = <K extends EventName>(name: K) => recorded(name).slice(before[name] ?? 0);

	const rtpMemBefore = memOf(rtp.pid)!;
	const nodeRssBefore = process.memoryUsage().rss / 1024 / 1024;
	let rtpRssPeak = rtpMemBefore.rss;
	let nodeRssPeak = nodeRssBefore;
	const sampler = setInterval(() => {
		const m = memOf(rtp!.pid);
		if (m) rtpRssPeak = Math.max(rtpRssPeak, m.rss);
		nodeRssPeak = Math.max(nodeRssPeak, process.memoryUsage().rss / 1024 / 1024);
	}, 250);

	const cpuBefore = {
		rtpengine: cpuOf(rtp.pid)!.own,
		node: cpuOf(process.pid)!.own,
		reaped: cpuOf(process.pid)!.children,
		agent: cpuOf(agent.child.pid!)!.own
	};
	// Mid-talk (the caller sends audio from 1 s after its 0), rtpengine's packet counts of each bridged call:
	// from the caller (its audio) and from the agent's side (the echo). A sample of the media, not a wait.
	const echo: { fromCaller: number; fromAgent: number }[] = [];
	const sampling: Promise<void>[] = [];
	const rtpPackets = (reply: Record<string, unknown> | null, fromCaller: boolean, tag: string) => {
		const tags = (reply?.tags ?? {}) as Record<
			string,
			{ medias?: { streams?: { flags?: string[]; stats?: { packets?: number } }[] }[] }
		>;
		const side = Object.entries(tags).find(([t]) => (t === tag) === fromCaller)?.[1];
		const stream = side?.medias?.[0]?.streams?.find((x) => x.flags?.includes('RTP'));
		return stream?.stats?.packets ?? 0;
	};
	const onBridged = ({ callId }: EventData<'bridged'>) =>
		void sampling.push(
			new Promise<void>((resolve) =>
				setTimeout(
					() => {
						void rtp!.ng
							.query(callId)
							.then((r) => {
								const tag = callerTags.get(callId) ?? '';
								echo.push({
									fromCaller: rtpPackets(r, true, tag),
									fromAgent: rtpPackets(r, false, tag)
								});
							})
							.catch(() => echo.push({ fromCaller: 0, fromAgent: 0 }))
							.finally(resolve);
					},
					1_000 + TALK_MS / 2
				)
			)
		);
	engine.on('bridged', onBridged);

	const windowStart = now();
	const callerPort = await freeUdpPort();
	const callers = startSipp(
		[
			'-sf',
			join(dir, 'caller.xml'),
			'-s',
			'4000',
			`${HOST}:${sip.address.port}`,
			'-i',
			HOST,
			'-p',
			String(callerPort),
			'-mi',
			HOST,
			'-mp',
			String(await freeUdpPort()),
			'-m',
			String(CONCURRENT),
			'-l',
			String(CONCURRENT),
			'-r',
			String(RATE),
			'-nostdin',
			'-timeout',
			`${Math.ceil(CONCURRENT / RATE + TALK_MS / 1000 + 60)}s`,
			'-timeout_error',
			'-trace_err'
		],
		dir
	);
	children.push(callers.child);
	const callersCode = await callers.exited;
	// Every call the engine took is over (ended, gone from rtpengine).
	await until(
		() => since('ended').length >= since('call').length,
		'every call of the load ended in the engine',
		30_000
	);
	const windowMs = now() - windowStart;
	engine.off('bridged', onBridged);
	await Promise.all(sampling);
	const cpuAfter = {
		rtpengine: cpuOf(rtp.pid)!.own,
		node: cpuOf(process.pid)!.own,
		reaped: cpuOf(process.pid)!.children,
		agent: cpuOf(agent.child.pid!)!.own
	};
	clearInterval(sampler);
	const rtpMemAfter = memOf(rtp.pid)!;
	const leftInRtpengine = (await rtp.ng.list()).length;

	// Concurrency from the engine's own timestamps.
	const started = new Map(since('call').map((c) => [c.callId, c.at]));
	const bridgedAt = new Map(since('bridged').map((b) => [b.callId, b.at]));
	const edges: [number, number, number][] = []; // at, Δcalls, Δbridged
	let callSeconds = 0;
	for (const e of since('ended')) {
		const s = started.get(e.callId);
		if (s === undefined) continue;
		edges.push([s, 1, 0], [e.at, -1, 0]);
		callSeconds += (e.at - s) / 1000;
		const b = bridgedAt.get(e.callId);
		if (b !== undefined) edges.push([b, 0, 1], [e.at, 0, -1]);
	}
	edges.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
	let inCalls = 0;
	let inBridged = 0;
	let peakCalls = 0;
	let peakBridged = 0;
	for (const [, dc, db] of edges) {
		inCalls += dc;
		inBridged += db;
		peakCalls = Math.max(peakCalls, inCalls);
		peakBridged = Math.max(peakBridged, inBridged);
	}
	const handoffAt = new Map(since('handoff').map((h) => [h.callId, h.at]));
	const handoffToBridged = [...bridgedAt].flatMap(([id, at]) =>
		handoffAt.has(id) ? [at - handoffAt.get(id)!] : []
	);
	const out = callers.output();
	const failedCalls = sippCount(out, 'Failed call');
	let sippErrors: string[] = [];
	if (callersCode !== 0 || failedCalls > 0) {
		const file = readdirSync(dir).find((f) => f.startsWith('caller_') && f.endsWith('_errors.log'));
		sippErrors = file ? readFileSync(join(dir, file), 'utf8').trim().split('\n').slice(0, 20) : [];
	}
	const ended = since('ended');
	// A call that reached the agents by another way than 1-2-0: what the engine heard, and when.
	const odd = since('handoff')
		.filter((h) => h.keys.join('') !== '120' || h.queue !== 'billing')
		.map((h) => {
			const t0 = started.get(h.callId) ?? h.at;
			const digits = since('digit')
				.filter((d) => d.callId === h.callId)
				.map((d) => `${d.digit} by ${d.via} at ${((d.at - t0) / 1000).toFixed(2)} s`);
			return `${h.callId}: keys ${h.keys.join('')} → ${h.queue} (${h.reason}); ${digits.join(', ')}`;
		});
	load = {
		callersCode,
		successful: sippCount(out, 'Successful call'),
		failed: failedCalls,
		sippErrors,
		calls: since('call').length,
		answered: since('answered').length,
		handoff: since('handoff').length,
		odd,
		walked: since('handoff').filter((h) => h.keys.join('') === '120' && h.queue === 'billing')
			.length,
		bridged: since('bridged').length,
		handoffFailed: since('handoff-failed').length,
		ended: ended.length,
		endedBy: Object.entries(
			ended.reduce<Record<string, number>>(
				(n, e) => ((n[`${e.by}/${e.phase}`] = (n[`${e.by}/${e.phase}`] ?? 0) + 1), n),
				{}
			)
		)
			.map(([k, v]) => `${k} ${v}`)
			.join(', '),
		rfc2833: since('digit').filter((d) => d.via === 'rfc2833').length,
		info: since('digit').filter((d) => d.via === 'info').length,
		leftInRtpengine,
		peakCalls,
		peakBridged,
		meanConcurrent: callSeconds / (windowMs / 1000),
		windowMs,
		handoffToBridged,
		echoed: echo.filter((e) => e.fromAgent > 0).length,
		sampled: echo.length,
		fromCallers: echo.map((e) => e.fromCaller),
		fromAgents: echo.map((e) => e.fromAgent),
		cpu: {
			rtpengine: cpuAfter.rtpengine - cpuBefore.rtpengine,
			node: cpuAfter.node - cpuBefore.node,
			callers: cpuAfter.reaped - cpuBefore.reaped,
			agent: cpuAfter.agent - cpuBefore.agent
		},
		rtpRssIdle: rtpMemBefore.rss,
		rtpRssPeak: Math.max(rtpRssPeak, rtpMemAfter.rss),
		rtpHwm: rtpMemAfter.hwm,
		nodeRssBefore,
		nodeRssPeak
	};
} finally {
	await cleanUp();
}

// ---------------------------------------------------------------------------------------------------------
// the summary

// rtpengine prints its version on stderr.
const version = spawnSync('rtpengine', ['--version'], { encoding: 'utf8' });
const rtpengineVersion =
	`${version.stdout ?? ''}${version.stderr ?? ''}`.trim().replace(/^Version:\s*/, '') || '?';
const row = (name: string, xs: number[]) =>
	`  ${name.padEnd(52)} ${ms(percentile(xs, 50)).padStart(9)} ${ms(percentile(xs, 95)).padStart(9)} ${ms(
		Math.max(...xs)
	).padStart(9)}   n=${xs.length}`;
console.log(
	`\n#18 IVR engine bench — Node ${process.version} (hosts the engine, pid ${process.pid}), rtpengine ${rtpengineVersion} userspace, sipp, loopback`
);
console.log(
	`\n1. Latency, ${CALLS} calls one after the other${' '.repeat(14)}p50       p95       max`
);
console.log(row('INVITE sent → 200 OK at the caller', latency.inviteToOk));
console.log(
	row('INVITE sent → first prompt RTP packet at the caller', latency.inviteToFirstPacket)
);
console.log(`    (first call after rtpengine started: ${ms(latency.inviteToFirstPacket[0]!)})`);
console.log(row('RFC 2833 end packet sent → engine digit', latency.rfc2833ToDigit));
console.log(row('RFC 2833 end packet sent → next prompt playing', latency.rfc2833ToPrompt));
console.log(row('SIP INFO sent → engine digit', latency.infoToDigit));
console.log(row('SIP INFO sent → next prompt playing', latency.infoToPrompt));
if (load) {
	const l = load;
	console.log(
		`\n2. Load, ${CONCURRENT} sipp callers at ${RATE}/s (greeting, 1 RFC 2833, 2 INFO, 0 RFC 2833 → sipp agent, talk ${TALK_MS / 1000} s, BYE)`
	);
	console.log(
		`  sipp callers: ${l.successful} successful, ${l.failed} failed (exit ${l.callersCode})`
	);
	for (const line of l.sippErrors) console.log(`    ${line}`);
	console.log(
		`  engine: ${l.calls} calls, ${l.answered} answered, ${l.handoff} handoff (${l.walked} by 1-2-0 to billing), ` +
			`${l.bridged} bridged, ${l.handoffFailed} handoff-failed, ${l.ended} ended (${l.endedBy}); ${l.leftInRtpengine} left in rtpengine`
	);
	for (const line of l.odd.slice(0, 10)) console.log(`    not 1-2-0: ${line}`);
	console.log(
		`  digits seen by the engine: ${l.rfc2833} RFC 2833 (of ${2 * CONCURRENT} sent), ${l.info} SIP INFO (of ${CONCURRENT})`
	);
	console.log(
		`  concurrency: peak ${l.peakCalls} calls in the engine, peak ${l.peakBridged} bridged at once, ` +
			`mean ${l.meanConcurrent.toFixed(1)} over the ${(l.windowMs / 1000).toFixed(1)} s window`
	);
	console.log(row('handoff → bridged (agent answers at once)', l.handoffToBridged));
	console.log(
		`  media mid-talk (rtpengine query): the agent's echo flowing in ${l.echoed} of ${l.sampled} bridged calls; ` +
			`RTP packets a call so far, median: ${percentile(l.fromCallers, 50)} from the caller (its digits too), ` +
			`${percentile(l.fromAgents, 50)} from the agent`
	);
	const seconds = l.windowMs / 1000;
	console.log(
		`\n  CPU over the window${' '.repeat(26)}ms/call  % of 1 core  % per concurrent call`
	);
	for (const [name, key] of [
		['rtpengine', 'rtpengine'],
		['Node (this process: the engine + the bench)', 'node'],
		['sipp callers', 'callers'],
		['sipp agent (-rtp_echo)', 'agent']
	] as const) {
		const cpu = l.cpu[key];
		const pct = (cpu / 1000 / seconds) * 100;
		console.log(
			`  ${name.padEnd(44)} ${(cpu / CONCURRENT).toFixed(1).padStart(7)}  ${pct.toFixed(1).padStart(10)}  ${(pct / l.meanConcurrent).toFixed(2).padStart(10)}`
		);
	}
	console.log(
		`\n  rtpengine RSS: ${l.rtpRssIdle.toFixed(1)} MB before the load → peak ${l.rtpRssPeak.toFixed(1)} MB sampled ` +
			`(VmHWM ${l.rtpHwm.toFixed(1)} MB); Node RSS ${l.nodeRssBefore.toFixed(1)} → peak ${l.nodeRssPeak.toFixed(1)} MB`
	);
}
