/**
 * Work orders (派工单, F22/F28) are events of their ticket: a department or team leader dispatches the ticket
 * to a field crew with an appointment window; the crew records its steps, notes, parts, photos and the
 * customer's confirmation on the tablet. Everything is written to the device's replica first, so a crew
 * works fully offline; replication takes it to the server in order when the network returns.
 */
import { v7 as uuidv7 } from 'uuid';
import {
	allTickets,
	getAttachmentBlob,
	getTicket,
	putAttachment,
	putTicket
} from '$lib/replication/tickets-db';
import { getCustomer } from '$lib/data/customers';
import { session } from '$lib/state/session.svelte';
import { CENTER_DEPARTMENT_ID } from '#shared/docs/config';
import {
	attachmentVisibleTo,
	buildTicket,
	nextEventTime,
	type TicketDoc,
	type WorkOrder
} from '#shared/tickets/ticket';
import type { TicketEvent, WorkOrderCustomer, WorkStep } from '#shared/tickets/events';
import { isPhotoType, type PhotoType } from '#shared/tickets/attachment';

export type { WorkStep };

/** A new event's id, author and time: after the ticket's latest event (see nextEventTime). */
function stamp(ticket: Pick<TicketDoc, 'events'>) {
	if (!session.user) throw new Error('not signed in');
	return { id: uuidv7(), at: nextEventTime(ticket.events).toISOString(), by: session.user.id };
}

async function append(ticketId: string, event: TicketEvent): Promise<TicketDoc> {
	const current = await getTicket(ticketId);
	if (!current) throw new Error('ticket not found');
	return putTicket(
		buildTicket(ticketId, [...current.events, event], CENTER_DEPARTMENT_ID, current._rev)
	);
}

export interface Dispatch {
	crewId: string;
	/** The appointment window, as ISO timestamps. */
	from: string;
	to: string;
	note: string;
}

/**
 * 派工: the ticket's customers are copied into the work order (from the server when online, else from this
 * device's cache), so the crew has name, address and phones on the tablet without the subscriber database.
 */
export async function dispatchWorkOrder({
	ticket,
	dispatch: input
}: {
	ticket: TicketDoc;
	dispatch: Dispatch;
}): Promise<TicketDoc> {
	const created = ticket.events.find((e) => e.type === 'created');
	const found = await Promise.all(ticket.customerIds.slice(0, 5).map((id) => getCustomer({ id })));
	const customers: WorkOrderCustomer[] = found.flatMap((c) =>
		c ? [{ id: c._id, name: c.name, address: c.address, phones: c.phones.slice(0, 5) }] : []
	);
	if (customers.length === 0 && created?.type === 'created' && created.contactName) {
		customers.push({
			id: 'contact',
			name: created.contactName,
			address: created.contactAddress ?? '',
			phones: created.callerNumber ? [created.callerNumber] : []
		});
	}
	return append(ticket._id, {
		...stamp(ticket),
		type: 'dispatched',
		crewId: input.crewId,
		from: input.from,
		to: input.to,
		note: input.note.trim(),
		customers
	});
}

export interface StepDetails {
	reason?: string;
	note?: string;
	parts?: string;
	confirmedBy?: string;
}

/** The crew's next step; empty details are left out. */
export async function recordStep({
	ticketId,
	step,
	details = {}
}: {
	ticketId: string;
	step: WorkStep;
	details?: StepDetails;
}): Promise<TicketDoc> {
	const extra = Object.fromEntries(
		Object.entries(details)
			.map(([k, v]) => [k, (v ?? '').trim()])
			.filter(([, v]) => v !== '')
	) as StepDetails;
	const current = await getTicket(ticketId);
	if (!current) throw new Error('ticket not found');
	return append(ticketId, { ...stamp(current), type: 'workStep', step, ...extra });
}

/** The crews this user belongs to, from the replicated configuration. */
export function myCrewIds({ crews }: { crews: { _id: string; memberIds: string[] }[] }): string[] {
	const me = session.user?.id ?? '';
	return crews.filter((c) => c.memberIds.includes(me)).map((c) => c._id);
}

