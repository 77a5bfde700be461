/**
 * Sign-in sessions: a random token in an HttpOnly cookie; the store keeps only its SHA-256 (`session:<hash>`
 * in `cc_users`), so sessions survive restarts and a leaked database holds no usable token. A session ends
 * at its absolute lifetime, after `idleMs` without a request, or when it is revoked (sign-out, sign-out
 * everywhere, password reset, disabled account).
 *
 * Long-lived connections (the event stream, the softphone's socket, replication feeds) `watch` their
 * session: revoked on this server they are told at once; revoked elsewhere (another app server), expired or
 * idle, they are told within WATCH_SWEEP_MS, when the sweep finds the session gone.
 *
 * Resolved sessions are kept in memory and dropped when the store says the session or its user changed
 * (issue #15: every request of every device read both from the store every 2 s).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SESSION_ENDS } from '#shared/wire/events';
import { storeStatus } from '../errors';
import type { Store } from '../store';
import { followChanges } from '../store/follow';
import type { UserDoc } from './accounts';

interface SessionDoc {
	_id: string;
	_rev?: string;
	type: 'session';
	userId: string;
	createdAt: string;
	expiresAt: string;
	/** When the session was last used (written at most every TOUCH_MS); absent on older sessions. */
	lastSeenAt?: string;
}

/**
 * How long a resolved session is used from memory. Any change to the session or its user in the store —
 * on this server or another — drops it at once (the `cc_users` feed, below), so while that feed is live
 * an entry lasts SESSION_CACHE_LIVE_MS; while it is not, SESSION_CACHE_MS bounds how stale a session can
 * be. (At 300 agents the 60 s bound alone reloaded ~22 sessions a second from the store.)
 */
const SESSION_CACHE_MS = 60_000;
const SESSION_CACHE_LIVE_MS = 15 * 60_000;
/** How often the lease holder deletes the sessions that ended without a sign-out, and how many it reads at once. */
export const SESSION_SWEEP_MS = 10 * 60_000;
const SWEEP_PAGE = 500;
/** Watched connections of sessions revoked elsewhere or expired are ended within this. */
export const WATCH_SWEEP_MS = 3_000;

const idOf = (token: string) => `session:${createHash('sha256').update(token).digest('hex')}`;

/** Why a watched session ended (the event stream tells the page, `#shared/wire/events`). */
export type SessionEnd = (typeof SESSION_ENDS)[number];

/**
 * Sessions of a user that ended on this server: the one with `token`, or every one but `except` (none:
 * every session of the user — disabled, password reset, sign-out everywhere).
 */
export interface SessionsEnded {
	userId: string;
	why: SessionEnd;
	token?: string;
	except?: string;
}

/** Whether a connection of `userId` with `token` belongs to what ended. */
export const endedFor = (e: SessionsEnded, userId: string, token: string) =>
	e.userId === userId && (e.token ? e.token === token : e.except !== token);

interface Watcher {
	userId: string;
	onEnd: (why: SessionEnd) => void;
}

