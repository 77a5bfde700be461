/**
 * Runs Kamailio and Janus as child processes of the app (DESIGN: they start and stop with it): writes their
 * configuration, spawns them in the foreground (never as system services or daemons), waits until each
 * answers (Janus `GET /janus/info`, Kamailio a SIP OPTIONS), and stops them — SIGTERM, then SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_FILE, makePrivate, privateFolder, writePrivate } from '../secrets';
import { renderJanus, renderKamailio, type TelephonySettings } from './telephony-config';
import { heldPort, holderOf, untilFree, type Ports } from './ports';

const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 2_000;

/** A SIP OPTIONS ping over UDP; resolves with the status line's code. */
export function sipOptions(host: string, port: number, timeoutMs = 500): Promise<number> {
	return new Promise((resolve, reject) => {
		const socket = createSocket('udp4');
		const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
		const callId = randomBytes(8).toString('hex');
		const timer = setTimeout(() => {
			socket.close();
			reject(new Error('no answer to OPTIONS'));
		}, timeoutMs);
		socket.on('message', (msg) => {
			clearTimeout(timer);
			socket.close();
			resolve(Number(/^SIP\/2\.0 (\d{3})/.exec(msg.toString())?.[1] ?? 0));
		});
		socket.bind(0, host, () => {
			const local = socket.address();
			const request = [
				`OPTIONS sip:${host}:${port} SIP/2.0`,
				`Via: SIP/2.0/UDP ${local.address}:${local.port};branch=${branch};rport`,
				'Max-Forwards: 70',
				`From: <sip:health@${host}>;tag=${callId.slice(0, 8)}`,
				`To: <sip:${host}:${port}>`,
				`Call-ID: ${callId}`,
				'CSeq: 1 OPTIONS',
				'Content-Length: 0',
				'',
				''
			].join('\r\n');
			socket.send(request, port, host);
		});
	});
}

async function until(check: () => Promise<boolean>, what: string, child: ChildProcess) {
	const deadline = Date.now() + READY_TIMEOUT_MS;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
		if (await check().catch(() => false)) return;
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new Error(`${what} did not become ready within ${READY_TIMEOUT_MS / 1000} s`);
}

/**
 * Every process running with `marker` (an argument naming this app's data folder, NUL-terminated so it
 * matches whole arguments only) in its command line. Kamailio
 * forks workers that outlive a killed main process and keep its ports; they are found this way, whoever
 * their parent is now (also after the app itself was killed without stopping them).
 */
function processesOf(marker: string): number[] {
	const pids: number[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
		try {
			if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) pids.push(Number(entry));
		} catch {
			// gone meanwhile
		}
	}
	return pids;
}

function killAll(marker: string) {
	for (const pid of processesOf(marker)) {
		try {
			process.kill(pid, 'SIGKILL');
		} catch {
			// gone meanwhile
		}
	}
}

function stopChild(child: ChildProcess, marker: string): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) {
		killAll(marker);
		return Promise.resolve();
	}
	return new Promise((resolve) => {
		const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
		child.once('exit', () => {
			clearTimeout(kill);
			killAll(marker);
			resolve();
		});
		child.kill('SIGTERM');
	});
}

export interface RunningTelephony {
	detail: string;
	/** How many times each child was started again after it died. */
	restarts(): Record<string, number>;
	/** The current child process of `name` (for tests and diagnostics). */
	pid(name: 'kamailio' | 'janus'): number | undefined;
	/** The port a (re)start of `name` waits for until another process lets go of it, or null. */
	waitingFor(name: 'kamailio' | 'janus'): number | null;
	stop(): Promise<void>;
}

const RESTART_FIRST_MS = 200;
const RESTART_MAX_MS = 10_000;
/** How long a first start waits for its ports (our own leftovers free them at once; a stranger won't). */
const PORTS_FIRST_WAIT_MS = 3_000;
/** How long a restart waits for the dead child's ports to be let go. */
const PORTS_RESTART_WAIT_MS = 15_000;

/**
 * One child kept alive: started once its ports are free, checked until ready, and started again whenever
 * it dies while the app runs (waiting longer after each quick death, so a broken configuration does not
 * spin). Every start first kills what is left of earlier ones (by `marker`) and waits for their ports.
 */
