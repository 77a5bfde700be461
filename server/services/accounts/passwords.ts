/** Password hashing (argon2id, OWASP parameters) and one-time passwords. */
import { hash, verify } from '@node-rs/argon2';
import { randomInt } from 'node:crypto';

const ARGON2ID = 2;
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
	return hash(password, OPTIONS);
}

export async function verifyPassword(hashed: string, password: string): Promise<boolean> {
	try {
		return await verify(hashed, password);
	} catch {
		return false;
	}
}

/** A hash to verify against when the user does not exist, so timing does not reveal user names. */
let dummy: Promise<string> | null = null;
export function dummyHash(): Promise<string> {
	dummy ??= hashPassword('not-a-real-password');
	return dummy;
}

const ALPHABET = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A readable one-time password (no 0/O, 1/l/I), 12 characters. */
export function oneTimePassword(): string {
	let out = '';
	for (let i = 0; i < 12; i++) out += ALPHABET[randomInt(ALPHABET.length)];
	return out;
}
