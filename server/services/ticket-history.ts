/**
 * F17 the earlier tickets of a caller number or a subscriber, from a SQLite file the server keeps beside the
 * store (`DATA_DIR/ticket-history.sqlite`), fed by the tickets' changes feed (see `derived-index.ts`).
 * Before it, every look-up — each screen pop, each entry form — was a view query, and the store brought the
 * view up to date with every ticket written since the last query before it answered (queries wait in the
 * view's queue behind the update): at 300 agents its p95 was 414 ms against 170 ms for a subscriber search
 * (issue #15). Each ticket is kept once as its history entry; its caller number and subscribers point to it.
 */
import type { TicketDoc } from '#shared/tickets/ticket';
import { historyEntry, type HistoryTicket } from '#shared/wire/tickets';
import type { Change } from '../store/follow';
import type { Store } from '../store';
import { followIntoIndex, openIndexFile } from './derived-index';

/** Bump when the schema or the history entry (`historyEntry`) changes: the index is then rebuilt. */
const SCHEMA_VERSION = '1';
const SCHEMA = `
create table if not exists entries (id text primary key, created text not null, entry text not null);
create table if not exists lookups (key text not null, created text not null, id text not null);
create index if not exists lookups_key on lookups (key, created);
create index if not exists lookups_id on lookups (id);
`;

/** What a ticket is found by: its caller number (normalised, 3 digits or more) and its subscribers. */
const phoneKey = (phone: string) => `p:${phone}`;
const customerKey = (id: string) => `c:${id}`;
function keysOf(t: TicketDoc): string[] {
	// Read as any stored document may be (the store holds what devices wrote; a bad one must not stop the feed).
	const { callerKey, customerIds } = t as { callerKey?: unknown; customerIds?: unknown };
	return [
		...(typeof callerKey === 'string' && callerKey.length >= 3 ? [phoneKey(callerKey)] : []),
		...(Array.isArray(customerIds) ? customerIds : [])
			.filter((c): c is string => typeof c === 'string')
			.map(customerKey)
	];
}

export function openTicketHistory(file: string) {
	const indexFile = openIndexFile(file, {
		schemaVersion: SCHEMA_VERSION,
		schema: SCHEMA,
		tables: ['entries', 'lookups'],
		cacheMiB: 32
	});
	const { db } = indexFile;
	const q = {
		forget: db.prepare(`delete from lookups where id = ?`),
		remove: db.prepare(`delete from entries where id = ?`),
		put: db.prepare(`insert or replace into entries (id, created, entry) values (?, ?, ?)`),
		point: db.prepare(`insert into lookups (key, created, id) values (?, ?, ?)`),
		find: db.prepare(
			`select e.entry from lookups l join entries e on e.id = l.id
			 where l.key = ? order by l.created desc limit ?`
		),
		count: db.prepare(`select count(*) as n from entries`)
	};

	const apply = db.transaction((changes: Change<TicketDoc>[], lastSeq: string) => {
		for (const { id, deleted, doc } of changes) {
			if (id.startsWith('_design/')) continue;
			q.forget.run(id);
			if (deleted || !doc || doc.type !== 'ticket') {
				q.remove.run(id);
				continue;
			}
			const created = typeof doc.createdAt === 'string' ? doc.createdAt : '';
			q.put.run(id, created, JSON.stringify(historyEntry(doc)));
			for (const key of new Set(keysOf(doc))) q.point.run(key, created, id);
		}
		indexFile.setSeq(lastSeq);
	});

	return {
		apply,
		seq: indexFile.seq,
		database: indexFile.database,
		setDatabase: indexFile.setDatabase,
		reset: db.transaction(() => {
			db.exec(`delete from entries; delete from lookups;`);
			indexFile.setSeq('0');
		}),
		count: () => (q.count.get() as { n: number }).n,
		/**
		 * The tickets of a caller number (normalised) and of subscribers, each at most once, newest first; at
		 * most `limit` per number or subscriber.
		 */
		find({
			phone,
			customerIds,
			limit
		}: {
			phone: string;
			customerIds: string[];
			limit: number;
		}): HistoryTicket[] {
			const keys = [
				...(phone.length >= 3 ? [phoneKey(phone)] : []),
				...customerIds.map(customerKey)
			];
			const byId = new Map<string, HistoryTicket>();
			for (const key of keys) {
				for (const { entry } of q.find.all(key, limit) as { entry: string }[]) {
					const t = JSON.parse(entry) as HistoryTicket;
					byId.set(t._id, t);
				}
			}
			return [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
		},
		close: indexFile.close
	};
}
export type TicketHistoryIndex = ReturnType<typeof openTicketHistory>;

/** How long a look-up waits for this server's own writes to be in the index before it answers anyway. */
const OWN_WRITES_WAIT_MS = 1_000;

/**
 * Follows the tickets' feed into the index. `find` answers from it once it holds the tickets this server
 * wrote before the question (at most a second later: the feed then is that far behind), or `null` while the
 * index is still being built (a new server reads every ticket once) — the caller asks the store's views then.
 */
export function startTicketHistory(
	store: Store,
	index: TicketHistoryIndex,
	log: (msg: string) => void = () => {}
) {
	const follower = followIntoIndex(store, 'tickets', index, {
		name: 'ticket history',
		batchSize: 2_000,
		log
	});
	let built = false;
	let stopped = false;
	/** Waits for the index to hold what the store holds once (tried again while the store is away). */
	const watch = (): void => {
		follower.caughtUp().then(
			() => {
				// A server stopped meanwhile has closed the index.
				if (stopped) return;
				built = true;
				log(`ticket history: ${index.count()} tickets indexed`);
			},
			() => {
				if (!stopped) setTimeout(watch, 2_000).unref();
			}
		);
	};
	watch();
	return {
		async find(query: Parameters<TicketHistoryIndex['find']>[0]): Promise<HistoryTicket[] | null> {
			if (!built) return null;
			await follower.ownWritesRead(OWN_WRITES_WAIT_MS);
			return index.find(query);
		},
		caughtUp: follower.caughtUp,
		stop: () => {
			stopped = true;
			return follower.stop();
		}
	};
}
export type TicketHistory = ReturnType<typeof startTicketHistory>;
