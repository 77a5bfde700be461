/**
 * Device codes for ticket numbers people read aloud (DESIGN.md): each browser asks once, at its first
 * signed-in start, for a short code unique across the installation; it then numbers tickets offline as
 * date + code + its own counter, with no further round-trip.
 */
import { Hono } from 'hono';
import { requireUser } from '../middleware/auth';
import { storeStatus } from '../errors';
import type { AppDeps, AppEnv } from '../context';

interface Counter {
	_id: string;
	_rev?: string;
	type: 'counter';
	value: number;
}

export const deviceRoutes = ({ store }: AppDeps) =>
	new Hono<AppEnv>().use(requireUser()).post('/', async (c) => {
		const db = store.db<Counter>('users');
		// Optimistic increment: a concurrent allocation makes the store answer 409, and we read again.
		for (let attempt = 0; attempt < 20; attempt++) {
			const current = await db.get('counter:devices').catch(() => null);
			const next: Counter = current
				? { ...current, value: current.value + 1 }
				: { _id: 'counter:devices', type: 'counter', value: 1 };
			try {
				await db.insert(next);
				return c.json({ code: next.value.toString(36).toUpperCase().padStart(3, '0') }, 201);
			} catch (err) {
				if (storeStatus(err) !== 409) throw err;
			}
		}
		return c.json(
			{ code: 'conflict', message: 'Too many devices registering at once; try again' },
			503
		);
	});
