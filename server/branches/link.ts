/// <reference types="pouchdb-core" />
/// <reference types="pouchdb-replication" />
/**
 * A branch office's link to its center (F29, `CENTER_URL`): live PouchDB replications between this
 * server's store and the center's `/replicate/<db>` — configuration and accounts pulled, tickets both
 * ways — restarted with a capped back-off whenever they fail, and a status per replication for
 * `/api/branches`. The center decides what the branch receives and may write; the ticket resolver on each
 * side merges concurrent edits, so after an outage both converge. Only this module replicates with the
 * center.
 */
import { createRequire } from 'node:module';
import { PUSH_BATCH_SIZE } from '#shared/tickets/sync-limits';
import type { LinkState, LinkStatus, ReplicationStatus } from '#shared/wire/branches';
import type { Store } from '../store';
import { withBuffer } from '../store/replica';

const require = createRequire(import.meta.url);

export interface LinkOptions {
	store: Store;
	center: { url: string; name: string; key: string };
	log?: (msg: string) => void;
	/** First delay after a failure; doubled on every further failure up to `maxBackOffMs`. */
	minBackOffMs?: number;
	maxBackOffMs?: number;
	/** While the center is unreachable, how often a cheap request checks whether it is back. */
	probeMs?: number;
}

const MIN_BACK_OFF_MS = 1_000;
const MAX_BACK_OFF_MS = 30_000;
const PROBE_MS = 2_000;
/** A request that receives nothing for this long is dropped (a live feed sends a heartbeat every 10 s). */
const IDLE_MS = 45_000;
/** What the branch pushes: tickets and their attachments, never design documents. */
const PUSH_SELECTOR = { type: { $in: ['ticket', 'att'] } };
const STATE_ORDER: LinkState[] = ['paused', 'active', 'starting', 'offline', 'error'];

type Fetch = (url: string | Request, init?: RequestInit) => Promise<Response>;
type Doc = { _id: string; _rev?: string; _deleted?: boolean };

/**
 * A fetch whose request is aborted when no byte arrives for `idleMs`: a WAN link that dies silently
 * would otherwise leave a long-poll waiting for minutes.
 */
function idleAbortingFetch(idleMs: number, headers: Record<string, string>): Fetch {
	return async (input, init = {}) => {
		const controller = new AbortController();
		// PouchDB reuses one signal for a whole live feed: listen only while this request runs.
		const outer = init.signal;
		const onAbort = () => controller.abort(outer?.reason);
		if (outer?.aborted) onAbort();
		outer?.addEventListener('abort', onAbort, { once: true });
		let timer: ReturnType<typeof setTimeout> | undefined;
		const arm = () => {
			clearTimeout(timer);
			timer = setTimeout(() => controller.abort(new Error('the center stopped answering')), idleMs);
		};
		const done = () => {
			clearTimeout(timer);
			outer?.removeEventListener('abort', onAbort);
		};
		const merged = new Headers(init.headers);
		for (const [name, value] of Object.entries(headers)) merged.set(name, value);
		arm();
		let res: Response;
		try {
			res = await fetch(input, { ...init, headers: merged, signal: controller.signal });
		} catch (err) {
			done();
			throw err;
		}
		if (!res.body) {
			done();
			return withBuffer(res);
		}
		const reader = res.body.getReader();
		const body = new ReadableStream<Uint8Array>({
			async pull(out) {
				try {
					const chunk = await reader.read();
					if (chunk.done) {
						done();
						out.close();
					} else {
						arm();
						out.enqueue(chunk.value);
					}
				} catch (err) {
					done();
					out.error(err);
				}
			},
			cancel(reason) {
				done();
				return reader.cancel(reason);
			}
		});
		return withBuffer(
			new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers })
		);
	};
}

/** A network failure (nothing answered), as opposed to an answer the center gave. */
function isUnreachable(err: unknown): boolean {
	const status = (err as { status?: unknown } | null)?.status;
	return !(typeof status === 'number' && status >= 400);
}

