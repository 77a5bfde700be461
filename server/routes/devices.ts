/**
 * Device codes for ticket numbers people read aloud (DESIGN.md): each browser asks once, at its first
 * signed-in start, for a short code unique across the installation; it then numbers tickets offline as
 * date + code + its own counter, with no further round-trip. Devices also report how their replica is
 * doing; a report belongs to the device and the user signed in on it (a workstation's code is shared by
 * everyone who signs in there), so nobody overwrites another user's report.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { requirePermission, requireUser } from '../middleware/auth';
import { storeStatus } from '../errors';
import { parseOrThrow, validJson } from '../validate';
import type { UnresolvedConflict } from '../services/ticket-resolver';
import type { AppDeps, AppEnv } from '../context';

/** What a device reports about its replica (F28/F29 sync health, for administrators). */
const Health = v.object({
	pending: v.pipe(v.number(), v.integer(), v.minValue(0)),
	held: v.pipe(v.number(), v.integer(), v.minValue(0)),
	refused: v.pipe(v.number(), v.integer(), v.minValue(0)),
	lastSyncedAt: v.nullable(v.pipe(v.string(), v.isoTimestamp())),
	client: v.pipe(v.string(), v.maxLength(200))
});
const CodeParam = v.object({
	code: v.pipe(v.string(), v.regex(/^([0-9A-Z]{1,40}-)?[0-9A-Z]{3,8}$/))
});

export interface DeviceHealthDoc extends v.InferOutput<typeof Health> {
	/** `device:<code>:<user id>`. */
	_id: string;
	_rev?: string;
	type: 'device';
	code: string;
	userId: string;
	/** When the server last heard from the device. */
	seenAt: string;
}

/** Where the report of one device and user is kept. */
const healthId = (code: string, userId: string) => `device:${code}:${userId}`;

interface Counter {
	_id: string;
	_rev?: string;
	type: 'counter';
	value: number;
}

export const deviceRoutes = ({ store, config }: AppDeps) =>
	new Hono<AppEnv>()
		.use(requireUser())
		// Every device, what it holds and what waits on it — before the outage, not after (DESIGN.md, CHT).
		.get('/health', requirePermission('admin.settings'), async (c) => {
			const res = await store.db<DeviceHealthDoc>('users').allDocs({
				startkey: 'device:',
				endkey: 'device:\ufff0',
				include_docs: true
			});
			// Reports kept under the device alone (before they were kept per user) are left out.
			const devices = res.rows.flatMap((r) =>
				r.doc && r.doc._id === healthId(r.doc.code, r.doc.userId) ? [r.doc] : []
			);
			return c.json({ devices: devices.map(({ _id: _, _rev: __, type: ___, ...d }) => d) }, 200);
		})
		// Conflicts the union-of-events rule could not merge, with every version (DESIGN.md: surface the rest).
		.get('/conflicts', requirePermission('admin.settings'), async (c) => {
			const res = await store.db<UnresolvedConflict>('audit').allDocs({
				startkey: 'conflict:',
				endkey: 'conflict:\ufff0',
				include_docs: true
			});
			const conflicts = res.rows.flatMap((r) => (r.doc ? [r.doc] : []));
			return c.json({ conflicts: conflicts.map(({ _id: _, _rev: __, ...d }) => d) }, 200);
		})
		.put('/:code/health', validJson(Health), async (c) => {
			const { code } = parseOrThrow(CodeParam, c.req.param());
			const db = store.db<DeviceHealthDoc>('users');
			const userId = c.get('user')!._id;
			const doc: DeviceHealthDoc = {
				_id: healthId(code, userId),
				type: 'device',
				code,
				userId,
				seenAt: new Date().toISOString(),
				...c.req.valid('json')
			};
			for (let attempt = 0; attempt < 5; attempt++) {
				const current = await db.get(doc._id).catch(() => null);
				try {
					await db.insert(current ? { ...doc, _rev: current._rev } : doc);
					return c.body(null, 204);
				} catch (err) {
					if (storeStatus(err) !== 409) throw err;
				}
			}
			return c.body(null, 204); // another report of the same device and user won the race; as fresh
		})
		.post('/', async (c) => {
			const db = store.db<Counter>('users');
			// Optimistic increment: a concurrent allocation makes the store answer 409, and we read again.
			for (let attempt = 0; attempt < 20; attempt++) {
				const current = await db.get('counter:devices').catch(() => null);
				const next: Counter = current
					? { ...current, value: current.value + 1 }
					: { _id: 'counter:devices', type: 'counter', value: 1 };
				try {
					await db.insert(next);
					const serial = next.value.toString(36).toUpperCase().padStart(3, '0');
					// A branch's store counts on its own: its name keeps its codes apart from the center's.
					const branch = config.center?.name.toUpperCase().replace(/[^0-9A-Z]/g, '');
					return c.json({ code: branch ? `${branch}-${serial}` : serial }, 201);
				} catch (err) {
					if (storeStatus(err) !== 409) throw err;
				}
			}
			return c.json(
				{ code: 'conflict', message: 'Too many devices registering at once; try again' },
				503
			);
		});
