/**
 * The configuration in memory: every document of `cc_config` (a few hundred — departments, roles, crews,
 * flows, catalogues), loaded at start and kept current by following the database's changes, so what `/sync`
 * asks on every request — a user's crews, part of their scopes — costs the store nothing (issue #15: 1,359
 * `crews_by_member` view queries in two minutes at 50 devices). The ids events may name (`knownIds` in
 * config-admin.ts) stay checked against the store's update sequence on every write: a write naming a
 * department that just arrived from the center must not wait for this feed. Writes through
 * `config-admin.ts` are applied at once as well (`apply`), so an administrator's change is seen by the very
 * next request; a branch office's replicated configuration arrives through the feed.
 */
import type { ConfigDoc, CrewDoc } from '#shared/docs/config';
import { followChanges } from '../store/follow';
import type { Store } from '../store';

export type ConfigIndex = ReturnType<typeof startConfigIndex>;

export function startConfigIndex(store: Store, log: (msg: string) => void = () => {}) {
	const db = store.db<ConfigDoc>('config');
	const docs = new Map<string, ConfigDoc>();
	/** Derived views, dropped whenever a document changes and built again on the next read. */
	let derived: { crewsByMember: Map<string, string[]> } | null = null;
	let since = '0';
	const listeners = new Set<(id: string) => void>();

	function apply(doc: ConfigDoc | { _id: string; _deleted: true }) {
		if ('_deleted' in doc && doc._deleted) docs.delete(doc._id);
		else if (!doc._id.startsWith('_design/')) docs.set(doc._id, doc as ConfigDoc);
		derived = null;
		for (const listener of listeners) listener(doc._id);
	}

	let stopped = false;
	const loaded = (async () => {
		// A store that does not answer at first (starting, restarting) is asked again, never given up on:
		// everything that needs the configuration waits for this rather than failing.
		for (let attempt = 0; ; attempt++) {
			try {
				// The sequence first: a change between it and the listing is applied again by the feed
				// (idempotent).
				since = String(await db.updateSeq());
				const rows = await db.allDocs({ include_docs: true });
				for (const row of rows.rows) if (row.doc) apply(row.doc);
				return;
			} catch (err) {
				if (stopped) throw err;
				log(`config index: loading failed (${(err as Error).message}); trying again`);
				await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
			}
		}
	})();
	const follower = loaded.then(() =>
		followChanges<ConfigDoc>(store, 'config', {
			name: 'config index',
			since: () => Promise.resolve(since),
			includeDocs: true,
			batchSize: 500,
			log,
			onBatch(changes) {
				for (const change of changes) {
					if (change.deleted) apply({ _id: change.id, _deleted: true });
					else if (change.doc) apply(change.doc);
				}
				return Promise.resolve();
			}
		})
	);

	// Only stopping ends the loading early; nobody waits on the feed's own start but stop().
	follower.catch(() => {});

	function views() {
		if (derived) return derived;
		const crewsByMember = new Map<string, string[]>();
		for (const doc of docs.values()) {
			if (doc.type !== 'crew') continue;
			for (const member of (doc as CrewDoc).memberIds ?? []) {
				crewsByMember.set(member, [...(crewsByMember.get(member) ?? []), doc._id]);
			}
		}
		return (derived = { crewsByMember });
	}

	return {
		/** Resolves once the configuration is in memory. */
		ready: loaded,
		/** The crews the user is a member of (part of their scopes). */
		async crewsOf(userId: string): Promise<string[]> {
			await loaded;
			return views().crewsByMember.get(userId) ?? [];
		},
		/** The documents of one type now (empty until `ready`). */
		ofType<T extends ConfigDoc>(type: T['type']): T[] {
			return [...docs.values()].filter((d): d is T => d.type === type);
		},
		/** Calls `listener` with the id of every document that changed from now on; returns the way to stop. */
		onChange(listener: (id: string) => void): () => void {
			listeners.add(listener);
			return () => listeners.delete(listener);
		},
		/** A document just written through `config-admin.ts` (the feed brings it again, harmlessly). */
		apply,
		async stop() {
			stopped = true;
			await (await follower.catch(() => null))?.stop();
		}
	};
}