function describe(err: unknown): string {
	const e = err as {
		status?: number;
		name?: string;
		message?: string;
		reason?: string;
		cause?: unknown;
	};
	const cause = (e?.cause as { code?: string; message?: string } | undefined) ?? undefined;
	const text = e?.reason ?? e?.message ?? String(err);
	const detail = cause?.code ?? cause?.message;
	return `${e?.status ? `${e.status} ` : ''}${text}${detail ? ` (${detail})` : ''}`;
}

export function startBranchLink({
	store,
	center,
	log = () => {},
	minBackOffMs = MIN_BACK_OFF_MS,
	maxBackOffMs = MAX_BACK_OFF_MS,
	probeMs = PROBE_MS
}: LinkOptions) {
	const PouchDB = require('pouchdb-node') as PouchDB.Static;
	const auth = { authorization: `Bearer ${center.name}:${center.key}` };
	const centerFetch = idleAbortingFetch(IDLE_MS, auth);
	const local = (db: ReplicationStatus['db']) => store.replica(db);
	const remote = (db: ReplicationStatus['db']) =>
		new PouchDB(`${center.url}/replicate/${db}`, {
			skip_setup: true,
			fetch: centerFetch
		} as PouchDB.Configuration.RemoteDatabaseConfiguration);

	let stopped = false;
	/** Restarts waiting for the center to come back; a probe starts them as soon as it answers. */
	const waiting = new Set<() => void>();
	let probeTimer: ReturnType<typeof setInterval> | null = null;

	function scheduleProbe() {
		if (probeTimer || stopped) return;
		probeTimer = setInterval(() => {
			if (waiting.size === 0) {
				clearInterval(probeTimer!);
				probeTimer = null;
				return;
			}
			centerFetch(`${center.url}/replicate/`, { signal: AbortSignal.timeout(probeMs) })
				.then(async (res) => {
					await res.body?.cancel();
					if (!res.ok) return;
					const due = [...waiting];
					waiting.clear();
					for (const start of due) start();
				})
				.catch(() => {});
		}, probeMs);
	}

	/** The center is authoritative for what the branch only receives: its revision beats a local edit. */
	async function centerWins(db: ReplicationStatus['db'], docs: Doc[]) {
		const database = store.db<Doc>(db);
		for (const doc of docs) {
			const current = await database.getWithConflicts(doc._id);
			if (!current) continue;
			const leaves = [current._rev, ...(current._conflicts ?? [])];
			if (leaves.length < 2 && (!doc._deleted || leaves.length === 0)) continue;
			const losers = doc._deleted ? leaves : leaves.filter((rev) => rev !== doc._rev);
			if (!doc._deleted && losers.length === leaves.length) continue;
			await database.bulkDocs(losers.map((rev) => ({ _id: doc._id, _rev: rev, _deleted: true })));
			log(`branch link: ${db} ${doc._id}: the center's revision replaces a local change`);
		}
	}

	function run(db: ReplicationStatus['db'], direction: ReplicationStatus['direction']) {
		const status: ReplicationStatus = {
			db,
			direction,
			state: 'starting',
			lastSyncAt: null,
			docsRead: 0,
			docsWritten: 0,
			docsDenied: 0,
			lastError: null,
			retryAt: null
		};
		const [source, target] =
			direction === 'pull' ? [remote(db), local(db)] : [local(db), remote(db)];
		let current: PouchDB.Replication.Replication<object> | null = null;
		let isFailing = false;
		/** Fatal refusals (401/403) in a row: PouchDB gives up on those; the link starts again later. */
		let refusals = 0;
		let restartTimer: ReturnType<typeof setTimeout> | null = null;

		/** PouchDB's own retry (which also ends the failed run's changes feed) with a capped back-off. */
		const backOff = (delayMs: number) => {
			const next = delayMs === 0 ? minBackOffMs : Math.min(maxBackOffMs, delayMs * 2);
			status.retryAt = new Date(Date.now() + next).toISOString();
			return next;
		};

		function failed(err: unknown) {
			const unreachable = isUnreachable(err);
			status.state = unreachable ? 'offline' : 'error';
			status.lastError = describe(err);
			if (!isFailing) log(`branch link: ${direction} ${db}: ${status.lastError}`);
			isFailing = true;
			if (unreachable) {
				waiting.add(restart);
				scheduleProbe();
			}
		}

		function start() {
			if (stopped) return;
			waiting.delete(restart);
			if (restartTimer) clearTimeout(restartTimer);
			restartTimer = null;
			// Counts of one run start at zero; the status keeps the totals across runs.
			let read = 0;
			let written = 0;
			const rep = PouchDB.replicate(source, target, {
				live: true,
				retry: true,
				back_off_function: backOff,
				...(direction === 'push' ? { selector: PUSH_SELECTOR, batch_size: PUSH_BATCH_SIZE } : {})
			});
			current = rep;
			const ours = (f: (...args: never[]) => void) =>
				((...args: never[]) => {
					if (current === rep && !stopped) f(...args);
				}) as (...args: unknown[]) => void;
			// Every failed request, also while PouchDB is already backing off (not in its typings).
			(rep as unknown as NodeJS.EventEmitter).on(
				'requestError',
				ours((err: unknown) => failed(err))
			);
			// The replication is also a promise; its outcome arrives through these events instead.
			void rep
				.on(
					'active',
					ours(() => {
						status.state = 'active';
						status.retryAt = null;
						waiting.delete(restart);
					})
				)
				.on(
					'paused',
					ours((err: unknown) => {
						if (err) return; // reported through requestError
						status.state = 'paused';
						status.lastSyncAt = new Date().toISOString();
						status.lastError = null;
						status.retryAt = null;
						isFailing = false;
						refusals = 0;
						waiting.delete(restart);
					})
				)
				.on(
					'change',
					ours((info: PouchDB.Replication.ReplicationResult<object>) => {
						status.docsRead += info.docs_read - read;
						status.docsWritten += info.docs_written - written;
						read = info.docs_read;
						written = info.docs_written;
						status.lastSyncAt = new Date().toISOString();
						if (direction === 'pull' && db !== 'tickets') {
							centerWins(db, info.docs as Doc[]).catch((err: unknown) =>
								log(`branch link: ${db}: resolving a conflict failed: ${describe(err)}`)
							);
						}
					})
				)
				.on(
					'denied',
					ours((err: unknown) => {
						status.docsDenied += 1;
						// Which document, so that a refusal can be followed up (PouchDB never sends it again).
						const id = (err as { id?: unknown } | null)?.id;
						status.lastError = `refused${typeof id === 'string' ? ` ${id}` : ''}: ${describe(err)}`;
						log(`branch link: ${direction} ${db}: ${status.lastError}`);
					})
				)
				.on(
					'error',
					ours((err: unknown) => {
						// Refused outright (wrong key, branch removed at the center): PouchDB stopped for good.
						current = null;
						failed(err);
						const delay = Math.min(maxBackOffMs, minBackOffMs * 2 ** refusals);
						refusals += 1;
						status.retryAt = new Date(Date.now() + delay).toISOString();
						restartTimer = setTimeout(start, delay);
					})
				)
				.on(
					'complete',
					ours(() => {
						current = null;
						failed(new Error('the replication ended'));
						restartTimer = setTimeout(start, maxBackOffMs);
					})
				);
		}

		/** The center answers again: start now instead of when the back-off ends. */
		function restart() {
			const old = current;
			current = null;
			old?.cancel();
			start();
		}

		start();
		return {
			status,
			stop() {
				if (restartTimer) clearTimeout(restartTimer);
				waiting.delete(restart);
				const rep = current;
				current = null;
				rep?.cancel();
			}
		};
	}

	const replications = [
		run('config', 'pull'),
		run('users', 'pull'),
		run('tickets', 'pull'),
		run('tickets', 'push')
	];

	return {
		status(): LinkStatus {
			const list = replications.map((r) => ({ ...r.status }));
			const state = list.reduce<LinkState>(
				(worst, r) => (STATE_ORDER.indexOf(r.state) > STATE_ORDER.indexOf(worst) ? r.state : worst),
				'paused'
			);
			return { center: center.url, name: center.name, state, replications: list };
		},
		async stop(): Promise<void> {
			stopped = true;
			if (probeTimer) clearInterval(probeTimer);
			for (const r of replications) r.stop();
			// Let cancelled long-polls unwind before the store closes under them.
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
	};
}
export type BranchLink = ReturnType<typeof startBranchLink>;