function supervise(
	name: string,
	marker: string,
	run: () => ChildProcess,
	ready: () => Promise<boolean>,
	ports: Ports,
	log: (msg: string) => void
) {
	let child: ChildProcess | null = null;
	let stopping = false;
	let restarts = 0;
	let delay = RESTART_FIRST_MS;
	let startedAt = Date.now();
	let waitingFor: number | null = null;

	/** Clears what is left of earlier runs, waits for the ports, and starts the child. */
	async function launch(waitMs: number): Promise<ChildProcess | null> {
		killAll(marker);
		const free = await untilFree(ports, {
			timeoutMs: waitMs,
			cancelled: () => stopping,
			onHeld: (port) => {
				waitingFor = port;
				log(`${name} waits for port ${port}, held by ${holderOf(port, ports)}`);
			}
		});
		waitingFor = null;
		if (stopping) return null;
		if (!free) {
			const port = heldPort(ports);
			if (port !== null) log(`${name}: port ${port} is still held by ${holderOf(port, ports)}`);
		}
		startedAt = Date.now();
		child = run();
		return child;
	}

	const watch = (c: ChildProcess) =>
		c.once('exit', (code, signal) => {
			if (stopping) return;
			log(`${name} exited (${signal ?? code}); starting it again in ${delay} ms`);
			delay = Date.now() - startedAt > 60_000 ? RESTART_FIRST_MS : delay;
			setTimeout(() => {
				if (stopping) return;
				restarts += 1;
				void launch(PORTS_RESTART_WAIT_MS).then((next) => next && watch(next));
			}, delay).unref();
			delay = Math.min(delay * 2, RESTART_MAX_MS);
		});
	return {
		started: launch(PORTS_FIRST_WAIT_MS).then(async (first) => {
			if (!first) throw new Error(`${name} was stopped before it started`);
			try {
				await until(ready, name, first);
			} catch (err) {
				const port = heldPort(ports);
				throw port === null
					? err
					: new Error(
							`${(err as Error).message}: port ${port} is held by ${holderOf(port, ports)}`,
							{
								cause: err
							}
						);
			}
			watch(first);
		}),
		restarts: () => restarts,
		pid: () => child?.pid,
		/** The port a (re)start is waiting for, or null. */
		waitingFor: () => waitingFor,
		stop() {
			stopping = true;
			return child ? stopChild(child, marker) : Promise.resolve(killAll(marker));
		}
	};
}

export async function startTelephony(
	s: TelephonySettings,
	log: (msg: string) => void = () => {}
): Promise<RunningTelephony> {
	// The configuration holds Kamailio's nonce secret, Janus's admin secret and the internal key: the
	// owner's only, like everything Kamailio and Janus write (logs, recordings, the control socket).
	privateFolder(s.dir);
	const janusDir = privateFolder(join(s.dir, 'janus'));
	writePrivate(join(s.dir, 'kamailio.cfg'), renderKamailio(s));
	for (const [name, text] of Object.entries(renderJanus(s))) {
		writePrivate(join(janusDir, name), text);
	}
	const logs: WriteStream[] = [];
	const spawnLogged = (name: string, command: string, args: string[]) => {
		const file = join(s.dir, `${name}.log`);
		const out = createWriteStream(file, { flags: 'a', mode: PRIVATE_FILE });
		makePrivate(file);
		out.on('error', () => {});
		logs.push(out);
		return () => {
			// umask 077 for the child: the files it creates (Janus's recordings) are the owner's only
			// whatever the app's own umask; no core dumps (a crash must not leave the process's memory —
			// secrets, calls — in a file); `exec` keeps one process, so its pid and command line stay.
			const shell = 'ulimit -c 0 && umask 077 && exec "$0" "$@"';
			const child = spawn('/bin/sh', ['-c', shell, command, ...args], {
				stdio: ['ignore', 'pipe', 'pipe']
			});
			child.stdout!.pipe(out, { end: false });
			child.stderr!.pipe(out, { end: false });
			return child;
		};
	};
	const kamailioCfg = join(s.dir, 'kamailio.cfg');
	const kamailio = supervise(
		'kamailio',
		`${kamailioCfg}\0`,
		spawnLogged('kamailio', 'kamailio', ['-f', kamailioCfg, '-DD', '-E', '-m', '64', '-M', '8']),
		async () => (await sipOptions(s.sipHost, s.sipPort)) === 200,
		{ udp: [s.sipPort], tcp: [s.evapiPort] },
		log
	);
	const janus = supervise(
		'janus',
		`${janusDir}\0`,
		spawnLogged('janus', 'janus', ['-F', janusDir, '-o']),
		async () => (await fetch(`http://127.0.0.1:${s.janusHttpPort}/janus/info`)).ok,
		{ tcp: [s.janusHttpPort, s.janusWsPort, s.janusAdminPort] },
		log
	);
	const stopAll = async () => {
		await Promise.all([kamailio.stop(), janus.stop()]);
		for (const out of logs) out.end();
	};
	try {
		await Promise.all([kamailio.started, janus.started]);
	} catch (err) {
		await stopAll();
		throw err;
	}
	return {
		detail: `Kamailio on udp ${s.sipHost}:${s.sipPort} (hotlines ${s.hotlines.join(', ')}), Janus on ws 127.0.0.1:${s.janusWsPort}`,
		restarts: () => ({ kamailio: kamailio.restarts(), janus: janus.restarts() }),
		pid: (name) => (name === 'kamailio' ? kamailio.pid() : janus.pid()),
		waitingFor: (name) => (name === 'kamailio' ? kamailio.waitingFor() : janus.waitingFor()),
		stop: stopAll
	};
}
