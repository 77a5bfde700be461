/**
 * Who may see and write which replicated document (DESIGN.md, Access). Pure functions, used by every door
 * of the /sync endpoint, by a branch's /replicate (`branches/branch-access.ts`) and by the /api routes alike. The
 * doors give them what they need — the writer's scopes, who may author events, the configuration ids that
 * exist, what the store holds of each document, the clock — and store only what they allow.
 *
 * A scope is the id of a principal: the user (`user:<name>`), their department (`department:<key>`) and
 * their crews (`crew:<key>`). A ticket's `visibleTo` is a grow-only set of such ids.
 */
import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { EVENT_CLOCK_SKEW_MS, TicketEvent, type TicketEventType } from '#shared/tickets/events';
import {
	attachmentVisibleTo,
	deriveTicket,
	eventFingerprint,
	orderEvents
} from '#shared/tickets/ticket';
import { CENTER_DEPARTMENT_ID } from '#shared/docs/config';
import {
	ATTACHMENT_DAILY_BYTES,
	ATTACHMENT_DAILY_COUNT,
	ATTACHMENT_MAX_BASE64,
	base64Bytes,
	isPhotoType
} from '#shared/tickets/attachment';
import { homeOf, type Permission } from '#shared/permissions';
import type { UserDoc } from './accounts';

/** Which permission lets a user record which kind of ticket event. */
const EVENT_PERMISSION: Record<TicketEventType, Permission | null> = {
	created: 'ticket.create',
	closedAtCenter: 'ticket.closeAtCenter',
	transferred: 'ticket.transfer',
	handled: 'dept.process',
	callback: 'callback.record',
	closed: 'supervise',
	comment: null,
	dispatched: 'workOrder.dispatch',
	workStep: 'workOrder.execute',
	attached: null
};

export type SyncDb = 'config' | 'tickets';
export const SYNC_DBS: readonly SyncDb[] = ['config', 'tickets'];

export function scopesOf(
	user: Pick<UserDoc, '_id' | 'departmentId'> & { permissions?: string[]; crewIds?: string[] }
): string[] {
	// A field crew's tablet holds its work orders, not everything its department handles (DESIGN.md).
	const fieldOnly = user.permissions !== undefined && homeOf(user.permissions) === 'field';
	return [user._id, ...(fieldOnly ? [] : [user.departmentId]), ...(user.crewIds ?? [])];
}

/** Stable hash of what a user may see in one database; part of every checkpoint id. */
export function scopeHash(db: SyncDb, scopes: readonly string[]): string {
	return createHash('sha256')
		.update(JSON.stringify([db, [...scopes].sort()]))
		.digest('hex')
		.slice(0, 16);
}

interface AnyDoc {
	_id: string;
	_deleted?: boolean;
	type?: unknown;
	visibleTo?: unknown;
}

/** May a user with these scopes read this revision? Design documents are never served. */
export function canRead(db: SyncDb, doc: AnyDoc, scopes: readonly string[]): boolean {
	if (doc._id.startsWith('_design/') || doc._id.startsWith('_local/')) return false;
	// Deletions of configuration must reach every device, or deleted departments would live on there.
	if (db === 'config') return doc._deleted === true || typeof doc.type === 'string';
	return Array.isArray(doc.visibleTo) && doc.visibleTo.some((s) => scopes.includes(s as string));
}

/**
 * The server's own `_changes` selector: only documents the user may read and, for tickets, only those
 * changed within the working-set window. It uses only `visibleTo` (grow-only) and `updatedAt` (moves
 * forward on every change), so a document never silently stops matching while it is still being changed.
 */
export function changesSelector(
	db: SyncDb,
	scopes: readonly string[],
	{ now, windowMs, docIds }: { now: number; windowMs: number; docIds?: string[] }
): Record<string, unknown> {
	const parts: Record<string, unknown>[] =
		db === 'config'
			? [{ $or: [{ type: { $exists: true } }, { _deleted: true }] }]
			: [
					{ visibleTo: { $elemMatch: { $in: [...scopes] } } },
					{ updatedAt: { $gte: new Date(now - windowMs).toISOString() } }
				];
	if (docIds) parts.push({ _id: { $in: docIds } });
	return { $and: parts };
}

