/**
 * A simulated browser for the capacity benchmark (issue #15): the HTTP requests a browser's PouchDB 9 live
 * sync of `tickets` makes against `/sync/tickets` (`src/lib/replication/tickets-db.ts`: pull batches of 500,
 * push batches of 11), from a few KB of state — what it holds is a map of id → revision — so hundreds fit
 * in one process. `test/integration/raw-device.test.ts` holds it to a real PouchDB device.
 *
 * The requests, as pouchdb-replication and pouchdb-checkpointer make them:
 * - at start, the remote's id twice (`GET /sync/`, once per direction), the push checkpoint, and for a
 *   device that synced before the pull checkpoint;
 * - pull: `GET /sync/tickets` (info); `_changes?style=all_docs&since&limit=500` until an empty answer,
 *   then its checkpoint and long-polls (`feed=longpoll&heartbeat=10000`); per batch of changes, the
 *   revisions it lacks by `_bulk_get?revs=true&latest=true`, the info again, and the pull checkpoint;
 * - checkpoints: on the device (`TICKET_REPLICATION`, today), or also on the server as before #15 (a GET of
 *   `_local/<id>`, then a PUT when it moved);
 * - push: `_revs_diff` of up to 11 local changes (the first two of a burst alone), `_bulk_docs`
 *   (`new_edits: false`, `_revisions`) of those the server lacks, and the push checkpoint;
 * - mode `filtered` (today's browsers, `src/lib/replication/push-filter.ts`): only its own writes are pushed,
 *   and the info after each batch is answered from memory (`quiet-remote.ts`);
 *   mode `pouchdb` (the browsers before): every pulled document is a local change too, answered with push
 *   rounds that find nothing to send (`_revs_diff` and a checkpoint per 11 documents).
 * Each device may also hold the signed-in user's `/events` stream.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { TicketDoc } from '../../../src/lib/shared/tickets/ticket';
import type { HttpClient } from './http';
import type { Checkpoints, Mode } from './settings';

const PULL_BATCH = 500;
const PUSH_BATCH = 11;
/** Batches pulled and waiting to be processed at most (pouchdb-replication's `batches_limit`). */
const BATCHES_LIMIT = 10;

/** What one request was, in words shared with the conformance test's log of a real PouchDB. */
export type RequestKind =
	| 'root'
	| 'info'
	| 'changes'
	| 'longpoll'
	| 'bulk_get'
	| 'revs_diff'
	| 'bulk_docs'
	| 'local_get'
	| 'local_put'
	| 'events';

export interface DeviceHooks {
	/** A request answered (not the long-polls' and the event stream's waiting), in ms. */
	latency?(kind: RequestKind, ms: number): void;
	/** The first revision of a document this device got from the server, when it got it (epoch ms). */
	arrived?(id: string, at: number): void;
	/** A request that failed (it is retried). */
	failed?(kind: RequestKind, message: string): void;
	/** Every request as it is sent (the conformance test's log). */
	sent?(method: string, kind: RequestKind): void;
}

export interface DeviceOptions {
	name: string;
	cookie: string;
	client: HttpClient;
	mode: Mode;
	checkpoints: Checkpoints;
	/**
	 * `now`: a device that synced before — it starts with its checkpoints at the server's current
	 * sequence and holds the working set already; `0`: a fresh device, which pulls the whole working set.
	 */
	start: 'now' | 0;
	events: boolean;
	hooks?: DeviceHooks;
}

type Seq = string | number;
interface ChangesAnswer {
	results: { id: string; seq: Seq; changes: { rev: string }[]; deleted?: boolean }[];
	last_seq: Seq;
}
interface LocalChange {
	id: string;
	rev: string;
	seq: number;
	/** Our own write, with its revision history, until the server has it. */
	doc?: Record<string, unknown>;
}

const generation = (rev: string) => Number.parseInt(rev, 10) || 0;

