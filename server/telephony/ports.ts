/**
 * Which local ports are taken, and by whom, read from Linux's /proc: a TCP socket listening on the port, or
 * a UDP socket bound to it. Kamailio and Janus are started only once their ports are free — a Janus started
 * while its old self (or a worker of a killed Kamailio) still held its ports found no API transport and
 * exited (issue #14).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface Ports {
	tcp?: number[];
	udp?: number[];
}

const LISTEN = '0A';

/** The socket inodes holding each wanted port (TCP listening, UDP bound), from /proc/net. */
function holdingInodes(ports: Ports): Map<string, number> {
	const out = new Map<string, number>();
	const scan = (files: string[], wanted: number[] | undefined, listenOnly: boolean) => {
		if (!wanted?.length) return;
		for (const file of files) {
			let text: string;
			try {
				text = readFileSync(file, 'utf8');
			} catch {
				continue; // no IPv6 here
			}
			for (const line of text.split('\n').slice(1)) {
				const cols = line.trim().split(/\s+/);
				if (cols.length < 10) continue;
				const port = parseInt(cols[1]!.split(':').at(-1)!, 16);
				if (!wanted.includes(port) || (listenOnly && cols[3] !== LISTEN)) continue;
				out.set(cols[9]!, port);
			}
		}
	};
	scan(['/proc/net/tcp', '/proc/net/tcp6'], ports.tcp, true);
	scan(['/proc/net/udp', '/proc/net/udp6'], ports.udp, false);
	return out;
}

/** The first wanted port that is taken, or null when all are free. */
export function heldPort(ports: Ports): number | null {
	const held = holdingInodes(ports);
	return held.size > 0 ? [...held.values()].sort((a, b) => a - b)[0]! : null;
}

/** Who holds `port`: "pid 123 (kamailio -f /etc/kamailio/kamailio.cfg)", for the log. */
export function holderOf(port: number, ports: Ports): string {
	const inodes = new Set(
		[...holdingInodes(ports)].filter(([, p]) => p === port).map(([inode]) => `socket:[${inode}]`)
	);
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		let fds: string[];
		try {
			fds = readdirSync(`/proc/${entry}/fd`);
		} catch {
			continue; // gone, or not ours to read
		}
		for (const fd of fds) {
			let target: string;
			try {
				target = readlinkSync(`/proc/${entry}/fd/${fd}`);
			} catch {
				continue;
			}
			if (!inodes.has(target)) continue;
			const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
			return `pid ${entry} (${command.slice(0, 120)})`;
		}
	}
	return 'another process';
}

/**
 * Resolves true once every port is free, or false after `timeoutMs`; `onHeld` is told which port still
 * waits (again whenever that changes), `cancelled` stops the wait.
 */
export async function untilFree(
	ports: Ports,
	{
		timeoutMs,
		onHeld = () => {},
		cancelled = () => false
	}: { timeoutMs: number; onHeld?: (port: number) => void; cancelled?: () => boolean }
): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	let reported: number | null = null;
	for (;;) {
		const held = heldPort(ports);
		if (held === null) return true;
		if (held !== reported) onHeld((reported = held));
		if (cancelled() || Date.now() > deadline) return false;
		await new Promise((r) => setTimeout(r, 50));
	}
}
