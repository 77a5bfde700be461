/**
 * #5 routing under load: BENCH_RATE calls per second for BENCH_SECONDS to the hotline, distributed by the
 * app's ACD (Kamailio suspends each call, asks over evapi, the app picks the longest-idle ready agent) to
 * BENCH_AGENTS simulated agents (sipp endpoints registered with the app's credentials), beside a plain
 * Kamailio routing the same load by a static rule to one endpoint. Prints calls offered / answered /
 * failed, double offers, and the caller's INVITE → 200 OK times (sipp's own response-time log).
 */
import { telephonyPorts } from '../helpers/telephony';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from '../helpers/server';
import { sipOptions } from '../../server/telephony/supervisor';
import { agentPhones, callLoad, enlistAgent } from './hotline-load';

const RATE = Number(process.env.BENCH_RATE ?? 10);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 20);
const TALK_MS = 1_000;
const CALLS = RATE * SECONDS;
const SIP_PORT = 37_000 + Math.floor(Math.random() * 500) * 8;
const STATIC_PORT = SIP_PORT + 7;
const p = (xs: number[], q: number) =>
	[...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

const load = (target: string) => callLoad(target, { rate: RATE, calls: CALLS, talkMs: TALK_MS });

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
const phones: { stop(): void }[] = [];
// Agents' identities register only from Janus's SIP address (#13): the simulated phones stand there.
const janusIp = server.runtime.deps.settings.sip.janusIp;
try {
	const target = `127.0.0.1:${SIP_PORT}`;
	// The simulated agents: one sipp endpoint answering every call, registered as each agent's phone.
	const shared = await agentPhones(janusIp);
	phones.push(shared);
	for (let i = 0; i < AGENTS; i++) {
		const cookie = await server.createUser({
			username: `load${i}`,
			roleKey: 'agent',
			agentId: String(5000 + i)
		});
		await enlistAgent(server.url, cookie, { target, ip: janusIp, phonePort: shared.port });
	}

	const acd = server.runtime.deps.phone()!.acd!;
	const acdRun = await load(target);
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
	const endpoint = await agentPhones('127.0.0.1');
	phones.push(endpoint);
	const endpointPort = endpoint.port;
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
		report('Kamailio static rule (1 endpoint)', await load(`127.0.0.1:${STATIC_PORT}`));
	} finally {
		kamailio.kill('SIGTERM');
		await new Promise((r) => setTimeout(r, 500));
		spawn('pkill', ['-9', '-f', join(staticDir, 'kamailio.cfg')]);
	}
} finally {
	for (const phone of phones) phone.stop();
	await server.close();
}