/**
 * The same rule as `changesSelector`, on what the replication feed hub keeps of a document
 * (`replication/feed-hub.ts`): a device's `_changes` is answered from memory with it. `updatedAt` in ms.
 */
export function inSyncSet(
	db: SyncDb,
	doc: { deleted: boolean; type?: string; visibleTo?: readonly string[]; updatedAt: number },
	scopes: readonly string[],
	{ now, windowMs }: { now: number; windowMs: number }
): boolean {
	if (db === 'config') return doc.deleted || doc.type !== undefined;
	return (
		doc.visibleTo !== undefined &&
		doc.visibleTo.some((s) => scopes.includes(s)) &&
		doc.updatedAt >= now - windowMs
	);
}

/**
 * A device's working set on its first listing (issue #15), bounded by volume as well as time: of what
 * `inSyncSet` allows, the tickets of the user or their crews, the tickets open at the user's department
 * (callbacks due at the center, transfers waiting at a department), and the `recent` most recently updated
 * (by `updatedAt`) of the rest the department sees. Later changes are all delivered (`inSyncSet`): whatever a device holds
 * is kept current, and anything older comes from the server when asked (history, lists, search).
 */
export function inFirstListing(
	doc: {
		/** Epoch ms (NaN when unknown). */
		updatedAt: number;
		visibleTo?: readonly string[];
		status?: string;
		departmentId?: string | null;
	},
	principal: { own: readonly string[]; department: string | null },
	{ recent, newestFrom }: { recent: number; newestFrom: (scope: string, n: number) => number }
): boolean {
	if (doc.visibleTo?.some((s) => principal.own.includes(s))) return true;
	const department = principal.department;
	if (department === null || !doc.visibleTo?.includes(department)) return false;
	if (doc.status !== 'closed' && doc.departmentId === department) return true;
	return doc.updatedAt >= newestFrom(department, recent);
}

/** A document as a writer sends it (`_bulk_docs` with `new_edits: false`). */
export interface WrittenDoc extends AnyDoc {
	_rev?: string;
	_revisions?: unknown;
	[field: string]: unknown;
}

/** Someone who may author new events, and what they may do. */
export interface Author {
	_id: string;
	departmentId: string;
	permissions: readonly string[];
	crewIds: readonly string[];
}

/** The configuration ids that exist now: events may name only these. */
export interface KnownIds {
	departments: ReadonlySet<string>;
	crews: ReadonlySet<string>;
	flows: ReadonlySet<string>;
}

/** What the store holds of a document (`replication-protocol.ts` `Existing`). */
export interface HeldDoc {
	/** The current winning revision (never a deletion). */
	winner: AnyDoc;
	/** Every event in any leaf revision: its id and fingerprint (`eventFingerprint`). */
	events: ReadonlyMap<string, string>;
	/** The leaves that are not deleted, with their events. */
	leaves: readonly { rev: string; events: readonly unknown[] }[];
}

/** What a door knows when it checks writes. */
export interface WriteRules {
	/** What the writer may read (a user's scopes, or a branch's). */
	scopes: readonly string[];
	/** The author of a new event or photo, or the reason nobody by that id may be one through this door. */
	author(id: string): Author | string;
	known: KnownIds;
	/** The server's clock (ms). */
	now: number;
}

/** Photos a user stored today, counted toward the daily quota. */
export interface QuotaUse {
	count: number;
	bytes: number;
}

/** The revisions of one `_bulk_docs` request that came before, as the batch rules need them. */
export interface BatchSoFar {
	/** Live revisions of this document accepted earlier in the request. */
	live: readonly (WrittenDoc & { events: TicketEvent[] })[];
	/** Revisions deleted by deletions accepted earlier in the request. */
	dead: ReadonlySet<string>;
}

