/**
 * Secrets generated on first start and kept in the data folder (mode 0600), unless given by the
 * environment. One file per secret under `<DATA_DIR>/secrets/`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function getSecret(dataDir: string, name: string): string {
	const dir = join(dataDir, 'secrets');
	const file = join(dir, name);
	if (existsSync(file)) return readFileSync(file, 'utf8').trim();
	mkdirSync(dir, { recursive: true, mode: 0o700 });
	const secret = randomBytes(24).toString('base64url');
	writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
	return secret;
}
