/**
 * One holder at a time among the app servers sharing one store (issue #16): the singletons run only on the
 * server that holds the lease, a document in the store fenced by its revision: today the conflict resolver,
 * a branch office's link to its center and the removal of ended sign-ins; call routing is still to be put
 * under it.
 *
 * The holder renews the document every `ttlMs / 3` (each renewal a new revision). Another server takes the
 * lease over only after it has seen the same revision for `ttlMs` on its own clock — no comparison of two
 * servers' clocks — and only by writing on that revision: if the holder renewed meanwhile, the store refuses
 * the takeover (409). A holder whose renewal is refused has lost the lease at once; one that cannot reach the
 * store steps down when its last renewal is `ttlMs * 2 / 3` old, before anyone can have taken over.
 */
import { storeStatus } from '../errors';
import type { Database } from '../store';

export interface LeaseDoc {
	_id: string;
	_rev?: string;
	type: 'lease';
	holder: string;
	/** #16 where the other app servers reach the holder (its call routing). */
	url?: string;
	/** When the holder last renewed it, on its own clock (for people reading the store; never compared). */
	renewedAt: string;
}

export interface Lease {
	/** Whether this server holds the lease now. */
	held(): boolean;
	/** Who holds it, as last seen (null before the first look). */
	holder(): string | null;
	/** #16 where the holder said it can be reached, as last seen (null before the first look). */
	holderUrl(): string | null;
	/** One round now (the timer runs them every `ttlMs / 3`); for tests with a fake clock. */
	tick(): Promise<void>;
	/** Stops, giving the lease up if held (the next server takes over at once). */
	stop(): Promise<void>;
}

export function startLease({
	db,
	id = 'lease:singletons',
	holder,
	url,
	ttlMs,
	onGain,
	onLose,
	clock = Date.now,
	timers = true,
	log = () => {}
}: {
	db: Pick<Database<LeaseDoc>, 'find' | 'insert'>;
	id?: string;
	/** This server (its instance id). */
	holder: string;
	/** Where the other app servers reach this one. */
	url?: string;
	ttlMs: number;
	/** Called when this server gains the lease: start the singletons. */
	onGain: () => void | Promise<void>;
	/** Called when it loses it (refused, unreachable store, stop): stop them. */
	onLose: (why: 'taken' | 'unreachable' | 'stopped') => void | Promise<void>;
	clock?: () => number;
	/** False: no timer, the caller drives `tick()` (tests). */
	timers?: boolean;
	log?: (msg: string) => void;
}): Lease {
	let rev: string | null = null; // the revision this server wrote, while it holds the lease
	let renewedAt = 0;
	let seen: { rev: string; since: number; holder: string; url: string | null } | null = null;
	let stopped = false;
	let running: Promise<void> | null = null;

	const doc = (current?: string): LeaseDoc => ({
		_id: id,
		...(current ? { _rev: current } : {}),
		type: 'lease',
		holder,
		...(url ? { url } : {}),
		renewedAt: new Date(clock()).toISOString()
	});

	async function write(current: string | null): Promise<boolean> {
		try {
			const res = await db.insert(doc(current ?? undefined));
			rev = res.rev;
			renewedAt = clock();
			seen = { rev: res.rev, since: renewedAt, holder, url: url ?? null };
			return true;
		} catch (err) {
			if (storeStatus(err) === 409) return false;
			throw err;
		}
	}

	async function lose(why: 'taken' | 'unreachable' | 'stopped') {
		rev = null;
		log(`lease ${id}: ${holder} lost it (${why})`);
		await onLose(why);
	}

	async function round(): Promise<void> {
		const now = clock();
		if (rev) {
			try {
				if (await write(rev)) return;
				await lose('taken');
			} catch (err) {
				if (now - renewedAt >= (ttlMs * 2) / 3) await lose('unreachable');
				else log(`lease ${id}: renewal failed (${(err as Error).message}); trying again`);
			}
			return;
		}
		const current = await db.find(id).catch(() => undefined);
		if (current === undefined) return; // the store is unreachable: look again next round
		const free =
			current === null ||
			current.holder === '' || // given up by its holder when it stopped
			current.holder === holder || // this server's own, from before a restart
			(seen?.rev === current._rev && now - seen.since >= ttlMs);
		if (!free) {
			if (seen?.rev !== current._rev) {
				seen = {
					rev: current._rev!,
					since: now,
					holder: current.holder,
					url: current.url ?? null
				};
			}
			return;
		}
		const won = await write(current?._rev ?? null).catch(() => false);
		if (won) {
			log(`lease ${id}: ${holder} holds it`);
			await onGain();
		} else seen = null;
	}

	function tick(): Promise<void> {
		if (stopped) return Promise.resolve();
		running ??= round().finally(() => (running = null));
		return running;
	}

	const timer = timers ? setInterval(() => void tick(), Math.max(50, ttlMs / 3)) : null;
	timer?.unref?.();
	if (timers) void tick();

	return {
		held: () => rev !== null,
		holder: () => seen?.holder ?? null,
		holderUrl: () => seen?.url ?? null,
		tick,
		async stop() {
			stopped = true;
			if (timer) clearInterval(timer);
			await running;
			if (!rev) return;
			// Handing over: a document whose holder is nobody is free at the next server's next round.
			const mine = rev;
			rev = null;
			// Unreachable or taken: the others take over after ttlMs as usual.
			await db.insert({ ...doc(mine), holder: '' }).catch(() => {});
			await onLose('stopped');
		}
	};
}

/**
 * The lease of a server that cannot have a peer: the embedded store lives inside this process, so no other
 * app server shares it. Held from the start, without a document renewed in the store every few seconds.
 */
export function soleLease({
	holder,
	url,
	onGain,
	onLose
}: {
	holder: string;
	url?: string;
	onGain: () => void | Promise<void>;
	onLose: (why: 'stopped') => void | Promise<void>;
}): Lease {
	let held = true;
	const gained = Promise.resolve(onGain());
	return {
		held: () => held,
		holder: () => holder,
		holderUrl: () => url ?? null,
		tick: () => gained,
		async stop() {
			if (!held) return;
			held = false;
			await gained;
			await onLose('stopped');
		}
	};
}