/** The revisions a replicated revision descends from, itself first (`_revisions`). */
export function ancestry(doc: WrittenDoc): string[] {
	const revisions = doc._revisions as { start?: unknown; ids?: unknown } | undefined;
	if (
		revisions &&
		typeof revisions.start === 'number' &&
		Array.isArray(revisions.ids) &&
		revisions.ids.every((id) => typeof id === 'string')
	) {
		const start = revisions.start;
		return (revisions.ids as string[]).map((id, i) => `${start - i}-${id}`);
	}
	return typeof doc._rev === 'string' ? [doc._rev] : [];
}

const heldEvents = (held: HeldDoc | null): TicketEvent[] =>
	(held?.leaves ?? []).flatMap((leaf) => leaf.events as TicketEvent[]);

/** The configuration an event names that does not exist, or null. */
function unknownId(e: TicketEvent, known: KnownIds): string | null {
	const departments: (string | null)[] = [];
	if (e.type === 'created') departments.push(e.departmentId);
	if (e.type === 'transferred') {
		departments.push(e.toDepartmentId);
		if (e.flowId !== null && !known.flows.has(e.flowId)) return `flow ${e.flowId}`;
	}
	if (e.type === 'handled') departments.push(e.departmentId, e.nextDepartmentId);
	if (e.type === 'dispatched' && !known.crews.has(e.crewId)) return `crew ${e.crewId}`;
	const missing = departments.find((d) => d !== null && !known.departments.has(d));
	return missing ? `department ${missing}` : null;
}

/** The ticket as the events before a new one leave it: who holds it, which crew it went to. */
function stateBefore(before: readonly TicketEvent[]) {
	try {
		return deriveTicket(before, CENTER_DEPARTMENT_ID);
	} catch {
		return null;
	}
}

/**
 * May this new event (not yet on the server) be stored? `before`: the events before it in the canonical
 * order of the revision that carries it — what its author's device knew when recording it.
 */
function refuseNewEvent(
	e: TicketEvent,
	before: readonly TicketEvent[],
	rules: WriteRules
): string | null {
	if (Date.parse(e.at) > rules.now + EVENT_CLOCK_SKEW_MS) {
		return `event ${e.id} is dated in the future (${e.at})`;
	}
	const author = rules.author(e.by);
	if (typeof author === 'string') return author;
	const needed = EVENT_PERMISSION[e.type];
	if (needed && !author.permissions.includes(needed)) return `recording ${e.type} needs ${needed}`;
	const missing = unknownId(e, rules.known);
	if (missing) return `event ${e.id} names ${missing}, which does not exist`;
	if (e.type === 'handled') {
		if (e.departmentId !== author.departmentId) return 'a department records only its own handling';
		const now = stateBefore(before);
		const holds =
			now !== null &&
			(now.status === 'new' || now.status === 'atDepartment') &&
			now.departmentId === e.departmentId;
		if (!holds) return 'only the department that holds the ticket now records its handling';
	}
	if (e.type === 'workStep') {
		const crewId = stateBefore(before)?.workOrder?.crewId;
		if (!crewId || !author.crewIds.includes(crewId)) {
			return 'only the crew the work order went to last records its steps';
		}
	}
	return null;
}

/**
 * May this live revision of a ticket be stored? `held`: what the store holds of the document; `batch`: the
 * revisions of the same document accepted earlier in the same request. Every event the server does not hold
 * yet is checked against its author, the configuration and the clock; the revision as a whole must keep
 * every event of each live revision it replaces, agree with the other revisions on every event's content,
 * hold exactly one `created` (first, also together with every other revision) and carry exactly the list
 * fields its events derive. Returns null when allowed, or the reason it is not.
 */
