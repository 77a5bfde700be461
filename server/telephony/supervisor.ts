/**
 * Runs Kamailio and Janus as child processes of the app (DESIGN: they start and stop with it): writes their
 * configuration, spawns them in the foreground (never as system services or daemons), waits until each
 * answers (Janus `GET /janus/info`, Kamailio a SIP OPTIONS), and stops them — SIGTERM, then SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderJanus, renderKamailio, type TelephonySettings } from './render';

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

function stopChild(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => {
		const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
		child.once('exit', () => {
			clearTimeout(kill);
			resolve();
		});
		child.kill('SIGTERM');
	});
}

export interface RunningTelephony {
	detail: string;
	stop(): Promise<void>;
}

export async function startTelephony(s: TelephonySettings): Promise<RunningTelephony> {
	const janusDir = join(s.dir, 'janus');
	mkdirSync(janusDir, { recursive: true });
	writeFileSync(join(s.dir, 'kamailio.cfg'), renderKamailio(s));
	for (const [name, text] of Object.entries(renderJanus(s))) {
		writeFileSync(join(janusDir, name), text);
	}
	const log = (name: string) => createWriteStream(join(s.dir, `${name}.log`), { flags: 'a' });
	const children: ChildProcess[] = [];
	const stopAll = async () => {
		await Promise.all(children.map(stopChild));
	};
	try {
		const kamailio = spawn(
			'kamailio',
			['-f', join(s.dir, 'kamailio.cfg'), '-DD', '-E', '-m', '64', '-M', '8'],
			{ stdio: ['ignore', 'pipe', 'pipe'] }
		);
		children.push(kamailio);
		kamailio.stdout.pipe(log('kamailio'));
		kamailio.stderr.pipe(log('kamailio'));
		const janus = spawn('janus', ['-F', janusDir, '-o'], { stdio: ['ignore', 'pipe', 'pipe'] });
		children.push(janus);
		janus.stdout.pipe(log('janus'));
		janus.stderr.pipe(log('janus'));
		await Promise.all([
			until(async () => (await sipOptions(s.sipHost, s.sipPort)) === 200, 'Kamailio', kamailio),
			until(
				async () => (await fetch(`http://127.0.0.1:${s.janusHttpPort}/janus/info`)).ok,
				'Janus',
				janus
			)
		]);
	} catch (err) {
		await stopAll();
		throw err;
	}
	return {
		detail: `Kamailio on udp ${s.sipHost}:${s.sipPort} (hotlines ${s.hotlines.join(', ')}), Janus on ws 127.0.0.1:${s.janusWsPort}`,
		stop: stopAll
	};
}
