/**
 * Sign-in sessions: a random token in an HttpOnly cookie; the store keeps only its SHA-256 (`session:<hash>`
 * in `cc_users`), so sessions survive restarts and a leaked database holds no usable token. Revoking all of a
 * user's sessions (disable, password reset) takes effect at once on this server; other servers see it
 * within SESSION_CACHE_MS.
 */
import { createHash, randomBytes } from 'node:crypto';
import { storeStatus } from '../errors';
import type { Store } from '../store';
import type { UserDoc } from './accounts';

interface SessionDoc {
	_id: string;
	_rev?: string;
	type: 'session';
	userId: string;
	createdAt: string;
	expiresAt: string;
}

const SESSION_CACHE_MS = 2_000;

const idOf = (token: string) => `session:${createHash('sha256').update(token).digest('hex')}`;

export function createSessions({ store, ttlMs }: { store: Store; ttlMs: number }) {
	const db = store.db<SessionDoc | UserDoc>('users');
	const cache = new Map<string, { user: UserDoc; session: SessionDoc; until: number }>();

	async function load(token: string): Promise<{ user: UserDoc; session: SessionDoc } | null> {
		const id = idOf(token);
		const cached = cache.get(id);
		if (cached && cached.until > Date.now()) return cached;
		cache.delete(id);
		let session: SessionDoc;
		try {
			session = (await db.get(id)) as SessionDoc;
		} catch (err) {
			if (storeStatus(err) === 404) return null;
			throw err;
		}
		if (session.expiresAt < new Date().toISOString()) {
			await db.destroy(session._id, session._rev!).catch(() => {});
			return null;
		}
		let user: UserDoc;
		try {
			user = (await db.get(session.userId)) as UserDoc;
		} catch (err) {
			if (storeStatus(err) === 404) return null;
			throw err;
		}
		if (user.status !== 'active') return null;
		const entry = { user, session, until: Date.now() + SESSION_CACHE_MS };
		cache.set(id, entry);
		return entry;
	}

	return {
		ttlMs,
		async create(userId: string): Promise<string> {
			const token = randomBytes(32).toString('base64url');
			const now = Date.now();
			await db.insert({
				_id: idOf(token),
				type: 'session',
				userId,
				createdAt: new Date(now).toISOString(),
				expiresAt: new Date(now + ttlMs).toISOString()
			});
			return token;
		},
		/** The session's user, or null when the token is unknown, expired, or the user is not active. */
		async resolve(token: string): Promise<UserDoc | null> {
			return (await load(token))?.user ?? null;
		},
		async revoke(token: string): Promise<void> {
			const id = idOf(token);
			cache.delete(id);
			const doc = await db.get(id).catch(() => null);
			if (doc) await db.destroy(id, doc._rev!).catch(() => {});
		},
		/** Ends every session of the user (disable, password reset); `except` keeps the caller's own. */
		async revokeAll(userId: string, except?: string): Promise<void> {
			const keep = except ? idOf(except) : null;
			for (const [id, entry] of cache) {
				if (entry.user._id === userId && id !== keep) cache.delete(id);
			}
			const res = await db.view('app', 'sessions_by_user', { key: userId });
			const docs = await Promise.all(
				res.rows.filter((r) => r.id !== keep).map((r) => db.get(r.id).catch(() => null))
			);
			const deletions = docs.flatMap((d) =>
				d ? [{ _id: d._id, _rev: d._rev!, _deleted: true }] : []
			);
			if (deletions.length > 0) await db.bulk({ docs: deletions as never[] });
		},
		/** Forgets cached users after an account change on this server. */
		forgetUser(userId: string): void {
			for (const [id, entry] of cache) if (entry.user._id === userId) cache.delete(id);
		}
	};
}
export type Sessions = ReturnType<typeof createSessions>;