export function refuseTicketRevision(
	doc: WrittenDoc,
	held: HeldDoc | null,
	rules: WriteRules,
	batch: BatchSoFar = { live: [], dead: new Set() }
): string | null {
	if (doc._deleted) return 'only the server deletes documents';
	if (doc.type !== 'ticket' || !doc._id.startsWith('ticket:')) {
		return 'not a ticket or attachment document';
	}
	if (doc._attachments !== undefined) {
		return 'a ticket carries no files: a photo is its own document';
	}
	if (held && !canRead('tickets', held.winner, rules.scopes)) return 'not visible to you';
	if (!canRead('tickets', doc, rules.scopes)) return 'the document would not be visible to you';
	if (!v.is(v.array(TicketEvent), doc.events)) return 'malformed event';
	// Checked as sent: that is what the store keeps and what every fingerprint is taken of.
	const events = doc.events as TicketEvent[];

	// One id, one event: within the revision, against the server and against the rest of the request.
	const mine = new Map<string, string>();
	for (const e of events) {
		const fingerprint = eventFingerprint(e);
		const seen = mine.get(e.id);
		if (seen !== undefined) {
			return seen === fingerprint
				? `event ${e.id} is listed twice`
				: `event ${e.id} is listed twice with different content`;
		}
		mine.set(e.id, fingerprint);
		const stored = held?.events.get(e.id);
		if (stored !== undefined && stored !== fingerprint) return 'events are never changed';
		for (const other of batch.live) {
			const same = other.events.find((o) => o.id === e.id);
			if (same && eventFingerprint(same) !== fingerprint) {
				return `event ${e.id} differs from another revision of this ticket in the same request`;
			}
		}
	}

	// Events only grow: a revision that replaces a live leaf keeps every event of it.
	const replaces = new Set(ancestry(doc));
	for (const leaf of held?.leaves ?? []) {
		if (!replaces.has(leaf.rev)) continue;
		const lost = (leaf.events as TicketEvent[]).find((e) => !mine.has(e.id));
		if (lost) return `events are never removed: ${lost.id} of ${leaf.rev} is missing`;
	}

	// Exactly one `created`, and no event before it — in this revision and merged with every other one
	// (a second, backdated `created` in a sibling revision would take the ticket over in the merge).
	const union = new Map<string, TicketEvent>();
	for (const e of [...heldEvents(held), ...batch.live.flatMap((d) => d.events), ...events]) {
		union.set(e.id, e);
	}
	const all = [...union.values()];
	const created = all.filter((e) => e.type === 'created');
	if (created.length === 0) return 'a ticket starts with a created event';
	if (created.length > 1) return 'a ticket has exactly one created event';
	if (all.some((e) => e.at < created[0]!.at)) return 'no event comes before the created event';

	const ordered = orderEvents(events);
	for (const [i, e] of ordered.entries()) {
		// Already on the server: whoever recorded it was checked then; its content never changes.
		if (held?.events.has(e.id)) continue;
		const reason = refuseNewEvent(e, ordered.slice(0, i), rules);
		if (reason) return reason;
	}

	// The list fields must be exactly what the events say: a device cannot widen visibleTo by hand.
	const derived = deriveTicket(events, CENTER_DEPARTMENT_ID);
	for (const field of Object.keys(derived) as (keyof typeof derived)[]) {
		if (JSON.stringify(doc[field]) !== JSON.stringify(derived[field])) {
			return `${field} is not derived from the events`;
		}
	}
	return null;
}

/** A ticket as an attachment written beside it sees it: on the server or earlier in the same request. */
export interface TicketOfAttachment {
	/** Whether the writer may read (and so write) the ticket. */
	readable: boolean;
	/** Its events: every live revision's on the server and those accepted in the request. */
	events: readonly TicketEvent[];
}

const Timestamp = v.pipe(v.string(), v.isoTimestamp());

const sameSet = (a: unknown, b: readonly string[]) =>
	Array.isArray(a) &&
	a.length === b.length &&
	JSON.stringify([...(a as string[])].sort()) === JSON.stringify([...b].sort());

/**
 * Attachment documents are written once, by their author, with one image, beside a ticket that exists and
 * that the writer may write; they are visible to what `attachmentVisibleTo` derives from the ticket.
 */
