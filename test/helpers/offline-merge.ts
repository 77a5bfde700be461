/**
 * The randomized three-device offline-merge scenario (F28, "nothing is lost"), shared by
 * `test/integration/faults.test.ts` and `test/bench/offline-merge.bench.ts`: one ticket on three devices,
 * edited offline in a seeded random order, synced with the server in a seeded random order (some devices
 * twice, some at the same time), then checked on the server and on every device. A run reports problems
 * instead of asserting, so the benchmark can count failures and the test can print the seed.
 */
import { until } from './until';
import { PouchDB, syncRemote } from './pouch';
import type { TestServer } from './server';
import { buildTicket, deriveTicket, mergeTickets, type TicketDoc } from '#shared/tickets/ticket';
import type { TicketEvent } from '#shared/tickets/events';

const CENTER = 'department:center';
const DEPARTMENT = 'department:billing';
const BATCH_SIZE = 500; // as the browser (src/lib/replication/tickets-db.ts)
const SETTLE_MS = 10_000; // how long the server's resolver may take to merge every conflict

import { mulberry32 } from '../../server/tools/subscribers';

export { mulberry32 };

export interface MergeUser {
	id: string;
	cookie: string;
}

/**
 * Three users who all see one ticket: the center agent who records it, and two department users of the
 * department it is transferred to. Comments need no permission, so each may record them.
 */
export async function createMergeUsers(server: TestServer, prefix = 'merge'): Promise<MergeUser[]> {
	const specs = [
		{ username: `${prefix}agent`, roleKey: 'agent' },
		{ username: `${prefix}depa`, roleKey: 'department', departmentId: DEPARTMENT },
		{ username: `${prefix}depb`, roleKey: 'department', departmentId: DEPARTMENT }
	];
	const users: MergeUser[] = [];
	for (const spec of specs) {
		users.push({ id: `user:${spec.username}`, cookie: await server.createUser(spec) });
	}
	return users;
}

export interface MergeRunResult {
	seed: number;
	/** Events of the ticket at the end (created, transferred and every comment). */
	events: number;
	/** Replications run (each push or pull counts once). */
	replications: number;
	/** Conflicting revisions the server held when the devices had finished syncing (before resolving). */
	conflicts: number;
	/** Everything that was not as it must be; empty when the run passed. */
	problems: string[];
	ms: number;
}

type SyncKind = 'push-pull' | 'pull-push' | 'both' | 'push';
const SYNC_KINDS: SyncKind[] = ['push-pull', 'pull-push', 'both', 'push'];

interface Device {
	index: number;
	user: MergeUser;
	db: PouchDB.Database<TicketDoc>;
	remote: PouchDB.Database<TicketDoc>;
}

type WithConflicts = TicketDoc & { _conflicts?: string[] };

