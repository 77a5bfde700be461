/**
 * Issue #6, "nothing is lost": faults while devices sync. The server killed outright in the middle of a
 * crew device's upload (F28), and three devices editing one ticket offline and syncing in any order (F28).
 * F27 (a device reloaded while offline keeps its unsynced work) needs a browser: it is an end-to-end test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { device, syncRemote } from '../helpers/pouch';
import { startTestServer, type TestServer } from '../helpers/server';
import {
	createUserOverHttp,
	freePort,
	startChildServer,
	type ChildServer
} from '../helpers/child-server';
import { createMergeUsers, runOfflineMerge, type MergeUser } from '../helpers/offline-merge';
import { buildTicket, type TicketDoc } from '../../src/lib/shared/tickets/ticket';
import type { TicketEvent } from '../../src/lib/shared/tickets/events';

const CENTER = 'department:center';

const BACKLOG = 1_500; // tickets recorded offline
const COMMENTS = 3; // comment events per ticket besides `created`
const PUSH_BATCH = 20; // small batches: many round trips, so the kill lands in the middle

describe('F28 crew devices', () => {
	it('F28 server killed with SIGKILL mid-upload loses and duplicates nothing', async () => {
		const dataDir = mkdtempSync(join(tmpdir(), 'cc-fault-'));
		const port = await freePort();
		let child: ChildServer | null = await startChildServer(port, dataDir);
		let inProcess: TestServer | null = null;
		const db = device<TicketDoc>(`fault-backlog-${Date.now()}`);
		try {
			const cookie = await createUserOverHttp(child.url, 'faultagent', 'role:agent');
			const user = 'user:faultagent';

			// The device's offline backlog: each ticket recorded with its comments by this user.
			const t0 = Date.now() - 60_000;
			const docs: TicketDoc[] = [];
			for (let i = 0; i < BACKLOG; i++) {
				const at = (k: number) => new Date(t0 + i * 10 + k).toISOString();
				const events: TicketEvent[] = [
					{
						id: `k-${i}-0`,
						type: 'created',
						at: at(0),
						by: user,
						number: `K-${i}`,
						callerNumber: `1380000${String(i).padStart(4, '0')}`,
						customerIds: [],
						departmentId: CENTER,
						serviceTypeId: null,
						contentCategoryId: null,
						content: `离线记录 ${i}`,
						callbackRequired: false
					},
					...Array.from({ length: COMMENTS }, (_, k): TicketEvent => ({
						id: `k-${i}-${k + 1}`,
						type: 'comment',
						at: at(k + 1),
						by: user,
						text: `备注 ${k + 1}`
					}))
				];
				docs.push(buildTicket(`ticket:fault-${String(i).padStart(4, '0')}`, events, CENTER));
			}
			await db.bulkDocs(docs);
			const expected = new Map(docs.map((d) => [d._id, d.events.map((e) => e.id).sort()]));
			const local = async () =>
				new Map(
					(await db.allDocs({ include_docs: true, conflicts: true })).rows.map((r) => [
						r.id,
						r.doc as TicketDoc & { _conflicts?: string[] }
					])
				);
			const before = await local();

			// Upload, and kill the server outright once part of the backlog has arrived.
			const remote = () => syncRemote<TicketDoc>(child!.url, 'tickets', cookie);
			const victim = child;
			let killedAt = -1;
			const firstResult = await db.replicate
				.to(remote(), { batch_size: PUSH_BATCH })
				.on('change', (info) => {
					if (killedAt < 0 && info.docs_written >= BACKLOG / 3) {
						killedAt = info.docs_written;
						// Now: two thirds of the backlog are still to go, so the upload is cut off whatever the timing.
						victim.proc.kill('SIGKILL');
					}
				})
				.then(
					(r) => ({ ok: true, written: r.docs_written }),
					(err: Error) => ({ ok: false, written: -1, error: err.message })
				);
			expect(await victim.exited).toBeNull(); // killed by the signal, not exited
			expect(firstResult.ok, 'the upload must have been cut off').toBe(false);
			expect(killedAt).toBeGreaterThan(0);
			expect(killedAt).toBeLessThan(BACKLOG);

			// Restarted on the same data folder and port: the embedded store (LevelDB) reopens; the device
			// keeps its session cookie and uploads the rest.
			child = await startChildServer(port, dataDir);
			const second = await db.replicate.to(remote(), { batch_size: PUSH_BATCH });
			expect(second.ok).toBe(true);
			expect(second.doc_write_failures).toBe(0);

			// A fresh device of the same user pulls everything: every ticket once, with all its events.
			const fresh = device<TicketDoc>(`fault-fresh-${Date.now()}`);
			await fresh.replicate.from(remote(), { batch_size: 500 });
			const pulled = await fresh.allDocs({ include_docs: true, conflicts: true });
			expect(pulled.rows.length).toBe(BACKLOG);
			for (const row of pulled.rows) {
				const doc = row.doc as TicketDoc & { _conflicts?: string[] };
				const ids = doc.events.map((e) => e.id).sort();
				expect(ids, row.id).toEqual(expected.get(row.id));
				expect(doc._conflicts, row.id).toBeUndefined();
			}
			await fresh.destroy();

			// The uploading device pulls back nothing different from what it had.
			const back = await db.replicate.from(remote(), { batch_size: 500 });
			expect(back.docs_written).toBe(0);
			const after = await local();
			expect(after.size).toBe(before.size);
			for (const [id, doc] of before) {
				expect(after.get(id)?._rev, id).toBe(doc._rev);
				expect(after.get(id)?._conflicts, id).toBeUndefined();
			}

			// The store itself, opened by the server in this process after a clean stop: each ticket exactly
			// once, every event once, no conflict.
			child.proc.kill('SIGTERM');
			await child.exited;
			child = null;
			inProcess = await startTestServer({ DATA_DIR: dataDir });
			const all = await inProcess.runtime.store
				.db<TicketDoc & { _conflicts?: string[] }>('tickets')
				.allDocs({ include_docs: true, conflicts: true });
			const stored = all.rows.flatMap(({ id, doc }) =>
				id.startsWith('ticket:') && doc ? [{ id, doc }] : []
			);
			expect(stored.length).toBe(BACKLOG);
			expect(new Set(stored.map((r) => r.id)).size).toBe(BACKLOG);
			const problems: string[] = [];
			for (const { id, doc } of stored) {
				const ids = doc.events.map((e) => e.id);
				if (new Set(ids).size !== ids.length) problems.push(`${id}: an event twice`);
				if (JSON.stringify([...ids].sort()) !== JSON.stringify(expected.get(id))) {
					problems.push(`${id}: events ${ids.join(',')}`);
				}
				if (doc._conflicts?.length) problems.push(`${id}: conflicts ${doc._conflicts.join(',')}`);
				if (doc._rev !== before.get(id)?._rev) problems.push(`${id}: revision ${doc._rev}`);
			}
			expect(problems).toEqual([]);
		} catch (err) {
			if (child) console.error(`server output:\n${child.output.join('')}`);
			throw err;
		} finally {
			await db.destroy().catch(() => {});
			if (child) {
				child.proc.kill('SIGKILL');
				await child.exited;
			}
			await inProcess?.close();
			rmSync(dataDir, { recursive: true, force: true });
		}
	}, 180_000);
});

describe('F28 concurrent offline edits', () => {
	let server: TestServer;
	let users: MergeUser[];
	beforeAll(async () => {
		server = await startTestServer();
		users = await createMergeUsers(server);
	});
	afterAll(async () => {
		await server?.close();
	});

	// A fixed seed, so a failure repeats exactly; MERGE_SEED explores other orders (the bench runs ≥ 100).
	const runs = Number(process.env.MERGE_RUNS ?? 10);
	const baseSeed = Number(process.env.MERGE_SEED ?? 20_261_126);

	it(
		'F28 three devices editing one ticket offline in any order keep every event',
		async () => {
			const failures: string[] = [];
			for (let run = 0; run < runs; run++) {
				const seed = baseSeed + run;
				const result = await runOfflineMerge({ server, users, seed });
				if (result.problems.length > 0) {
					failures.push(
						`seed ${seed} (MERGE_SEED=${seed} MERGE_RUNS=1): ${result.problems.join('; ')}`
					);
					console.error(failures.at(-1));
					break; // the store now holds a broken ticket; later runs would only measure that
				}
			}
			expect(failures, `base seed ${baseSeed}`).toEqual([]);
		},
		Math.max(120_000, runs * 6_000)
	);
});
