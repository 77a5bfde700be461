/**
 * #5 routing under load: BENCH_RATE calls per second for BENCH_SECONDS to the hotline, distributed by the
 * app's ACD (Kamailio suspends each call, asks over evapi, the app picks the longest-idle ready agent) to
 * BENCH_AGENTS simulated agents (sipp endpoints registered with the app's credentials), beside a plain
 * Kamailio routing the same load by a static rule to one endpoint. Prints calls offered / answered /
 * failed, double offers, and the caller's INVITE → 200 OK times (sipp's own response-time log).
 */
import { telephonyPorts } from '../helpers/telephony';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from '../helpers/server';
import { sipOptions } from '../../server/telephony/supervisor';
import {
	answerScenario,
	callerAnsweredScenario,
	registerContactScenario,
	runSipp,
	samplePort
} from '../helpers/sipp';

const RATE = Number(process.env.BENCH_RATE ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 20);
const TALK_MS = 1_000;
const CALLS = RATE * SECONDS;
const SIP_PORT = 37_000 + Math.floor(Math.random() * 500) * 8;
const STATIC_PORT = SIP_PORT + 7;
const DOMAIN = 'callcenter.local';
const p = (xs: number[], q: number) =>
	[...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

/** A simulated agent's phone: answers at once (no ring time in the figures). */
const agentPhone = answerScenario().replace('<pause milliseconds="200"/>', '');

/** The caller: INVITE (setup timer starts), 200 (stops), ACK, talk, BYE. */
const caller = callerAnsweredScenario(DOMAIN)
	.replace(
		'  <send retrans="500"><![CDATA[\nINVITE',
		'  <send retrans="500" start_rtd="setup"><![CDATA[\nINVITE'
	)
	.replace('<recv response="200" rrs="true"/>', '<recv response="200" rrs="true" rtd="setup"/>')
	.replace('<pause milliseconds="300"/>', `<pause milliseconds="${TALK_MS}"/>`);

/** Runs the load against `target`; returns sipp's counts and the setup times (ms). */
async function load(target: string, label: string) {
	const dir = mkdtempSync(join(tmpdir(), `bench-${label}-`));
	const started = Date.now();
	const result = await runSipp(caller, target, {
		service: '96000',
		timeoutS: SECONDS + 60,
		args: [
			'-m',
			String(CALLS),
			'-l',
			String(CALLS),
			'-r',
			String(RATE),
			'-trace_rtt',
			'-rtt_freq',
			'1'
		],
		cwd: dir
	});
	const seconds = (Date.now() - started) / 1000;
	const successful = Number(
		/Successful call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(result.output)?.[1] ?? 0
	);
	const failed = Number(/Failed call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(result.output)?.[1] ?? 0);
	const rttFile = readdirSync(dir).find((f) => f.endsWith('_rtt.csv'));
	const times = rttFile
		? readFileSync(join(dir, rttFile), 'utf8')
				.split('\n')
				.slice(1)
				.map((l) => Number(l.split(';')[1]))
				.filter((x) => Number.isFinite(x) && x > 0)
		: [];
	return { successful, failed, times, seconds };
}

function report(label: string, r: Awaited<ReturnType<typeof load>>, extra = '') {
	console.log(
		`${label.padEnd(34)} ${CALLS} calls in ${r.seconds.toFixed(0)} s: ${r.successful} answered, ${r.failed} failed${extra}; INVITE → 200 p50 ${p(r.times, 0.5).toFixed(1)} ms, p95 ${p(r.times, 0.95).toFixed(1)} ms (${r.times.length} timed)`
	);
}

const server = await startTestServer({
	TELEPHONY: 'on',
	...telephonyPorts(SIP_PORT),
	ACD_OFFER_SECONDS: '5',
	ACD_MAX_WAIT_SECONDS: '30',
	ACD_WRAPUP_SECONDS: '0'
});
const phones: ReturnType<typeof spawn>[] = [];
// Agents' identities register only from Janus's SIP address (#13): the simulated phones stand there.
const janusIp = server.runtime.deps.settings.sip.janusIp;
try {
	const target = `127.0.0.1:${SIP_PORT}`;
	// The simulated agents: each a sipp endpoint answering every call, registered with its credentials.
	for (let i = 0; i < AGENTS; i++) {
		const agentId = String(5000 + i);
		const cookie = await server.createUser({ username: `load${i}`, roleKey: 'agent', agentId });
		const res = await fetch(`${server.url}/api/telephony/credentials`, {
			method: 'POST',
			headers: { cookie, origin: server.url }
		});
		const { password } = (await res.json()) as { password: string };
		const port = samplePort();
		const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
		writeFileSync(join(dir, 'agent.xml'), agentPhone);
		phones.push(
			spawn('sipp', ['-sf', 'agent.xml', '-i', janusIp, '-p', String(port), '-nostdin'], {
				cwd: dir,
				stdio: 'ignore'
			})
		);
		await new Promise((r) => setTimeout(r, 100));
		const reg = await runSipp(registerContactScenario(DOMAIN, port, 3600), target, {
			service: agentId,
			localIp: janusIp,
			args: ['-au', agentId, '-ap', password]
		});
		if (reg.code !== 0) throw new Error(`agent ${agentId} did not register: ${reg.output}`);
		const ready = await fetch(`${server.url}/api/telephony/state`, {
			method: 'POST',
			headers: { cookie, origin: server.url, 'content-type': 'application/json' },
			body: JSON.stringify({ state: 'ready' })
		});
		if (!ready.ok) throw new Error(`agent ${agentId} not ready: ${await ready.text()}`);
	}

	const acd = server.runtime.deps.phone()!.acd;
	const acdRun = await load(target, 'acd');
	// Double offers: a call offered to more than one agent, or an agent given a call while on another.
	const records = acd.records().filter((r) => r.hotline === '96000');
	const retried = records.filter((r) => r.tried.length > 1).length;
	const byAgent = new Map<string, { from: number; to: number }[]>();
	for (const r of records) {
		// A retried call's offeredAt is its first offer (to another agent): only single offers are timed.
		if (!r.agentId || r.offeredAt === null || r.tried.length !== 1) continue;
		const list = byAgent.get(r.agentId) ?? [];
		list.push({ from: r.offeredAt, to: r.endedAt ?? Infinity });
		byAgent.set(r.agentId, list);
	}
	let overlaps = 0;
	for (const list of byAgent.values()) {
		list.sort((a, b) => a.from - b.from);
		for (let i = 1; i < list.length; i++) if (list[i]!.from < list[i - 1]!.to) overlaps++;
	}
	const busiest = Math.max(...[...byAgent.values()].map((l) => l.length));
	report(
		`ACD (${AGENTS} agents, evapi)`,
		acdRun,
		`, ${retried} offered twice, ${overlaps} overlapping offers, busiest agent ${busiest} calls`
	);

	// The same load through a Kamailio with one static rule (no app involved), to one endpoint.
	const staticDir = mkdtempSync(join(tmpdir(), 'bench-static-'));
	const endpointPort = samplePort();
	writeFileSync(join(staticDir, 'agent.xml'), agentPhone);
	phones.push(
		spawn('sipp', ['-sf', 'agent.xml', '-i', '127.0.0.1', '-p', String(endpointPort), '-nostdin'], {
			cwd: staticDir,
			stdio: 'ignore'
		})
	);
	writeFileSync(
		join(staticDir, 'kamailio.cfg'),
		`#!KAMAILIO
debug=1
log_stderror=yes
children=4
listen=udp:127.0.0.1:${STATIC_PORT}
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "textops.so"
loadmodule "siputils.so"
request_route {
	if (is_method("OPTIONS") && $rU == $null) { sl_send_reply("200", "OK"); exit; }
	if (has_totag()) { if (loose_route()) { t_relay(); exit; } if (is_method("ACK")) { t_relay(); } exit; }
	if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
	record_route();
	$ru = "sip:agent@127.0.0.1:${endpointPort}";
	t_relay();
}
`
	);
	const kamailio = spawn(
		'kamailio',
		['-f', join(staticDir, 'kamailio.cfg'), '-DD', '-E', '-m', '64', '-M', '8'],
		{ stdio: 'ignore' }
	);
	try {
		const deadline = Date.now() + 10_000;
		while ((await sipOptions('127.0.0.1', STATIC_PORT).catch(() => 0)) !== 200) {
			if (Date.now() > deadline) throw new Error('static Kamailio did not start');
		}
		report('Kamailio static rule (1 endpoint)', await load(`127.0.0.1:${STATIC_PORT}`, 'static'));
	} finally {
		kamailio.kill('SIGTERM');
		await new Promise((r) => setTimeout(r, 500));
		spawn('pkill', ['-9', '-f', join(staticDir, 'kamailio.cfg')]);
	}
} finally {
	for (const phone of phones) phone.kill('SIGKILL');
	await server.close();
}
