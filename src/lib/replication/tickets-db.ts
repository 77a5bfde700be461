/**
 * The local replica of the tickets this user may see: live two-way replication with `/sync/tickets`.
 * Writes go to the local database first (they work offline) and reach the server when the network allows.
 * Conflicting revisions (two devices edited offline) are merged here by the union of their events.
 */
import { backOff } from './backoff';
import PouchDB from 'pouchdb-browser';
import { CENTER_DEPARTMENT_ID } from '#shared/docs/config';
import { mergeTickets, type TicketDoc } from '#shared/tickets/ticket';
import { syncStatus } from '$lib/state/sync-status.svelte';

const LOCAL_NAME = 'cc-tickets';
const BATCH_SIZE = 500;

/** A photo kept as its own immutable document beside its ticket (DESIGN.md, Attachments). */
export interface AttachmentDoc {
	_id: string;
	_rev?: string;
	type: 'att';
	ticketId: string;
	by: string;
	at: string;
	updatedAt: string;
	visibleTo: string[];
	_attachments: Record<'photo', { content_type: string; data: Blob }>;
}

const PENDING_KEY = 'cc-tickets-pushed-seq';

interface EventEmitterLike {
	on(event: string, listener: (info: unknown) => void): unknown;
}

let local: PouchDB.Database<TicketDoc> | null = null;
let replication: PouchDB.Replication.Sync<TicketDoc> | null = null;
let localChanges: PouchDB.Core.Changes<TicketDoc> | null = null;
const listeners = new Set<() => void>();

function db(): PouchDB.Database<TicketDoc> {
	local ??= new PouchDB<TicketDoc>(LOCAL_NAME);
	return local;
}

function notify() {
	for (const l of listeners) l();
}

export function startTicketSync(): void {
	if (replication) return;
	const remote = new PouchDB<TicketDoc>(`${location.origin}/sync/tickets`, { skip_setup: true });
	replication = db()
		.sync(remote, { live: true, retry: true, batch_size: BATCH_SIZE, back_off_function: backOff })
		.on('change', () => {
			syncStatus.markSynced();
			notify();
		})
		.on('paused', (err) => {
			if (err) syncStatus.phase = 'error';
			else syncStatus.markSynced();
		})
		.on('active', () => (syncStatus.phase = 'pulling'))
		.on('denied', (info) => {
			syncStatus.phase = 'error';
			// The server refused a local change: it stays on this device; say so rather than "synced".
			const id = (info as { doc?: { id?: string } }).doc?.id;
			if (id && !syncStatus.refused.includes(id)) syncStatus.refused = [...syncStatus.refused, id];
		})
		.on('error', () => (syncStatus.phase = 'error'));
	// The push side writes a checkpoint once the server has every local change up to that sequence.
	(replication as unknown as { push: EventEmitterLike }).push.on('checkpoint', (info) => {
		const seq = (info as { checkpoint?: string | number }).checkpoint;
		if (seq !== undefined) pushedUpTo(seq);
	});
	localChanges = db()
		.changes({ since: 'now', live: true })
		.on('change', () => {
			void countPending();
			notify();
		});
	void countPending();
}

/** Local writes up to this sequence have been pushed to the server. */
function pushedUpTo(seq: string | number) {
	localStorage.setItem(PENDING_KEY, String(seq));
	void countPending();
}

/** How many local changes wait for the server (shown on the tablet; F28). */
async function countPending(): Promise<number> {
	// The browser's adapter numbers its sequence; stored as text, it must be a number again.
	const stored = localStorage.getItem(PENDING_KEY) ?? '0';
	const since = /^\d+$/.test(stored) ? Number(stored) : stored;
	const { results } = await db().changes({ since, limit: 10_000 });
	syncStatus.pending = results.length;
	return results.length;
}

export function stopTicketSync(): void {
	replication?.cancel();
	replication = null;
	localChanges?.cancel();
	localChanges = null;
}

/**
 * A ticket as the user should see it: when devices edited it concurrently offline, the union of every
 * conflicting revision's events. The device never deletes revisions itself (only the server does, which
 * resolves conflicts for good); new events are written on top of this merged view.
 */
async function merged(doc: TicketDoc & { _conflicts?: string[] }): Promise<TicketDoc> {
	let out: TicketDoc = doc;
	for (const rev of doc._conflicts ?? []) {
		const other = await db()
			.get(doc._id, { rev })
			.catch(() => null);
		if (other) out = mergeTickets(out, other, CENTER_DEPARTMENT_ID);
	}
	const { _conflicts: _, ...clean } = out as TicketDoc & { _conflicts?: string[] };
	return clean;
}

export async function putTicket(doc: TicketDoc): Promise<TicketDoc> {
	const res = await db().put(doc);
	return { ...doc, _rev: res.rev };
}

export async function getTicket(id: string): Promise<TicketDoc | null> {
	const doc = await db()
		.get(id, { conflicts: true })
		.catch(() => null);
	return doc ? merged(doc) : null;
}

export async function allTickets(): Promise<TicketDoc[]> {
	const res = await db().allDocs({
		include_docs: true,
		conflicts: true,
		startkey: 'ticket:',
		endkey: 'ticket:\ufff0'
	});
	const docs = res.rows.flatMap((r) => (r.doc && r.doc.type === 'ticket' ? [r.doc] : []));
	return Promise.all(docs.map((d) => merged(d)));
}

export async function putAttachment(doc: AttachmentDoc): Promise<void> {
	await (db() as unknown as PouchDB.Database<AttachmentDoc>).put(doc);
}

/** An attachment's image from this device, or null when it is not here (then the server has it). */
export async function getAttachmentBlob(id: string): Promise<Blob | null> {
	return (await db()
		.getAttachment(id, 'photo')
		.catch(() => null)) as Blob | null;
}

export function onTicketsChange(listener: () => void): () => void {
	listeners.add(listener);
	return () => listeners.delete(listener);
}

export async function destroyTicketReplica(): Promise<void> {
	stopTicketSync();
	await db().destroy();
	localStorage.removeItem(PENDING_KEY);
	local = null;
}