export function createSessions({
	store,
	ttlMs,
	idleMs = ttlMs,
	clock = Date.now
}: {
	store: Store;
	ttlMs: number;
	idleMs?: number;
	/** The time, for tests that move it. */
	clock?: () => number;
}) {
	const db = store.db<SessionDoc | UserDoc>('users');
	const cache = new Map<string, { user: UserDoc; session: SessionDoc; loadedAt: number }>();
	/** How often a used session's `lastSeenAt` is written: a fraction of the idle timeout, at most 5 min. */
	const touchMs = Math.min(5 * 60_000, Math.max(1_000, Math.floor(idleMs / 4)));
	/**
	 * Revisions this server wrote when it touched a session: the feed brings them back, and the cached entry
	 * already holds them — dropping it would reload every busy session after each touch (the capacity
	 * benchmark saw 1,445 user reads in one minute at 200 agents).
	 */
	const ownTouches = new Set<string>();
	const touching = new Set<string>();
	/** The revision the feed brought of a session whose touch was still being written. */
	const seenWhileTouching = new Map<string, string>();
	const watchers = new Map<string, Set<Watcher>>();
	const userEndListeners = new Set<(ended: SessionsEnded) => void>();

	const lastUse = (s: SessionDoc) => Date.parse(s.lastSeenAt ?? s.createdAt);

	/** Loads in flight: a device's first requests come together, and one read of the store serves them. */
	const loading = new Map<string, Promise<{ user: UserDoc; session: SessionDoc } | null>>();

	/** The cached entry while it may still be used. */
	function cached(id: string, now: number) {
		const entry = cache.get(id);
		const maxAge = follower.live() ? SESSION_CACHE_LIVE_MS : SESSION_CACHE_MS;
		return entry &&
			now - entry.loadedAt < maxAge &&
			Date.parse(entry.session.expiresAt) > now &&
			now - lastUse(entry.session) <= idleMs
			? entry
			: null;
	}

	async function load(token: string): Promise<{ user: UserDoc; session: SessionDoc } | null> {
		const id = idOf(token);
		const entry = cached(id, clock());
		if (entry) return entry;
		let pending = loading.get(id);
		if (!pending) {
			pending = loadOnce(id).finally(() => loading.delete(id));
			loading.set(id, pending);
		}
		return pending;
	}

	async function loadOnce(id: string): Promise<{ user: UserDoc; session: SessionDoc } | null> {
		const now = clock();
		cache.delete(id);
		let session: SessionDoc;
		try {
			session = (await db.get(id)) as SessionDoc;
		} catch (err) {
			if (storeStatus(err) === 404) return null;
			throw err;
		}
		if (Date.parse(session.expiresAt) < now || now - lastUse(session) > idleMs) {
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
		const entry = { user, session, loadedAt: now };
		cache.set(id, entry);
		return entry;
	}

	/**
	 * Each session's share of `touchMs` (½ to 1, fixed per session): a shift's agents sign in together, and
	 * their touches came due in the same second — hundreds of writes, each brought back by the users feed.
	 */
	function spread(id: string): number {
		let h = 0;
		for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
		return 0.5 + (h % 1000) / 2000;
	}

	/** Records that the session was used, at most every touchMs (a lost race only delays the next write). */
	function touch(entry: { session: SessionDoc }): void {
		const { session } = entry;
		const now = clock();
		if (now - lastUse(session) < touchMs * spread(session._id) || touching.has(session._id)) return;
		touching.add(session._id);
		const next = { ...session, lastSeenAt: new Date(now).toISOString() };
		void db
			.insert(next)
			.then((res) => {
				entry.session = { ...next, _rev: res.rev };
				const seen = seenWhileTouching.get(session._id);
				// The feed already brought a revision while this write was in flight: ours, or someone else's.
				if (seen === undefined) ownTouches.add(`${next._id}@${res.rev}`);
				else if (seen !== res.rev) cache.delete(session._id);
			})
			// Refused (someone else changed the session meanwhile, e.g. a sign-out): read it again.
			.catch(() => cache.delete(session._id))
			.finally(() => {
				touching.delete(session._id);
				seenWhileTouching.delete(session._id);
			});
	}

	function end(token: string, why: SessionEnd): void {
		const set = watchers.get(token);
		watchers.delete(token);
		for (const w of set ?? []) w.onEnd(why);
	}

	function endUser(userId: string, why: SessionEnd, except: string | null): void {
		for (const [token, set] of [...watchers]) {
			if (token === except) continue;
			if ([...set].some((w) => w.userId === userId)) end(token, why);
		}
		for (const l of userEndListeners) l({ userId, why, ...(except ? { except } : {}) });
	}

	/** A session (and its user) as the store holds them now, for many tokens in two requests. */
	async function liveTokens(tokens: string[]): Promise<Set<string>> {
		const now = clock();
		const ids = tokens.map(idOf);
		const sessions = (await db.getMany(ids)) as Map<string, SessionDoc>;
		const byId = new Map<string, SessionDoc>();
		for (const doc of sessions.values()) {
			if (Date.parse(doc.expiresAt) >= now && now - lastUse(doc) <= idleMs) byId.set(doc._id, doc);
		}
		const userIds = [...new Set([...byId.values()].map((s) => s.userId))];
		const users = (await db.getMany(userIds)) as Map<string, UserDoc>;
		const active = new Set<string>();
		for (const doc of users.values()) if (doc.status === 'active') active.add(doc._id);
		return new Set(tokens.filter((t, i) => active.has(byId.get(ids[i]!)?.userId ?? '')));
	}

	// Any change to a session or a user in the store (another server's sign-out, a disabled account, an
	// edited user) drops what is cached of it; ids only, in batches.
	const follower = followChanges<SessionDoc | UserDoc>(store, 'users', {
		name: 'session cache',
		since: async () => String(await db.updateSeq()),
		batchSize: 1000,
		onBatch(changes) {
			for (const { id, changes: revs } of changes) {
				if (id.startsWith('session:')) {
					const rev = revs?.[0]?.rev ?? '';
					// The feed may bring our own touch back before its write has answered: decided there.
					if (touching.has(id)) seenWhileTouching.set(id, rev);
					else if (ownTouches.delete(`${id}@${rev}`)) continue;
					// A clustered feed may bring a change again (it rewinds when it reads another shard copy).
					else if (cache.get(id)?.session._rev !== rev) cache.delete(id);
				} else for (const [key, entry] of cache) if (entry.user._id === id) cache.delete(key);
			}
			return Promise.resolve();
		}
	});

	// Sessions ended elsewhere (another server, expiry, idle, a disabled account) end their connections
	// too: one batched look-up of every watched session per sweep, however many connections there are.
	let sweeping = false;
	const sweep = setInterval(() => {
		const now = clock();
		for (const [id, entry] of cache) {
			if (now - entry.loadedAt >= SESSION_CACHE_LIVE_MS) cache.delete(id);
		}
		const tokens = [...watchers.keys()];
		if (sweeping || tokens.length === 0) return;
		sweeping = true;
		void liveTokens(tokens)
			.then((live) => {
				for (const token of tokens) {
					if (live.has(token)) continue;
					const userId = [...(watchers.get(token) ?? [])][0]?.userId;
					cache.delete(idOf(token));
					end(token, 'expired');
					if (userId) for (const l of userEndListeners) l({ userId, why: 'expired', token });
				}
			})
			.catch(() => {}) // the store is unreachable: keep the connections, check again
			.finally(() => (sweeping = false));
	}, WATCH_SWEEP_MS);
	sweep.unref?.();

	return {
		ttlMs,
		async create(userId: string): Promise<string> {
			const token = randomBytes(32).toString('base64url');
			const now = new Date(clock());
			await db.insert({
				_id: idOf(token),
				type: 'session',
				userId,
				createdAt: now.toISOString(),
				lastSeenAt: now.toISOString(),
				expiresAt: new Date(now.getTime() + ttlMs).toISOString()
			});
			return token;
		},
		/**
		 * The session's user, or null when the token is unknown, expired, idle too long, or the user is not
		 * active. A request resolving its session counts as use (the idle clock restarts).
		 */
		async resolve(token: string): Promise<UserDoc | null> {
			const entry = await load(token);
			if (entry) touch(entry);
			return entry?.user ?? null;
		},
		/** As resolve, without counting as use: for background checks (Kamailio asking, sweeps). */
		async peek(token: string): Promise<UserDoc | null> {
			return (await load(token))?.user ?? null;
		},
		/**
		 * Tells `onEnd` once when this session ends (signed out, revoked, expired); returns the unwatch
		 * function. The caller has resolved the token to `userId`.
		 */
		watch(token: string, userId: string, onEnd: (why: SessionEnd) => void): () => void {
			let set = watchers.get(token);
			if (!set) watchers.set(token, (set = new Set()));
			const watcher = { userId, onEnd };
			set.add(watcher);
			return () => {
				set.delete(watcher);
				if (set.size === 0 && watchers.get(token) === set) watchers.delete(token);
			};
		},
		/** Told when sessions of a user end on this server (see SessionsEnded). */
		onUserSessionEnd(listener: (ended: SessionsEnded) => void) {
			userEndListeners.add(listener);
			return () => userEndListeners.delete(listener);
		},
		async revoke(token: string): Promise<void> {
			const id = idOf(token);
			const known = cache.get(id)?.user._id ?? [...(watchers.get(token) ?? [])][0]?.userId;
			cache.delete(id);
			const doc = (await db.get(id).catch(() => null)) as SessionDoc | null;
			if (doc) await db.destroy(id, doc._rev!).catch(() => {});
			end(token, 'signedOut');
			const userId = doc?.userId ?? known;
			if (userId) for (const l of userEndListeners) l({ userId, why: 'signedOut', token });
		},
		/**
		 * Ends every session of the user (disable, password reset, sign-out everywhere); `except` keeps the
		 * caller's own.
		 */
		async revokeAll(userId: string, except?: string): Promise<void> {
			const keep = except ? idOf(except) : null;
			for (const [id, entry] of cache) {
				if (entry.user._id === userId && id !== keep) cache.delete(id);
			}
			const res = await db.view('sessions_by_user', { key: userId });
			const docs = await Promise.all(
				res.rows.filter((r) => r.id !== keep).map((r) => db.get(r.id).catch(() => null))
			);
			const deletions = docs.flatMap((d) =>
				d ? [{ _id: d._id, _rev: d._rev!, _deleted: true }] : []
			);
			if (deletions.length > 0) await db.bulkDocs(deletions);
			endUser(userId, 'revoked', except ?? null);
		},
		/**
		 * Deletes the sessions that expired or went idle without a sign-out (a closed browser), a page at a
		 * time: run every SESSION_SWEEP_MS by the lease holder, so `<prefix>users` does not keep every sign-in
		 * ever made. Returns how many went.
		 */
		async removeEnded(): Promise<number> {
			const now = clock();
			let removed = 0;
			let startkey = 'session:';
			for (;;) {
				const { rows } = await db.allDocs({
					startkey,
					endkey: 'session:\ufff0',
					include_docs: true,
					limit: SWEEP_PAGE
				});
				const ended = rows.flatMap((r) => {
					const s = r.doc as SessionDoc | undefined;
					return s && (Date.parse(s.expiresAt) < now || now - lastUse(s) > idleMs)
						? [{ _id: s._id, _rev: s._rev!, _deleted: true }]
						: [];
				});
				if (ended.length > 0) {
					// One refused (used again meanwhile, or gone already) stays for the next sweep.
					removed += (await db.bulkDocs(ended)).filter((r) => !r.error).length;
				}
				if (rows.length < SWEEP_PAGE) return removed;
				startkey = `${rows.at(-1)!.id}\u0000`;
			}
		},
		/** Whether the users feed that drops changed sessions is live (diagnostics, tests). */
		feedLive: () => follower.live(),
		/** Forgets cached users after an account change on this server. */
		forgetUser(userId: string): void {
			for (const [id, entry] of cache) if (entry.user._id === userId) cache.delete(id);
		},
		async close(): Promise<void> {
			clearInterval(sweep);
			await follower.stop();
		}
	};
}
export type Sessions = ReturnType<typeof createSessions>;
