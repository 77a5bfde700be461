/**
 * Secrets generated on first start and kept in the data folder, unless given by the environment: one file
 * per secret under `<DATA_DIR>/secrets/`. Also the rule for every file the app writes that holds a secret
 * or subscribers' data (the data folder, Kamailio's and Janus's configuration, recordings, the customer
 * index): readable by the app's own user only — folders 0700, files 0600, whatever the process umask
 * (a mode given at creation is masked by it, and an existing file keeps its old mode).
 */
import { randomBytes } from 'node:crypto';
import {
	chmodSync,
	closeSync,
	existsSync,
	fchmodSync,
	ftruncateSync,
	mkdirSync,
	openSync,
	readFileSync,
	writeSync
} from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_FOLDER = 0o700;
export const PRIVATE_FILE = 0o600;

/** Creates the folder (and missing parents) and makes it the owner's only. */
export function privateFolder(dir: string): string {
	mkdirSync(dir, { recursive: true, mode: PRIVATE_FOLDER });
	chmodSync(dir, PRIVATE_FOLDER);
	return dir;
}

/**
 * Writes the file readable by the owner only. The mode is set on the open descriptor before any byte is
 * written, so an older file with a wider mode never holds the new text.
 */
export function writePrivate(file: string, text: string, flag: 'w' | 'wx' = 'w'): void {
	const fd = openSync(file, flag === 'wx' ? 'wx' : 'a', PRIVATE_FILE);
	try {
		fchmodSync(fd, PRIVATE_FILE);
		ftruncateSync(fd, 0);
		writeSync(fd, text);
	} finally {
		closeSync(fd);
	}
}

/** Makes an existing file the owner's only (files written by other programs: sox, Janus). */
export function makePrivate(file: string): void {
	if (existsSync(file)) chmodSync(file, PRIVATE_FILE);
}

export function getSecret(dataDir: string, name: string): string {
	const dir = join(dataDir, 'secrets');
	const file = join(dir, name);
	privateFolder(dir);
	if (existsSync(file)) {
		makePrivate(file);
		return readFileSync(file, 'utf8').trim();
	}
	const secret = randomBytes(24).toString('base64url');
	writePrivate(file, secret + '\n', 'wx');
	return secret;
}