export function refuseAttachment(
	doc: WrittenDoc,
	held: HeldDoc | null,
	ticket: TicketOfAttachment | null,
	rules: WriteRules,
	{ ticketMayFollow = false }: { ticketMayFollow?: boolean } = {}
): string | null {
	const att = doc as WrittenDoc & {
		ticketId?: unknown;
		by?: unknown;
		at?: unknown;
		updatedAt?: unknown;
		_attachments?: Record<string, { content_type?: unknown; data?: unknown }>;
	};
	if (doc.type !== 'att' || !doc._id.startsWith('att:')) {
		return 'not a ticket or attachment document';
	}
	if (held) {
		return canRead('tickets', held.winner, rules.scopes)
			? 'attachments are never changed'
			: 'not visible to you';
	}
	if (typeof att.by !== 'string') return 'an attachment names its author';
	const author = rules.author(att.by);
	if (typeof author === 'string') return author;
	if (typeof att.ticketId !== 'string' || !doc._id.startsWith(`att:${att.ticketId}:`)) {
		return 'an attachment names its ticket in its id';
	}
	const at = v.is(Timestamp, att.at) ? att.at : null;
	const updatedAt = v.is(Timestamp, att.updatedAt) ? att.updatedAt : null;
	const future = (t: string) => Date.parse(t) > rules.now + EVENT_CLOCK_SKEW_MS;
	if (!at || !updatedAt || future(at) || future(updatedAt)) {
		return 'an attachment carries its time (at and updatedAt, not in the future)';
	}
	const names = Object.keys(att._attachments ?? {});
	if (names.length !== 1 || names[0] !== 'photo') return 'an attachment holds one file, photo';
	const file = att._attachments?.photo;
	if (!isPhotoType(file?.content_type)) return 'only images are attached';
	if (typeof file?.data !== 'string') return 'an attachment carries its image';
	if (file.data.length > ATTACHMENT_MAX_BASE64) return 'the image is too large';
	if (ticket && !ticket.readable) return 'the ticket of this attachment is not visible to you';
	if (!ticket && !ticketMayFollow) return `the ticket ${att.ticketId} does not exist`;
	const derived = ticket && sameSet(doc.visibleTo, attachmentVisibleTo(ticket.events, att.by, at));
	// The ticket (or the dispatch the photo was taken on) may still be on its way: then the author and one
	// of the author's own crews, which is what the derivation gives a crew member's photo.
	const authorAndCrew =
		ticketMayFollow &&
		Array.isArray(doc.visibleTo) &&
		doc.visibleTo.length === 2 &&
		doc.visibleTo.includes(att.by) &&
		doc.visibleTo.some((s) => s !== att.by && author.crewIds.includes(s as string));
	if (!derived && !authorAndCrew) return 'visibleTo of an attachment is derived from its ticket';
	if (!canRead('tickets', doc, rules.scopes)) return 'the document would not be visible to you';
	return null;
}

/** The bytes of an attachment document's photo (what counts toward the quota). */
export function attachmentBytes(doc: WrittenDoc): number {
	const data = (doc._attachments as { photo?: { data?: unknown } } | undefined)?.photo?.data;
	return typeof data === 'string' ? base64Bytes(data) : 0;
}

export interface BatchOptions {
	/** Why this deletion may not be stored, or null. */
	refuseDeletion(doc: WrittenDoc, held: HeldDoc | null, batch: BatchSoFar): string | null;
	/** Photos the writer stored today; without it, no quota is counted. */
	quotaUsed?: QuotaUse;
	/**
	 * A photo may come before its ticket, or before the dispatch it was taken on (a branch pushes in its own
	 * changes order, in batches): it is then visible to its author and one of the author's crews.
	 */
	ticketMayFollow?: boolean;
}

/**
 * The rules for one `_bulk_docs` request to the tickets database, for every door: live ticket revisions
 * first (each against the server and the revisions of the same document accepted before it), then
 * deletions (`options.refuseDeletion`, given what was accepted), then attachments (their ticket may be in
 * the same request) within the daily quota. `held`: what the store holds of each id of the request and of
 * the tickets its attachments name. Returns, for each document in order, null or the reason it is refused.
 */
