/**
 * What a device pushes (issue #15): only what the server may not have. PouchDB's two-way sync sees every
 * document it pulled as a local change and offers it back — a `_revs_diff` per pulled batch from every device,
 * which at a few hundred devices was a large share of all the server answered. The push filter holds back a
 * document whose current revision the server itself handed over (`watch` notes what the remote's `_bulk_get`
 * returned, before the replicator writes it), unless the device wrote that document itself while it held it:
 * a pulled revision that won over an unpushed local edit must not hide that edit's leaf.
 *
 * At each start (`prepare`) the documents changed since the last push are settled with one `_revs_diff` per
 * few hundred, over every leaf: those whose leaves the server has are held back, the rest are pushed. So the
 * push checkpoint moves on over pulled documents, and an edit from before a reload is never mistaken for one.
 */

/** Ids asked about per `_revs_diff` at a start (the server takes up to 1,000). */
const SETTLE_CHUNK = 500;
/** Changes settled at a start at most (what is beyond is offered as before). */
const SETTLE_MAX = 10_000;
/** How long a start waits for the server's answer before it offers everything instead. */
const SETTLE_TIMEOUT_MS = 15_000;

interface Revisioned {
	_id: string;
	_rev?: string;
}

/** The parts of a PouchDB remote the filter uses. */
export interface FilteredRemote {
	bulkGet(opts: unknown): Promise<{ results: { docs: ({ ok?: Revisioned } | object)[] }[] }>;
	revsDiff(diff: Record<string, string[]>): Promise<Record<string, { missing?: string[] }>>;
}

/** The parts of the local PouchDB the start uses. */
export interface FilteredLocal {
	changes(opts: {
		since: string | number;
		style: 'all_docs';
		limit: number;
	}): Promise<{ results: { id: string; changes: { rev: string }[] }[]; last_seq: string | number }>;
}

export interface PushFilter {
	/** Notes every revision the remote's `_bulk_get` returns as one the server has; returns the remote. */
	watch<R extends FilteredRemote>(remote: R): R;
	/** The device writes this document: it is offered to the server from now on. */
	written(id: string): void;
	/** PouchDB's push `filter`: false only for a revision the server handed over, of a document not written here. */
	filter(doc: Revisioned): boolean;
	/**
	 * Settles what changed on the device since the push last reached `since` (its checkpoint): one `_revs_diff`
	 * per chunk over every leaf. Without an answer (offline) everything is offered, as before. Returns the
	 * local sequence up to which the server has everything, when it has all that changed.
	 */
	prepare(
		local: FilteredLocal,
		remote: FilteredRemote,
		since: string | number
	): Promise<string | number | null>;
}

export function createPushFilter(): PushFilter {
	/** Per document, revisions the server has: the one it handed over last, or every leaf settled at start. */
	const fromServer = new Map<string, Set<string>>();
	/** Documents written on this device while it held them (never held back). */
	const writtenHere = new Set<string>();

	return {
		watch(remote) {
			const bulkGet = remote.bulkGet.bind(remote);
			remote.bulkGet = async (opts) => {
				const answer = await bulkGet(opts);
				for (const { docs } of answer.results) {
					for (const d of docs) {
						const ok = (d as { ok?: Revisioned }).ok;
						if (ok?._rev) fromServer.set(ok._id, new Set([ok._rev]));
					}
				}
				return answer;
			};
			return remote;
		},
		written(id) {
			writtenHere.add(id);
		},
		filter(doc) {
			return writtenHere.has(doc._id) || !fromServer.get(doc._id)?.has(doc._rev ?? '');
		},
		async prepare(local, remote, since) {
			const { results, last_seq } = await local.changes({
				since,
				style: 'all_docs',
				limit: SETTLE_MAX
			});
			let all = results.length < SETTLE_MAX;
			for (let i = 0; i < results.length; i += SETTLE_CHUNK) {
				const chunk = results.slice(i, i + SETTLE_CHUNK);
				const asked = Object.fromEntries(chunk.map((c) => [c.id, c.changes.map((r) => r.rev)]));
				const missing = await answerWithin(remote.revsDiff(asked), SETTLE_TIMEOUT_MS);
				for (const c of chunk) {
					// The server has every leaf (so whichever wins), or the document is offered.
					const leaves = c.changes.map((r) => r.rev);
					if (missing && !missing[c.id]?.missing?.length) {
						fromServer.set(c.id, new Set(leaves));
					} else {
						writtenHere.add(c.id);
						all = false;
					}
				}
			}
			return all ? last_seq : null;
		}
	};
}

/** The promise's value, or null when it fails or takes longer than `ms`. */
function answerWithin<T>(promise: Promise<T>, ms: number): Promise<T | null> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
	return Promise.race([promise.catch(() => null), late]).finally(() => clearTimeout(timer));
}
