/**
 * The center's view of its branch offices (F29, `BRANCHES`): who may call `/replicate` (bearer
 * `<name>:<key>`, compared in constant time), each branch's scopes (its departments and their crews), when
 * each was last seen (kept across restarts), and how many tickets it holds. Only `/replicate` and
 * `/api/branches` use it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { BranchSummary } from '#shared/wire/branches';
import type { BranchSettings } from '../settings';
import { StoreError, type Store } from '../store';

const CREW_CACHE_MS = 2_000;
/** How often the last-seen times are written down: a replicating branch calls many times a minute. */
const SEEN_SAVE_MS = 10_000;
const SEEN_ID = 'branches-seen';

const digest = (s: string) => new Uint8Array(createHash('sha256').update(s).digest());

export function createBranchRegistry({
	store,
	branches
}: {
	store: Store;
	branches: readonly BranchSettings[];
}) {
	const seen = new Map<string, string>();
	const keys = new Map(branches.map((b) => [b.name, digest(b.key)]));
	const unknownKey = digest(`unknown:${Math.random()}`);
	let crews: { list: { _id: string; departmentId: string }[]; until: number } | null = null;

	// Last-seen times live in a `_local` document of the audit database (server-only, never replicated).
	const audit = store.db('audit');
	let loaded: Promise<void> | null = null;
	let savedAt = 0;
	let saving = false;

	function loadSeen(): Promise<void> {
		loaded ??= audit.local
			.get<{ seen?: Record<string, string> }>(SEEN_ID)
			.then((doc) => {
				for (const [name, at] of Object.entries(doc?.seen ?? {})) {
					if (!seen.has(name) || seen.get(name)! < at) seen.set(name, at);
				}
			})
			.catch(() => {});
		return loaded;
	}

	async function saveSeen(): Promise<void> {
		if (saving || Date.now() - savedAt < SEEN_SAVE_MS) return;
		saving = true;
		savedAt = Date.now();
		try {
			await loadSeen();
			const current = await audit.local.get(SEEN_ID);
			await audit.local.put(SEEN_ID, {
				seen: Object.fromEntries(seen),
				...(current ? { _rev: current._rev } : {})
			});
		} catch {
			savedAt = 0; // the store is away: try again with the next call
		} finally {
			saving = false;
		}
	}

	/** Every crew and its department, cached briefly: a replicator asks many times a minute. */
	async function allCrews() {
		if (crews && crews.until > Date.now()) return crews.list;
		const body = await store
			.db<{ type?: string; departmentId?: string }>('config')
			.allDocs({ startkey: 'crew:', endkey: 'crew:\ufff0', include_docs: true });
		const list = body.rows.flatMap((r) =>
			r.doc?.type === 'crew' && typeof r.doc.departmentId === 'string'
				? [{ _id: r.doc._id, departmentId: r.doc.departmentId }]
				: []
		);
		crews = { list, until: Date.now() + CREW_CACHE_MS };
		return list;
	}

	async function scopesOf(branch: BranchSettings): Promise<string[]> {
		const crewIds = (await allCrews())
			.filter((c) => branch.departmentIds.includes(c.departmentId))
			.map((c) => c._id);
		return [...branch.departmentIds, ...crewIds];
	}

	return {
		isCenter: branches.length > 0,

		/** The branch an `Authorization: Bearer <name>:<key>` header names, if its key is right. */
		authenticate(header: string | undefined): BranchSettings | null {
			const match = /^Bearer ([^:\s]+):(\S+)$/.exec(header ?? '');
			if (!match) return null;
			const expected = keys.get(match[1]!);
			// Compare digests (same length) even for unknown names, so timing says nothing about names.
			const ok = timingSafeEqual(digest(match[2]!), expected ?? unknownKey);
			return ok && expected ? branches.find((b) => b.name === match[1])! : null;
		},

		scopesOf,

		markSeen(name: string): void {
			seen.set(name, new Date().toISOString());
			void saveSeen();
		},

		async summaries(): Promise<BranchSummary[]> {
			await loadSeen();
			const tickets = store.db('tickets');
			return Promise.all(
				branches.map(async (branch) => {
					const keys = await scopesOf(branch);
					const body = await tickets.view('tickets_by_scope', { keys }).catch((err: unknown) => {
						if (err instanceof StoreError) return { rows: [] };
						throw err;
					});
					return {
						name: branch.name,
						departmentIds: [...branch.departmentIds],
						lastSeenAt: seen.get(branch.name) ?? null,
						tickets: new Set(body.rows.map((r) => r.id)).size
					};
				})
			);
		}
	};
}
export type BranchRegistry = ReturnType<typeof createBranchRegistry>;