export function refuseTicketWrites(
	docs: readonly WrittenDoc[],
	held: ReadonlyMap<string, HeldDoc>,
	rules: WriteRules,
	options: BatchOptions
): (string | null)[] {
	const reasons: (string | null)[] = docs.map(() => null);
	const live = new Map<string, (WrittenDoc & { events: TicketEvent[] })[]>();
	const dead = new Map<string, Set<string>>();
	const soFar = (id: string): BatchSoFar => ({
		live: (live.get(id) ?? []).filter((d) => !dead.get(id)?.has(d._rev ?? '')),
		dead: dead.get(id) ?? new Set()
	});
	const isAttachment = (doc: WrittenDoc) => !doc._deleted && doc.type === 'att';

	docs.forEach((doc, i) => {
		if (doc._deleted || isAttachment(doc)) return;
		reasons[i] = refuseTicketRevision(doc, held.get(doc._id) ?? null, rules, soFar(doc._id));
		if (reasons[i] === null) {
			const list = live.get(doc._id) ?? [];
			list.push(doc as WrittenDoc & { events: TicketEvent[] });
			live.set(doc._id, list);
		}
	});
	docs.forEach((doc, i) => {
		if (!doc._deleted) return;
		reasons[i] = options.refuseDeletion(doc, held.get(doc._id) ?? null, soFar(doc._id));
		if (reasons[i] === null) {
			const gone = dead.get(doc._id) ?? new Set<string>();
			for (const rev of ancestry(doc)) gone.add(rev);
			dead.set(doc._id, gone);
		}
	});

	const used = options.quotaUsed ? { ...options.quotaUsed } : null;
	docs.forEach((doc, i) => {
		if (!isAttachment(doc)) return;
		const ticketId = typeof doc.ticketId === 'string' ? doc.ticketId : '';
		const onServer = held.get(ticketId) ?? null;
		const inBatch = soFar(ticketId).live;
		const ticket: TicketOfAttachment | null =
			onServer || inBatch.length > 0
				? {
						readable: onServer
							? canRead('tickets', onServer.winner, rules.scopes)
							: inBatch.some((d) => canRead('tickets', d, rules.scopes)),
						events: [...heldEvents(onServer), ...inBatch.flatMap((d) => d.events)]
					}
				: null;
		reasons[i] = refuseAttachment(doc, held.get(doc._id) ?? null, ticket, rules, {
			ticketMayFollow: options.ticketMayFollow ?? false
		});
		if (reasons[i] !== null || !used) return;
		const bytes = attachmentBytes(doc);
		if (used.count + 1 > ATTACHMENT_DAILY_COUNT) {
			reasons[i] = `daily quota reached: at most ${ATTACHMENT_DAILY_COUNT} photos a day`;
		} else if (used.bytes + bytes > ATTACHMENT_DAILY_BYTES) {
			reasons[i] =
				`daily quota reached: at most ${ATTACHMENT_DAILY_BYTES / 1024 / 1024} MB of photos a day`;
		} else {
			used.count += 1;
			used.bytes += bytes;
		}
	});
	return reasons;
}

/** A signed-in user through `/sync`: the only author of new events is the user; devices never delete. */
export function userWriteRules(
	user: Pick<UserDoc, '_id' | 'departmentId' | 'permissions'>,
	crewIds: readonly string[],
	known: KnownIds,
	now: number
): WriteRules {
	const author: Author = {
		_id: user._id,
		departmentId: user.departmentId,
		permissions: user.permissions,
		crewIds
	};
	return {
		scopes: scopesOf({ ...user, crewIds: [...crewIds] }),
		author: (id) =>
			id === user._id ? author : 'events and photos are recorded by their author only',
		known,
		now
	};
}

/** Deletions through `/sync`: none; the server's resolver deletes merged-away revisions itself. */
export const refuseDeviceDeletion = () => 'only the server deletes documents';
