/**
 * The real server as its own process, for the tests that kill it (faults, failover), and what they do over
 * HTTP as a browser would: sign in, register a user and approve them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ADMIN_PASSWORD, couchEnv } from './server';
import { until } from './until';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
	const probe = createServer();
	await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
	const address = probe.address();
	await new Promise<void>((resolve) => probe.close(() => resolve()));
	if (!address || typeof address === 'string') throw new Error('no port');
	return address.port;
}

/**
 * The real server as its own process (`node --import tsx server/index.ts`, one process to kill; with
 * `built`, the built product as `npm start` runs it: `node build/server/index.js`).
 */
export interface ChildServer {
	url: string;
	proc: ChildProcess;
	output: string[];
	exited: Promise<number | null>;
}

export async function startChildServer(
	port: number,
	dataDir: string,
	env: Record<string, string> = {},
	{ built = false }: { built?: boolean } = {}
): Promise<ChildServer> {
	const entry = built ? ['build/server/index.js'] : ['--import', 'tsx', 'server/index.ts'];
	const proc = spawn(process.execPath, entry, {
		cwd: ROOT,
		env: {
			...process.env,
			PORT: String(port),
			HOST: '127.0.0.1',
			DATA_DIR: dataDir,
			ADMIN_PASSWORD,
			TELEPHONY: 'off',
			...couchEnv(dataDir),
			...env
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	const output: string[] = [];
	proc.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
	proc.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
	const exited = new Promise<number | null>((resolve) =>
		proc.once('exit', (code) => resolve(code))
	);
	const url = `http://127.0.0.1:${port}`;
	let gone = false;
	void exited.then(() => (gone = true));
	try {
		await until(
			async () =>
				gone ||
				(await fetch(`${url}/api/health`)
					.then((r) => r.ok)
					.catch(() => false)),
			'the server to answer',
			30_000
		);
	} catch {
		proc.kill('SIGKILL');
		throw new Error(`the server did not answer in 30 s:\n${output.join('')}`);
	}
	if (gone) throw new Error(`the server exited at start:\n${output.join('')}`);
	return { url, proc, output, exited };
}

export async function post(url: string, path: string, body: unknown, cookie?: string) {
	const res = await fetch(`${url}${path}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
		body: JSON.stringify(body)
	});
	if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
	return res;
}

export const signIn = async (url: string, username: string, password: string) =>
	((await post(url, '/api/session', { username, password })).headers.get('set-cookie') ?? '').split(
		';'
	)[0]!;

/** Registration (anonymous) and approval by the administrator, over HTTP as the browser does them. */
export async function createUserOverHttp(
	url: string,
	username: string,
	roleId: string,
	/** F7 the agent ID (工号) to approve them with; '' for none. */
	agentId = ''
): Promise<string> {
	const admin = await signIn(url, 'admin', ADMIN_PASSWORD);
	const registered = (await (
		await post(url, '/api/register', {
			username,
			password: 'password-123',
			name: `测试 ${username}`,
			departmentId: 'department:center',
			birthDate: '1990-01-01',
			phone: '13800000000',
			email: ''
		})
	).json()) as { account: { id: string } };
	await post(
		url,
		`/api/accounts/${encodeURIComponent(registered.account.id)}/approve`,
		{ roleId, agentId },
		admin
	);
	return signIn(url, username, 'password-123');
}
