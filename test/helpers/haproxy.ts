/**
 * #16 a real reverse proxy (Debian's haproxy) in front of app servers, as an operator runs them: round robin
 * with health checks on `/api/health`, a cookie pinning a browser to one server (`ccsrv`), each answer
 * naming its server (`X-Served-By`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './child-server';
import { until } from './until';

export const HAPROXY = '/usr/sbin/haproxy';

export function requireHaproxy() {
	if (!existsSync(HAPROXY)) {
		throw new Error(
			'these tests need haproxy: `npm run test:couchdb` installs it as root (apt-get install haproxy)'
		);
	}
}

export function proxyConfig(port: number, backends: { name: string; port: number }[]): string {
	return `global
	maxconn 1000
defaults
	mode http
	timeout connect 2s
	timeout client 90s
	timeout server 90s
	timeout tunnel 1h
	option redispatch
	retries 2
	# A GET whose server died under it (a long-poll cut by the kill) is tried again on the other, not answered
	# with haproxy's HTML error page; writes are never repeated.
	retry-on conn-failure empty-response response-timeout 502 503
frontend cc
	bind 127.0.0.1:${port}
	option forwardfor
	http-response set-header X-Served-By %[srv_name]
	http-request disable-l7-retry if !METH_GET !METH_HEAD
	default_backend app
backend app
	balance roundrobin
	option httpchk
	http-check send meth GET uri /api/health
	default-server inter 500 fall 2 rise 1
	cookie ccsrv insert indirect nocache httponly
${backends.map((b) => `	server ${b.name} 127.0.0.1:${b.port} check cookie ${b.name}`).join('\n')}
`;
}

/**
 * Starts haproxy on `port` (a free one by default) in front of `backends` and resolves once it has seen
 * every one of them healthy (round robin then answers from each in turn).
 */
export async function startProxy(
	dir: string,
	backends: { name: string; url: string }[],
	port?: number
): Promise<{ url: string; proc: ChildProcess }> {
	const listen = port ?? (await freePort());
	const config = join(dir, 'haproxy.cfg');
	writeFileSync(
		config,
		proxyConfig(
			listen,
			backends.map((b) => ({ name: b.name, port: Number(new URL(b.url).port) }))
		)
	);
	const proc = spawn(HAPROXY, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
	const url = `http://127.0.0.1:${listen}`;
	const served = new Set<string>();
	await until(
		async () => {
			const res = await fetch(`${url}/api/health`).catch(() => null);
			if (res?.ok) served.add(res.headers.get('x-served-by') ?? '');
			return backends.every((b) => served.has(b.name));
		},
		'the proxy to reach every server',
		30_000
	);
	return { url, proc };
}