/** Work orders of these crews on this device, by appointment; finished ones last, newest first. */
export async function crewWorkOrders({ crewIds }: { crewIds: string[] }): Promise<TicketDoc[]> {
	const mine = (await allTickets()).filter(
		(t) => t.workOrder && crewIds.includes(t.workOrder.crewId)
	);
	const open = mine
		.filter((t) => !t.workOrder!.finishedAt)
		.sort((a, b) => a.workOrder!.from.localeCompare(b.workOrder!.from));
	const finished = mine
		.filter((t) => t.workOrder!.finishedAt)
		.sort((a, b) => b.workOrder!.finishedAt!.localeCompare(a.workOrder!.finishedAt!));
	return [...open, ...finished];
}

/** The step that normally follows, for the one big button on the tablet. */
export function nextStep({ workOrder }: { workOrder: WorkOrder | null }): WorkStep | null {
	const order: Record<string, WorkStep | null> = {
		dispatched: 'accepted',
		accepted: 'onTheWay',
		onTheWay: 'onSite',
		onSite: 'done',
		done: null,
		failed: null,
		cancelled: null
	};
	return workOrder ? (order[workOrder.step] ?? null) : null;
}

const PHOTO_MAX_SIDE = 1600;
const PHOTO_QUALITY = 0.8;

/** A camera photo scaled down to a sensible size for the field (a phone photo is 3–8 MB; this is ~0.3 MB). */
async function scaled(file: Blob): Promise<Blob> {
	if (!file.type.startsWith('image/')) throw new Error('not an image');
	const bitmap = await createImageBitmap(file).catch(() => null);
	if (!bitmap) {
		if (isPhotoType(file.type)) return file;
		throw new Error('unsupported image');
	}
	const ratio = Math.min(1, PHOTO_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
	if (ratio === 1 && file.size < 1_000_000 && file.type === 'image/jpeg') return file;
	const canvas = new OffscreenCanvas(
		Math.round(bitmap.width * ratio),
		Math.round(bitmap.height * ratio)
	);
	canvas.getContext('2d')!.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
	bitmap.close();
	return canvas.convertToBlob({ type: 'image/jpeg', quality: PHOTO_QUALITY });
}

/**
 * A photo from the camera: its own immutable document (visible to its author and the crew, so it stays on
 * the tablets that took it; everyone else fetches it from the server) and an `attached` event on the ticket.
 * Who sees it is derived from the ticket by the function the server checks it with.
 */
export async function attachPhoto({
	ticket,
	file,
	caption = ''
}: {
	ticket: TicketDoc;
	file: Blob;
	caption?: string;
}): Promise<string> {
	const base = stamp(ticket);
	const id = `att:${ticket._id}:${base.id}`;
	const photo = await scaled(file);
	await putAttachment({
		_id: id,
		type: 'att',
		ticketId: ticket._id,
		by: base.by,
		at: base.at,
		updatedAt: base.at,
		visibleTo: attachmentVisibleTo(ticket.events, base.by, base.at),
		_attachments: { photo: { content_type: photo.type, data: photo } }
	});
	await append(ticket._id, {
		...stamp(ticket),
		type: 'attached',
		attachmentId: id,
		contentType: photo.type as PhotoType,
		...(caption.trim() ? { caption: caption.trim() } : {})
	});
	return id;
}

/** A URL to show an attached photo: this device's copy when it has one, else the server's. */
export async function photoUrl({
	ticketId,
	attachmentId
}: {
	ticketId: string;
	attachmentId: string;
}): Promise<string> {
	const blob = await getAttachmentBlob(attachmentId);
	return blob
		? URL.createObjectURL(blob)
		: `/api/tickets/${encodeURIComponent(ticketId)}/attachments/${encodeURIComponent(attachmentId)}`;
}

/** Asks the browser not to evict this device's unsynced work (F28); true when granted. */
export async function keepStoragePersistent(): Promise<boolean> {
	if (!navigator.storage?.persist) return false;
	return (await navigator.storage.persisted()) || navigator.storage.persist();
}
