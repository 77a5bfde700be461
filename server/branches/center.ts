/**
 * The center's view of its branch offices (F29, `BRANCHES`): who may call `/replicate` (bearer
 * `<name>:<key>`, compared in constant time), each branch's scopes (its departments and their crews), when
 * each was last seen (kept across restarts), and how many tickets it holds. Only `/replicate` and
 * `/api/branches` use it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { BranchConfig } from '../config';
import type { Store } from '../store';

const CREW_CACHE_MS = 2_000;
/** How often the last-seen times are written down: a replicating branch calls many times a minute. */
const SEEN_SAVE_MS = 10_000;
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

export interface BranchSummary {
	name: string;
	departmentIds: string[];
	/** When the branch last called `/replicate`; null if never. */
	lastSeenAt: string | null;
	/** Ticket documents visible to the branch's scopes, i.e. those it holds once caught up. */
	tickets: number;
}

const digest = (s: string) => new Uint8Array(createHash('sha256').update(s).digest());

export function createBranchRegistry({
	store,
	branches
}: {
	store: Store;
	branches: readonly BranchConfig[];
}) {
	const seen = new Map<string, string>();
	const keys = new Map(branches.map((b) => [b.name, digest(b.key)]));
	const unknownKey = digest(`unknown:${Math.random()}`);
	let crews: { list: { _id: string; departmentId: string }[]; until: number } | null = null;

	// Last-seen times live in a `_local` document of the audit database (server-only, never replicated).
	const seenPath = `/${store.dbName('audit')}/_local/branches-seen`;
	let loaded: Promise<void> | null = null;
	let savedAt = 0;
	let saving = false;

	function loadSeen(): Promise<void> {
		loaded ??= store
			.fetch(seenPath, { headers: JSON_HEADERS })
			.then((r) => (r.ok ? (r.json() as Promise<{ seen?: Record<string, string> }>) : null))
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
			const current = await store.fetch(seenPath, { headers: JSON_HEADERS });
			const rev = current.ok ? ((await current.json()) as { _rev: string })._rev : null;
			await store.fetch(seenPath, {
				method: 'PUT',
				headers: JSON_HEADERS,
				body: JSON.stringify({ seen: Object.fromEntries(seen), ...(rev ? { _rev: rev } : {}) })
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
		const query = new URLSearchParams({
			startkey: JSON.stringify('crew:'),
			endkey: JSON.stringify('crew:\ufff0'),
			include_docs: 'true'
		});
		const res = await store.fetch(`/${store.dbName('config')}/_all_docs?${query}`, {
			headers: JSON_HEADERS
		});
		if (!res.ok) throw new Error(`listing crews failed: ${res.status}`);
		const body = (await res.json()) as {
			rows: { doc?: { _id: string; type?: string; departmentId?: string } | null }[];
		};
		const list = body.rows.flatMap((r) =>
			r.doc?.type === 'crew' && typeof r.doc.departmentId === 'string'
				? [{ _id: r.doc._id, departmentId: r.doc.departmentId }]
				: []
		);
		crews = { list, until: Date.now() + CREW_CACHE_MS };
		return list;
	}

	async function scopesOf(branch: BranchConfig): Promise<string[]> {
		const crewIds = (await allCrews())
			.filter((c) => branch.departmentIds.includes(c.departmentId))
			.map((c) => c._id);
		return [...branch.departmentIds, ...crewIds];
	}

	return {
		isCenter: branches.length > 0,

		/** The branch an `Authorization: Bearer <name>:<key>` header names, if its key is right. */
		authenticate(header: string | undefined): BranchConfig | null {
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
			return Promise.all(
				branches.map(async (branch) => {
					const res = await store.fetch(
						`/${store.dbName('tickets')}/_design/app/_view/tickets_by_scope`,
						{
							method: 'POST',
							headers: JSON_HEADERS,
							body: JSON.stringify({ keys: await scopesOf(branch) })
						}
					);
					const body = res.ok ? ((await res.json()) as { rows: { id: string }[] }) : { rows: [] };
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
