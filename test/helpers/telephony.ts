/**
 * What the telephony integration tests do as agents and team leaders: SIP credentials, the agent's state,
 * the live `/events` stream, the wallboard and call records, Kamailio's location table — and `until`, the
 * wait for a condition with a deadline (never a fixed sleep).
 */
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import * as v from 'valibot';
import { readServerEvent } from '#shared/wire/events';
import { CallList, Wallboard } from '#shared/wire/telephony';
import type { TestServer } from './server';

import { until } from './until';

export { until };

/** The five loopback ports a test server's telephony takes, from Kamailio's SIP port on. */
export const telephonyPorts = (sipPort: number) => ({
	SIP_PORT: String(sipPort),
	JANUS_HTTP_PORT: String(sipPort + 1),
	JANUS_WS_PORT: String(sipPort + 2),
	JANUS_ADMIN_PORT: String(sipPort + 3),
	EVAPI_PORT: String(sipPort + 4)
});

export function telephonyClient(server: TestServer) {
	async function credentials(cookie: string) {
		const res = await fetch(`${server.url}/api/telephony/credentials`, {
			method: 'POST',
			headers: { cookie, origin: server.url }
		});
		return {
			status: res.status,
			body: (await res.json()) as {
				username: string;
				password: string;
				iceServers: { urls: string[]; username: string; credential: string }[];
			}
		};
	}

	/**
	 * The user's `/events` stream, collected as it arrives. Read with node:http on its own connection:
	 * fetch's shared pool would otherwise hold other requests of the test behind the open stream. Each
	 * event is also read as the browser reads it (`readServerEvent`); `misread` holds those the schema
	 * refused.
	 */
	async function events(cookie: string) {
		const received: { event: string; data: Record<string, unknown>; at: number }[] = [];
		const misread: string[] = [];
		let text = '';
		const req = request(`${server.url}/events`, { headers: { cookie }, agent: false }, (res) => {
			res.setEncoding('utf8');
			res.on('data', (chunk: string) => {
				text += chunk;
				let end: number;
				while ((end = text.indexOf('\n\n')) >= 0) {
					const block = text.slice(0, end);
					text = text.slice(end + 2);
					const event = /^event: (.*)$/m.exec(block)?.[1];
					const data = /^data: (.*)$/m.exec(block)?.[1];
					if (!event || !data) continue;
					if (!readServerEvent(event, data)) misread.push(block);
					received.push({
						event,
						data: JSON.parse(data) as Record<string, unknown>,
						at: Date.now()
					});
				}
			});
		});
		req.on('error', () => {});
		req.end();
		const next = async (event: string, timeoutMs = 10_000) => {
			let found: (typeof received)[number] | undefined;
			await until(
				() => !!(found = received.find((e) => e.event === event)),
				`a ${event} event`,
				timeoutMs
			);
			return found!;
		};
		await next('hello');
		return { received, misread, next, close: () => req.destroy() };
	}

	async function setState(cookie: string, state: string, reason = '', deskPhone = '') {
		const res = await fetch(`${server.url}/api/telephony/state`, {
			method: 'POST',
			headers: { cookie, origin: server.url, 'content-type': 'application/json' },
			body: JSON.stringify({ state, reason, deskPhone })
		});
		return { status: res.status, body: (await res.json()) as { state: string; reason: string } };
	}

	/** The wallboard, read with the schema the browser reads it with (a shape of its own fails the test). */
	async function board(cookie: string) {
		const res = await fetch(`${server.url}/api/telephony/board`, { headers: { cookie } });
		return v.parse(Wallboard, await res.json());
	}

	/** Today's call records, read with their schema. */
	async function calls(cookie: string) {
		const res = await fetch(`${server.url}/api/telephony/calls`, { headers: { cookie } });
		return v.parse(CallList, await res.json()).calls;
	}

	/** The contacts Kamailio has for a SIP user (its location table, through kamcmd). */
	function contacts(user: string): Promise<string[]> {
		const socket = join(server.dataDir, 'telephony', 'kamailio_ctl');
		return new Promise((resolve) => {
			execFile(
				'kamcmd',
				['-s', `unix:${socket}`, 'ul.lookup', 'location', `s:${user}`],
				(err, stdout) =>
					resolve(err ? [] : [...stdout.matchAll(/Address: (\S+)/g)].map((m) => m[1]!))
			);
		});
	}

	/** Issues a desk phone's credentials as the administrator (F1); returns its password. */
	async function issueDeskPhone(admin: string, extension: string, label = '') {
		const res = await fetch(`${server.url}/api/desk-phones`, {
			method: 'POST',
			headers: { cookie: admin, origin: server.url, 'content-type': 'application/json' },
			body: JSON.stringify({ extension, label })
		});
		return { status: res.status, body: (await res.json()) as { password: string } };
	}

	return { credentials, events, setState, board, calls, contacts, issueDeskPhone };
}