/** A checkpoint id in the form pouchdb-generate-replication-id gives (md5, base64, url-safe). */
const checkpointId = (seed: string) =>
	createHash('md5').update(seed).digest('base64').replace(/\//g, '.').replace(/\+/g, '_');

export class RawDevice {
	/** What the device holds: each document's winning revision. */
	readonly revs = new Map<string, string>();
	/** Resolves when the first catch-up is done and the device waits on a long-poll. */
	readonly live: Promise<number>;
	private markLive!: (at: number) => void;
	private readonly abort = new AbortController();
	private readonly pullId: string;
	private readonly pushId: string;
	private readonly session = randomUUID();
	private stopped = false;
	private localSeq = 0;
	private readonly pushQueue: LocalChange[] = [];
	private wakePush: () => void = () => {};
	private batches = 0;
	private batchDone: () => void = () => {};
	private processing: Promise<void> = Promise.resolve();
	private pulled = 0;

	constructor(private readonly o: DeviceOptions) {
		this.live = new Promise((resolve) => (this.markLive = resolve));
		this.pullId = `_local/${encodeURIComponent(checkpointId(`${o.name}:pull`))}`;
		this.pushId = `_local/${encodeURIComponent(checkpointId(`${o.name}:push`))}`;
	}

	get name() {
		return this.o.name;
	}

	/** Documents pulled so far. */
	get pulledDocs() {
		return this.pulled;
	}

	start(): void {
		void this.run();
		if (this.o.events) void this.events();
	}

	stop(): void {
		this.stopped = true;
		this.abort.abort();
		this.wakePush();
		this.batchDone();
	}

	/** A ticket recorded on this device (a new document): kept locally, then pushed. */
	write(doc: TicketDoc): string {
		const hash = randomBytes(16).toString('hex');
		const rev = `1-${hash}`;
		this.revs.set(doc._id, rev);
		this.localSeq += 1;
		this.pushQueue.push({
			id: doc._id,
			rev,
			seq: this.localSeq,
			doc: { ...doc, _rev: rev, _revisions: { start: 1, ids: [hash] } }
		});
		this.wakePush();
		return rev;
	}

	private async run() {
		// Each replication asks the remote's id (pouchdb-generate-replication-id).
		await Promise.all([
			this.request('GET', '/sync/', 'root'),
			this.request('GET', '/sync/', 'root')
		]);
		await Promise.all([this.pull(), this.push()]);
	}

	/** One request, retried after failures (1 s, doubling to 10 s) as the live replication's back-off. */
	private async request<T>(
		method: string,
		path: string,
		kind: RequestKind,
		{ body, ok = [200, 201], timeoutMs }: { body?: unknown; ok?: number[]; timeoutMs?: number } = {}
	): Promise<{ status: number; body: T }> {
		let backOff = 1000;
		for (;;) {
			if (this.stopped) throw new Stopped();
			this.o.hooks?.sent?.(method, kind);
			const t0 = performance.now();
			try {
				const res = await this.o.client.send(method, path, {
					cookie: this.o.cookie,
					body,
					signal: this.abort.signal,
					...(timeoutMs ? { timeoutMs } : {})
				});
				if (ok.includes(res.status)) {
					if (kind !== 'longpoll') this.o.hooks?.latency?.(kind, performance.now() - t0);
					return { status: res.status, body: (res.text ? JSON.parse(res.text) : null) as T };
				}
				if (res.status === 401) {
					this.o.hooks?.failed?.(kind, '401: the session ended');
					this.stop();
					throw new Stopped();
				}
				this.o.hooks?.failed?.(kind, `${res.status} ${res.text.slice(0, 200)}`);
			} catch (err) {
				if (err instanceof Stopped || this.stopped) throw new Stopped();
				this.o.hooks?.failed?.(kind, (err as Error).message);
			}
			await new Promise((r) => setTimeout(r, backOff));
			backOff = Math.min(10_000, backOff * 2);
		}
	}

	/**
	 * pouchdb-checkpointer's `updateCheckpoint` on the remote: read, then write when it moved; nothing
	 * when the device keeps its checkpoints itself.
	 */
	private async checkpoint(id: string, seq: Seq) {
		if (this.o.checkpoints === 'device') return;
		for (;;) {
			const got = await this.request<Record<string, unknown>>(
				'GET',
				`/sync/tickets/${id}`,
				'local_get',
				{ ok: [200, 404] }
			);
			const doc =
				got.status === 200
					? got.body
					: { _id: decodeURIComponent(id), history: [], replicator: 'pouchdb', version: 1 };
			if (doc.last_seq === seq) return;
			const history = ((doc.history ?? []) as { session_id: string }[]).filter(
				(h) => h.session_id !== this.session
			);
			const next = {
				...doc,
				history: [{ last_seq: seq, session_id: this.session }, ...history].slice(0, 5),
				replicator: 'pouchdb',
				version: 1,
				session_id: this.session,
				last_seq: seq
			};
			const put = await this.request('PUT', `/sync/tickets/${id}`, 'local_put', {
				body: next,
				ok: [200, 201, 409]
			});
			if (put.status !== 409) return;
		}
	}

	private async pull() {
		try {
			if (this.o.start === 'now' && this.o.checkpoints === 'server') {
				await this.request('GET', `/sync/tickets/${this.pullId}`, 'local_get', { ok: [200, 404] });
			}
			const info = await this.request<{ update_seq: Seq }>('GET', '/sync/tickets/', 'info');
			let since: Seq = this.o.start === 'now' ? info.body.update_seq : 0;
			let live = false;
			while (!this.stopped) {
				const query = live
					? `style=all_docs&feed=longpoll&heartbeat=10000&since=${encodeURIComponent(String(since))}&limit=${PULL_BATCH}`
					: `style=all_docs&since=${encodeURIComponent(String(since))}&limit=${PULL_BATCH}`;
				const res = await this.request<ChangesAnswer>(
					'GET',
					`/sync/tickets/_changes?${query}`,
					live ? 'longpoll' : 'changes',
					{ timeoutMs: 120_000 }
				);
				const { results, last_seq } = res.body;
				if (results.length === 0) {
					if (!live) {
						// Caught up: the checkpoint moves to where the feed is, unless a batch is still at work.
						if (this.batches === 0) await this.checkpoint(this.pullId, last_seq);
						live = true;
						await this.processing;
						this.markLive(Date.now());
					}
					since = last_seq;
					continue;
				}
				since = results.at(-1)!.seq;
				this.enqueue(results, since);
				while (this.batches >= BATCHES_LIMIT && !this.stopped) {
					await new Promise<void>((r) => (this.batchDone = r));
				}
			}
		} catch (err) {
			if (!(err instanceof Stopped)) throw err;
		}
	}

	/** Batches are processed one after another while the next changes are read (as PouchDB does). */
	private enqueue(changes: ChangesAnswer['results'], seq: Seq) {
		this.batches += 1;
		this.processing = this.processing
			.then(() => this.batch(changes, seq))
			.catch((err: unknown) => {
				if (!(err instanceof Stopped)) throw err;
			})
			.finally(() => {
				this.batches -= 1;
				this.batchDone();
			});
	}

	private async batch(changes: ChangesAnswer['results'], seq: Seq) {
		const missing: { id: string; rev: string }[] = [];
		for (const c of changes) {
			const held = this.revs.get(c.id);
			for (const { rev } of c.changes) {
				if (rev !== held && (!held || generation(rev) >= generation(held))) {
					missing.push({ id: c.id, rev });
				}
			}
		}
		if (missing.length > 0) {
			const got = await this.request<{
				results: { id: string; docs: { ok?: { _id: string; _rev: string } }[] }[];
			}>('POST', '/sync/tickets/_bulk_get?revs=true&latest=true', 'bulk_get', {
				body: { docs: missing }
			});
			const at = Date.now();
			for (const result of got.body.results) {
				for (const d of result.docs) {
					if (!d.ok) continue;
					const held = this.revs.get(d.ok._id);
					if (held && generation(held) > generation(d.ok._rev)) continue;
					this.revs.set(d.ok._id, d.ok._rev);
					this.pulled += 1;
					if (!held) this.o.hooks?.arrived?.(d.ok._id, at);
					this.localSeq += 1;
					// Written into the local database: today's browser sees it as a change to push.
					if (this.o.mode === 'pouchdb') {
						this.pushQueue.push({ id: d.ok._id, rev: d.ok._rev, seq: this.localSeq });
					}
				}
			}
			this.wakePush();
		}
		// The replicator asks the info for its progress without waiting for it, beside the checkpoint;
		// today's browser answers it from memory (src/lib/replication/quiet-remote.ts).
		await Promise.all([
			this.o.mode === 'pouchdb' ? this.request('GET', '/sync/tickets/', 'info') : null,
			this.checkpoint(this.pullId, seq)
		]);
	}

	private async push() {
		try {
			if (this.o.checkpoints === 'server') {
				await this.request('GET', `/sync/tickets/${this.pushId}`, 'local_get', {
					ok: [200, 404]
				});
				// Nothing local to push at first: the checkpoint says so.
				await this.checkpoint(this.pushId, this.localSeq);
			}
			let rounds = 0;
			while (!this.stopped) {
				if (this.pushQueue.length === 0) {
					rounds = 0;
					await new Promise<void>((r) => (this.wakePush = r));
					continue;
				}
				// As PouchDB's live push: the first two changes of a burst go alone (each starts a batch at
				// once), the rest collect into batches of 11 while those are sent.
				const round = this.pushQueue.splice(0, rounds < 2 ? 1 : PUSH_BATCH);
				rounds += 1;
				const asked: Record<string, string[]> = {};
				for (const c of round) (asked[c.id] ??= []).push(c.rev);
				const diff = await this.request<Record<string, { missing?: string[] }>>(
					'POST',
					'/sync/tickets/_revs_diff',
					'revs_diff',
					{ body: asked }
				);
				const send = round.filter((c) => c.doc && diff.body[c.id]?.missing?.includes(c.rev));
				if (send.length > 0) {
					const res = await this.request<{ id: string; error?: string; reason?: string }[]>(
						'POST',
						'/sync/tickets/_bulk_docs',
						'bulk_docs',
						{ body: { docs: send.map((c) => c.doc), new_edits: false } }
					);
					for (const r of res.body) {
						if (r.error) {
							this.o.hooks?.failed?.('bulk_docs', `${r.id}: ${r.error} ${r.reason ?? ''}`);
						}
					}
				}
				for (const c of round) delete c.doc;
				await this.checkpoint(this.pushId, round.at(-1)!.seq);
			}
		} catch (err) {
			if (!(err instanceof Stopped)) throw err;
		}
	}

	/** The signed-in user's event stream, held open; reopened after a second when it ends. */
	private async events() {
		while (!this.stopped) {
			this.o.hooks?.sent?.('GET', 'events');
			try {
				const status = await this.o.client.stream(
					'/events',
					this.o.cookie,
					() => {},
					this.abort.signal
				);
				if (status === 401) {
					this.o.hooks?.failed?.('events', '401: the session ended');
					return;
				}
			} catch (err) {
				if (this.stopped) return;
				this.o.hooks?.failed?.('events', (err as Error).message);
			}
			if (!this.stopped) await new Promise((r) => setTimeout(r, 1000));
		}
	}
}

class Stopped extends Error {}
