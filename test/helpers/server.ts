/**
 * A real server for integration tests: the same runtime as `npm start` (embedded store, provisioning,
 * seed), on a random loopback port with a fresh data folder — or on Apache CouchDB (`couchEnv`).
 */
import { serve, type ServerType } from '@hono/node-server';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../../server/settings';
import { createRuntime } from '../../server/runtime';
import { hardenServer, serverOptions } from '../../server/app';
import { couchEnv } from './couch';

export { couchEnv };

export const ADMIN_PASSWORD = 'integration-admin';

export interface TestServer {
	url: string;
	runtime: Awaited<ReturnType<typeof createRuntime>>;
	dataDir: string;
	signIn(username: string, password: string): Promise<string>;
	/** Registers, then approves with the seeded role `roleKey`; returns the session cookie. */
	createUser(input: {
		username: string;
		roleKey: string;
		departmentId?: string;
		agentId?: string;
	}): Promise<string>;
	close(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
	const dataDir = env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'cc-it-'));
	const settings = loadSettings({
		DATA_DIR: dataDir,
		ADMIN_PASSWORD,
		TELEPHONY: 'off',
		...couchEnv(dataDir),
		...env
	});
	const runtime = await createRuntime(settings);
	const server: ServerType = await new Promise((resolve) => {
		const s = serve(
			{
				fetch: runtime.app.fetch,
				// A restart test asks for the port it had, so its devices keep their remote.
				port: Number(env.PORT ?? 0),
				hostname: '127.0.0.1',
				serverOptions: serverOptions(settings)
			},
			() => resolve(s)
		);
	});
	hardenServer(server);
	server.on('upgrade', runtime.upgrade);
	const address = server.address();
	const port = typeof address === 'object' && address ? address.port : 0;
	const url = `http://127.0.0.1:${port}`;
	await runtime.startTelephony(port);

	async function signIn(username: string, password: string): Promise<string> {
		const res = await fetch(`${url}/api/session`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ username, password })
		});
		if (!res.ok) {
			throw new Error(`sign-in of ${username} failed: ${res.status} ${await res.text()}`);
		}
		return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
	}

	return {
		url,
		runtime,
		dataDir,
		signIn,
		async createUser({ username, roleKey, departmentId = 'department:center', agentId = '' }) {
			const { accounts } = runtime.deps;
			const pending = await accounts.register(
				{
					username,
					password: 'password-123',
					name: `测试 ${username}`,
					departmentId,
					birthDate: '1990-01-01',
					phone: '13800000000',
					email: ''
				},
				null
			);
			await accounts.approve(pending.id, `role:${roleKey}`, agentId, 'user:admin');
			return signIn(username, 'password-123');
		},
		async close() {
			// Event streams stay open until closed; end every connection so close() can finish.
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
				(server as { closeAllConnections?: () => void }).closeAllConnections?.();
			});
			await runtime.close();
			if (!env.DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
		}
	};
}
