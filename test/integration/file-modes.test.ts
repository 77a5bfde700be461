/**
 * #13 files the app writes with secrets or subscribers' data are readable by their owner only: the data
 * folder, the generated secrets, the customer index, the recordings folder, and Kamailio's and Janus's
 * generated configuration (the nonce and admin secrets, the internal key) with their logs. The servers
 * start under umask 000 — the modes must not depend on it — and over files an older version left with
 * wider modes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	chmodSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	rmSync,
	statSync,
	writeFileSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from '../helpers/server';

const mode = (path: string) => statSync(path).mode & 0o777;
/** Every folder and file under `dir`, with its mode. */
function walk(dir: string): { path: string; folder: boolean; mode: number }[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
		const path = join(dir, e.name);
		const here = { path, folder: e.isDirectory(), mode: mode(path) };
		return e.isDirectory() ? [here, ...walk(path)] : [here];
	});
}

let umask = 0;
const folders: string[] = [];
beforeAll(() => {
	umask = process.umask(0);
});
afterAll(() => {
	process.umask(umask);
	for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/** A data folder as an older version left it: everything readable by all. */
function olderDataFolder() {
	const dataDir = mkdtempSync(join(tmpdir(), 'cc-modes-'));
	folders.push(dataDir);
	chmodSync(dataDir, 0o755);
	mkdirSync(join(dataDir, 'secrets'), { mode: 0o755 });
	writeFileSync(join(dataDir, 'secrets', 'instance-id'), 'older-instance\n', { mode: 0o644 });
	writeFileSync(join(dataDir, 'customer-index.sqlite'), '', { mode: 0o644 });
	mkdirSync(join(dataDir, 'telephony', 'janus'), { recursive: true, mode: 0o755 });
	writeFileSync(join(dataDir, 'telephony', 'kamailio.cfg'), 'older\n', { mode: 0o644 });
	writeFileSync(join(dataDir, 'telephony', 'janus', 'janus.jcfg'), 'older\n', { mode: 0o644 });
	return dataDir;
}

describe('#13 the app’s files are its owner’s only, whatever the umask', () => {
	it('keeps the data folder, secrets, customer index and recordings folder private', async () => {
		const dataDir = olderDataFolder();
		const server = await startTestServer({ DATA_DIR: dataDir, RECORD_CALLS: 'on' });
		try {
			expect(mode(dataDir)).toBe(0o700);
			expect(mode(join(dataDir, 'secrets'))).toBe(0o700);
			const secrets = readdirSync(join(dataDir, 'secrets'));
			// The embedded store's admin secret; on Apache CouchDB (npm run test:couchdb) there is none.
			const expected = process.env.COUCHDB_URL ? ['instance-id'] : ['instance-id', 'store-admin'];
			expect(secrets).toEqual(expect.arrayContaining(expected));
			for (const name of secrets) expect(mode(join(dataDir, 'secrets', name)), name).toBe(0o600);
			// The older secret is kept, not replaced.
			expect(server.runtime.deps.instanceId).toBe('older-instance');
			const index = join(dataDir, 'customer-index.sqlite');
			for (const file of [index, `${index}-wal`, `${index}-shm`].filter(existsSync)) {
				expect(mode(file), file).toBe(0o600);
			}
			expect(existsSync(`${index}-wal`)).toBe(true);
			expect(mode(join(dataDir, 'recordings'))).toBe(0o700);
		} finally {
			await server.close();
		}
		// The replication feed hubs' snapshots, written at stop.
		for (const db of ['tickets', 'config']) {
			expect(mode(join(dataDir, `sync-hub-${db}.v8`)), db).toBe(0o600);
		}
	});

	it('writes Kamailio’s and Janus’s configuration and logs for the owner only', async () => {
		const dataDir = olderDataFolder();
		const port = 30_800 + Math.floor(Math.random() * 150) * 6;
		const server = await startTestServer({
			DATA_DIR: dataDir,
			TELEPHONY: 'on',
			SIP_PORT: String(port),
			JANUS_HTTP_PORT: String(port + 1),
			JANUS_WS_PORT: String(port + 2),
			JANUS_ADMIN_PORT: String(port + 3),
			EVAPI_PORT: String(port + 4)
		});
		try {
			const telephony = join(dataDir, 'telephony');
			expect(mode(telephony)).toBe(0o700);
			expect(mode(join(telephony, 'janus'))).toBe(0o700);
			expect(mode(join(telephony, 'kamailio.cfg'))).toBe(0o600);
			expect(mode(join(telephony, 'janus', 'janus.jcfg'))).toBe(0o600);
			expect(mode(join(dataDir, 'secrets', 'telephony'))).toBe(0o600);
			const written = walk(telephony);
			expect(written.map((f) => f.path)).toEqual(
				expect.arrayContaining([
					join(telephony, 'kamailio.log'),
					join(telephony, 'janus.log'),
					join(telephony, 'janus', 'janus.plugin.sip.jcfg')
				])
			);
			// Everything there — ours, Kamailio's and Janus's own (the control socket) — for the owner only.
			for (const f of written) {
				if (f.folder) expect(f.mode, f.path).toBe(0o700);
				else expect(f.mode & 0o077, f.path).toBe(0);
			}
		} finally {
			await server.close();
		}
	});
});
