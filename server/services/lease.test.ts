import { describe, expect, it } from 'vitest';
import { StoreError } from '../store';
import { soleLease, startLease, type LeaseDoc } from './lease';

/** A store holding documents by revision as CouchDB does: a write on another revision is refused (409). */
function fakeStore() {
	const docs = new Map<string, LeaseDoc>();
	let n = 0;
	let down = false;
	return {
		docs,
		setDown: (d: boolean) => (down = d),
		db: {
			async find(id: string) {
				await Promise.resolve();
				if (down) throw new Error('ECONNREFUSED');
				const doc = docs.get(id);
				return doc ? { ...doc } : null;
			},
			async insert(doc: LeaseDoc) {
				await Promise.resolve();
				if (down) throw new Error('ECONNREFUSED');
				const current = docs.get(doc._id);
				if ((current?._rev ?? undefined) !== doc._rev) {
					throw new StoreError(409, { error: 'conflict', reason: 'Document update conflict.' });
				}
				const rev = `${++n}-x`;
				docs.set(doc._id, { ...doc, _rev: rev });
				return { id: doc._id, rev };
			}
		}
	};
}

function server(store: ReturnType<typeof fakeStore>, name: string, clock: { now: number }) {
	const events: string[] = [];
	const lease = startLease({
		db: store.db as never,
		holder: name,
		url: `http://${name}.internal:3000`,
		ttlMs: 9_000,
		clock: () => clock.now,
		timers: false,
		onGain: () => void events.push('gain'),
		onLose: (why) => void events.push(`lose:${why}`)
	});
	return { lease, events };
}

describe('#16 the singletons’ lease', () => {
	it('goes to exactly one of two servers, and the other takes over only after the holder stops renewing', async () => {
		const store = fakeStore();
		const clock = { now: 0 };
		const a = server(store, 'a', clock);
		const b = server(store, 'b', clock);
		await Promise.all([a.lease.tick(), b.lease.tick()]);
		expect([a.lease.held(), b.lease.held()].filter(Boolean)).toHaveLength(1);
		const [holder, other] = a.lease.held() ? [a, b] : [b, a];
		// The holder renews every ttl/3; the other sees a new revision each time and never takes over.
		for (let i = 0; i < 10; i++) {
			clock.now += 3_000;
			await holder.lease.tick();
			await other.lease.tick();
		}
		expect(holder.lease.held()).toBe(true);
		expect(other.lease.held()).toBe(false);
		// Where the holder is reached (its call routing), as both see it.
		const holderUrl = holder === a ? 'http://a.internal:3000' : 'http://b.internal:3000';
		expect([holder.lease.holderUrl(), other.lease.holderUrl()]).toEqual([holderUrl, holderUrl]);
		// The holder dies (no more renewals): the other takes over once it has seen one revision for ttl.
		for (let i = 0; i < 2; i++) {
			clock.now += 3_000;
			await other.lease.tick();
			expect(other.lease.held()).toBe(false);
		}
		clock.now += 3_000; // 9 s after it last saw a renewal
		await other.lease.tick();
		expect(other.lease.held()).toBe(true);
		expect(other.events).toEqual(['gain']);
		// The old holder comes back: its renewal is refused and it stops its singletons.
		await holder.lease.tick();
		expect(holder.lease.held()).toBe(false);
		expect(holder.events).toEqual(['gain', 'lose:taken']);
	});

	it('steps down when it cannot reach the store, before anyone else may take over', async () => {
		const store = fakeStore();
		const clock = { now: 0 };
		const a = server(store, 'a', clock);
		await a.lease.tick();
		expect(a.lease.held()).toBe(true);
		store.setDown(true);
		clock.now += 3_000;
		await a.lease.tick();
		expect(a.lease.held()).toBe(true); // one failed renewal is retried
		clock.now += 3_000;
		await a.lease.tick();
		expect(a.lease.held()).toBe(false); // 6 s ≥ 2/3 of the 9 s: stepped down
		expect(a.events).toEqual(['gain', 'lose:unreachable']);
	});

	it('is handed over at once when its holder stops', async () => {
		const store = fakeStore();
		const clock = { now: 0 };
		const a = server(store, 'a', clock);
		const b = server(store, 'b', clock);
		await a.lease.tick();
		await b.lease.tick();
		expect(a.lease.held()).toBe(true);
		await a.lease.stop();
		expect(a.events).toEqual(['gain', 'lose:stopped']);
		await b.lease.tick();
		expect(b.lease.held()).toBe(true);
		expect(store.docs.get('lease:singletons')?.holder).toBe('b');
	});

	it('is taken back at once by the same server after a restart', async () => {
		const store = fakeStore();
		const clock = { now: 0 };
		await server(store, 'a', clock).lease.tick();
		const again = server(store, 'a', clock);
		await again.lease.tick();
		expect(again.lease.held()).toBe(true);
	});
});

describe('#16 the embedded store’s lease', () => {
	it('is held from the start without a document, and given up once on stop', async () => {
		const events: string[] = [];
		const lease = soleLease({
			holder: 'only',
			onGain: () => void events.push('gain'),
			onLose: (why) => void events.push(`lose:${why}`)
		});
		await lease.tick();
		expect([lease.held(), lease.holder()]).toEqual([true, 'only']);
		await lease.stop();
		await lease.stop();
		expect(lease.held()).toBe(false);
		expect(events).toEqual(['gain', 'lose:stopped']);
	});
});
