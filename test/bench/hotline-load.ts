/**
 * Hotline load for the benchmarks (#5 routing, #15 capacity): sipp as the carrier placing calls to the
 * hotline at a rate, and as the agents' phones — one sipp endpoint answering every call at once, which each
 * simulated agent registers as its contact with the SIP credentials the app issued for its sign-in, from
 * Janus's SIP address (the only address agents' identities register from, #13).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
	answerScenario,
	callerAnsweredScenario,
	registerContactScenario,
	runSipp,
	samplePort,
	udpBound
} from '../helpers/sipp';

export const DOMAIN = 'callcenter.local';
export const HOTLINE = '96000';

/** A simulated agent's phone: answers at once (no ring time in the figures). */
const agentPhone = answerScenario().replace('<pause milliseconds="200"/>', '');

/** The caller: INVITE (setup timer starts), 200 (stops), ACK, talk `talkMs`, BYE. */
const timedCaller = (talkMs: number) =>
	callerAnsweredScenario(DOMAIN)
		.replace(
			'  <send retrans="500"><![CDATA[\nINVITE',
			'  <send retrans="500" start_rtd="setup"><![CDATA[\nINVITE'
		)
		.replace('<recv response="200" rrs="true"/>', '<recv response="200" rrs="true" rtd="setup"/>')
		.replace('<pause milliseconds="300"/>', `<pause milliseconds="${talkMs}"/>`);

export interface CallLoad {
	successful: number;
	failed: number;
	/** INVITE → 200 OK of each answered call (ms, sipp's response-time log). */
	times: number[];
	seconds: number;
	/** The first lines of sipp's error log when calls failed (why). */
	errors: string[];
}

/** `calls` calls at `rate` per second to the hotline at `target`; sipp's counts and setup times. */
export async function callLoad(
	target: string,
	{ rate, calls, talkMs }: { rate: number; calls: number; talkMs: number }
): Promise<CallLoad> {
	const dir = mkdtempSync(join(tmpdir(), 'bench-callers-'));
	const started = Date.now();
	const result = await runSipp(timedCaller(talkMs), target, {
		service: HOTLINE,
		timeoutS: Math.ceil(calls / rate) + 60,
		args: [
			'-m',
			String(calls),
			'-l',
			String(calls),
			'-r',
			String(rate),
			'-trace_rtt',
			'-rtt_freq',
			'1',
			'-trace_err',
			// The simulated phone sends 180 and 200 back to back, and Kamailio's workers may relay them the
			// other way round: a late 180 after the answer is not a failed call.
			'-default_behaviors',
			'all,-abortunexp'
		],
		cwd: dir
	});
	const seconds = (Date.now() - started) / 1000;
	const count = (label: string) =>
		Number(new RegExp(`${label}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`).exec(result.output)?.[1] ?? 0);
	const rttFile = readdirSync(dir).find((f) => f.endsWith('_rtt.csv'));
	const times = rttFile
		? readFileSync(join(dir, rttFile), 'utf8')
				.split('\n')
				.slice(1)
				.map((l) => Number(l.split(';')[1]))
				.filter((x) => Number.isFinite(x) && x > 0)
		: [];
	const errFile = readdirSync(dir).find((f) => f.endsWith('_errors.log'));
	const errors = errFile
		? readFileSync(join(dir, errFile), 'utf8')
				.split('\n')
				.filter((l) => l.trim() && !l.startsWith('The following events'))
				.slice(0, 5)
		: [];
	return {
		successful: count('Successful call'),
		failed: count('Failed call'),
		times,
		seconds,
		errors
	};
}

/** The agents' phones: one sipp endpoint on `ip` answering every call; `stop` ends it. */
export async function agentPhones(ip: string): Promise<{ port: number; stop(): void }> {
	const port = samplePort();
	const dir = mkdtempSync(join(tmpdir(), 'bench-phones-'));
	writeFileSync(join(dir, 'agent.xml'), agentPhone);
	const child: ChildProcess = spawn(
		'sipp',
		['-sf', 'agent.xml', '-i', ip, '-p', String(port), '-nostdin'],
		{ cwd: dir, stdio: 'ignore' }
	);
	await udpBound(ip, port);
	return { port, stop: () => child.kill('SIGKILL') };
}

/**
 * A signed-in agent (`cookie`) takes hotline calls on the shared phone: its SIP credentials for this sign-in,
 * registered with the phone's port as contact (an hour), and 就绪. Returns the agent ID.
 */
export async function enlistAgent(
	serverUrl: string,
	cookie: string,
	sip: { target: string; ip: string; phonePort: number }
): Promise<string> {
	const headers = { cookie, origin: serverUrl };
	const session = (await (await fetch(`${serverUrl}/api/session`, { headers })).json()) as {
		user?: { agentId?: string | null };
	};
	const agentId = session.user?.agentId;
	if (!agentId) throw new Error('not an agent: no agent ID in the session');
	const res = await fetch(`${serverUrl}/api/telephony/credentials`, { method: 'POST', headers });
	if (!res.ok) throw new Error(`agent ${agentId}: no credentials (${res.status})`);
	const { password } = (await res.json()) as { password: string };
	const reg = await runSipp(registerContactScenario(DOMAIN, sip.phonePort, 3600), sip.target, {
		service: agentId,
		localIp: sip.ip,
		args: ['-au', agentId, '-ap', password]
	});
	if (reg.code !== 0) throw new Error(`agent ${agentId} did not register: ${reg.output}`);
	const ready = await fetch(`${serverUrl}/api/telephony/state`, {
		method: 'POST',
		headers: { ...headers, 'content-type': 'application/json' },
		body: JSON.stringify({ state: 'ready' })
	});
	if (!ready.ok) throw new Error(`agent ${agentId} not ready: ${await ready.text()}`);
	return agentId;
}