/** One run of the scenario with its own ticket and devices; `server` must hold `users`. */
export async function runOfflineMerge({
	server,
	users,
	seed
}: {
	server: TestServer;
	users: MergeUser[];
	seed: number;
}): Promise<MergeRunResult> {
	const started = performance.now();
	const rng = mulberry32(seed);
	const int = (min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
	const shuffle = <T>(list: T[]): T[] => {
		for (let i = list.length - 1; i > 0; i--) {
			const j = int(0, i);
			[list[i], list[j]] = [list[j]!, list[i]!];
		}
		return list;
	};
	const problems: string[] = [];
	let replications = 0;
	let conflicts = 0;
	const id = `ticket:merge-${seed}-${Date.now().toString(36)}`;
	const t0 = Date.now();
	const [creator] = users;
	if (!creator || users.length !== 3) throw new Error('the scenario needs three users');

	const devices: Device[] = users.map((user, index) => ({
		index,
		user,
		db: new PouchDB<TicketDoc>(`${id}-device${index}`, { adapter: 'memory' }),
		remote: syncRemote<TicketDoc>(server.url, 'tickets', user.cookie)
	}));
	const recorded = new Set<string>();

	async function replicate(d: Device, direction: 'push' | 'pull' | 'both'): Promise<void> {
		const label = `device ${d.index} ${direction}`;
		try {
			if (direction === 'both') {
				replications += 2;
				const res = await d.db.sync(d.remote, { batch_size: BATCH_SIZE });
				for (const part of [res.push, res.pull]) {
					if (part && part.doc_write_failures > 0) {
						problems.push(
							`${label}: ${part.doc_write_failures} refused ${JSON.stringify(part.errors)}`
						);
					}
				}
				return;
			}
			replications += 1;
			const res =
				direction === 'push'
					? await d.db.replicate.to(d.remote, { batch_size: BATCH_SIZE })
					: await d.db.replicate.from(d.remote, { batch_size: BATCH_SIZE });
			if (res.doc_write_failures > 0) {
				problems.push(`${label}: ${res.doc_write_failures} refused ${JSON.stringify(res.errors)}`);
			}
		} catch (err) {
			problems.push(`${label} failed: ${(err as Error).message}`);
		}
	}

	/** The device's view of the ticket: the union of its local conflicting revisions, as the app reads it. */
	async function localView(d: Device): Promise<{ doc: WithConflicts; view: TicketDoc }> {
		const doc = (await d.db.get(id, { conflicts: true })) as WithConflicts;
		let view: TicketDoc = doc;
		for (const rev of doc._conflicts ?? []) {
			view = mergeTickets(view, await d.db.get(id, { rev }), CENTER);
		}
		return { doc, view };
	}

	/** A comment recorded on the device, on top of its merged view (as `putTicket` after `getTicket`). */
	async function comment(d: Device): Promise<void> {
		const { doc, view } = await localView(d);
		const event: TicketEvent = {
			id: `c-${seed}-${d.index}-${recorded.size}`,
			type: 'comment',
			// Device clocks disagree: times collide and come out of order, ties are broken by event id.
			at: new Date(t0 + int(0, 40)).toISOString(),
			by: d.user.id,
			text: `备注 ${recorded.size}`
		};
		recorded.add(event.id);
		await d.db.put(buildTicket(id, [...view.events, event], CENTER, doc._rev));
	}

	try {
		// Online: the agent records and transfers the ticket; the department's two devices receive it.
		const created: TicketEvent = {
			id: `m-${seed}-created`,
			type: 'created',
			at: new Date(t0).toISOString(),
			by: creator.id,
			number: `M-${seed}`,
			callerNumber: '13800000000',
			customerIds: [],
			departmentId: CENTER,
			serviceTypeId: null,
			contentCategoryId: null,
			content: '合并测试',
			callbackRequired: false
		};
		const transferred: TicketEvent = {
			id: `m-${seed}-transferred`,
			type: 'transferred',
			at: new Date(t0).toISOString(),
			by: creator.id,
			toDepartmentId: DEPARTMENT,
			flowId: null,
			note: ''
		};
		recorded.add(created.id).add(transferred.id);
		await devices[0]!.db.put(buildTicket(id, [created, transferred], CENTER));
		await replicate(devices[0]!, 'push');
		for (const d of devices.slice(1)) await replicate(d, 'pull');
		for (const d of devices) {
			if (!(await d.db.get(id).catch(() => null))) {
				problems.push(`device ${d.index} never got the ticket`);
			}
		}
		if (problems.length > 0) return finish();

		// Offline: each device records 1–5 comments, the devices taking turns in a random order.
		const turns = shuffle(devices.flatMap((d) => Array.from({ length: int(1, 5) }, () => d)));
		for (const d of turns) await comment(d);

		// Back online in a random order: every device syncs once or twice (recording more in between), and
		// syncs of the same wave run at the same time. Every kind of sync pushes, so nothing stays behind.
		const synced = new Set<Device>();
		const ops = shuffle(
			devices.flatMap((d) => Array.from({ length: rng() < 0.5 ? 2 : 1 }, () => d))
		).map((d) => {
			const again = synced.has(d);
			synced.add(d);
			return {
				d,
				kind: SYNC_KINDS[int(0, SYNC_KINDS.length - 1)]!,
				editsBefore: again ? int(0, 2) : 0
			};
		});
		const waves: (typeof ops)[] = [];
		for (const op of ops) {
			const wave = waves.at(-1);
			if (wave && rng() < 0.5 && !wave.some((o) => o.d === op.d)) wave.push(op);
			else waves.push([op]);
		}
		for (const wave of waves) {
			await Promise.all(
				wave.map(async ({ d, kind, editsBefore }) => {
					for (let k = 0; k < editsBefore; k++) await comment(d);
					if (kind === 'both') return replicate(d, 'both');
					for (const direction of kind.split('-') as ('push' | 'pull')[]) {
						await replicate(d, direction);
					}
				})
			);
		}

		// The server's resolver merges what the devices left as conflicts.
		const store = server.runtime.store.db<TicketDoc>('tickets');
		let onServer: WithConflicts | null = null;
		const deadline = Date.now() + SETTLE_MS;
		for (;;) {
			onServer = (await store.get(id, { conflicts: true })) as WithConflicts;
			conflicts ||= onServer._conflicts?.length ?? 0;
			const settled =
				!onServer._conflicts?.length &&
				sameSet(
					onServer.events.map((e) => e.id),
					recorded
				);
			if (settled || Date.now() > deadline) break;
			await new Promise((r) => setTimeout(r, 25));
		}
		problems.push(...check('server', onServer, recorded));

		// Every device pulls the resolved ticket and must then hold exactly what the server holds. On a
		// CouchDB cluster the read above may come from a shard copy a last conflict had not reached yet: the
		// resolver's merge of it is a newer revision, which the devices then pull as well.
		await until(
			async () => {
				for (const d of devices) await replicate(d, 'pull');
				const now = (await store.get(id, { conflicts: true })) as WithConflicts;
				if (now._rev !== onServer!._rev) {
					problems.push(...check('server', now, recorded));
					onServer = now;
				}
				const held = await Promise.all(devices.map((d) => d.db.get(id)));
				return !now._conflicts?.length && held.every((doc) => doc._rev === now._rev);
			},
			'the devices to hold the server’s revision',
			SETTLE_MS
		).catch(() => {}); // what still differs is reported below
		for (const d of devices) {
			const doc = (await d.db.get(id, { conflicts: true })) as WithConflicts;
			problems.push(...check(`device ${d.index}`, doc, recorded));
			if (doc._rev !== onServer._rev) {
				problems.push(`device ${d.index}: winning revision ${doc._rev}, server ${onServer._rev}`);
			}
		}
		return finish();
	} finally {
		await Promise.all(devices.map((d) => d.db.destroy().catch(() => {})));
	}

	function finish(): MergeRunResult {
		return {
			seed,
			events: recorded.size,
			replications,
			conflicts,
			problems,
			ms: performance.now() - started
		};
	}
}

function sameSet(ids: string[], expected: Set<string>): boolean {
	return ids.length === expected.size && ids.every((id) => expected.has(id));
}

/** Problems of one copy of the ticket: conflicts left, events lost, added or repeated, fields not derived. */
function check(where: string, doc: WithConflicts, recorded: Set<string>): string[] {
	const out: string[] = [];
	if (doc._conflicts?.length) out.push(`${where}: conflicts left ${doc._conflicts.join(', ')}`);
	const ids = doc.events.map((e) => e.id);
	const unique = new Set(ids);
	if (unique.size !== ids.length) out.push(`${where}: an event is stored twice`);
	const lost = [...recorded].filter((id) => !unique.has(id));
	if (lost.length > 0) out.push(`${where}: lost ${lost.join(', ')}`);
	const extra = [...unique].filter((id) => !recorded.has(id));
	if (extra.length > 0) out.push(`${where}: unknown events ${extra.join(', ')}`);
	const derived = deriveTicket(doc.events, CENTER) as unknown as Record<string, unknown>;
	for (const [field, value] of Object.entries(derived)) {
		if (
			JSON.stringify((doc as unknown as Record<string, unknown>)[field]) !== JSON.stringify(value)
		) {
			out.push(`${where}: ${field} is not derived from the events`);
		}
	}
	return out;
}
