/**
 * Tickets for the UI (F19–F21): recorded and changed in this device's replica first — so they work offline —
 * as new events whose list fields are derived by the shared pure function; replication does the rest.
 */
import { v7 as uuidv7 } from 'uuid';
import { api } from '$lib/api/client';
import { deviceCode, nextTicketCounter } from '$lib/cache/db';
import { allTickets, getTicket, onTicketsChange, putTicket } from '$lib/replication/tickets-db';
import { session } from '$lib/state/session.svelte';
import { CENTER_DEPARTMENT_ID } from '#shared/docs/config';
import { buildTicket, nextEventTime, type TicketDoc } from '#shared/tickets/ticket';
import type { Satisfaction, TicketEvent } from '#shared/tickets/events';
import { DeviceCode } from '#shared/wire/devices';
import { historyEntry, TicketHistory, type HistoryTicket } from '#shared/wire/tickets';
import { normalizePhone } from '#shared/phone';

export { onTicketsChange };
export type { HistoryTicket, Satisfaction, TicketDoc };
export { SATISFACTIONS } from '#shared/tickets/events';

/** Asks the server once for this device's code (needed to number tickets offline). */
export async function ensureDeviceCode(): Promise<string> {
	const known = await deviceCode.get();
	if (known) return known;
	const { code } = await api('/devices', DeviceCode, { method: 'POST' });
	await deviceCode.set(code);
	return code;
}

/** A number people can read aloud, unique without asking the server: date, device code, day counter. */
async function nextNumber(now: Date): Promise<string> {
	const code = (await deviceCode.get()) ?? (await ensureDeviceCode());
	const day = now.toISOString().slice(0, 10).replaceAll('-', '');
	const n = await nextTicketCounter(day);
	return `${day}-${code}-${String(n).padStart(4, '0')}`;
}

function base(type: TicketEvent['type'], at = new Date()) {
	if (!session.user) throw new Error('not signed in');
	return { id: uuidv7(), type, at: at.toISOString(), by: session.user.id };
}

export interface NewTicket {
	callerNumber: string;
	/** Subscribers the ticket is about (F16), and a contact when the caller is not one of them. */
	customerIds: string[];
	contactName: string;
	contactAddress: string;
	/** The call being answered, when the entry was opened by a screen pop. */
	callId?: string;
	serviceTypeId: string | null;
	contentCategoryId: string | null;
	content: string;
	callbackRequired: boolean;
	/** 客服中心 → closed at the center now (中心处理); any other department → transferred there (移交执行). */
	departmentId: string;
	flowId: string | null;
}

export async function recordTicket(input: NewTicket): Promise<TicketDoc> {
	const now = new Date();
	const created: TicketEvent = {
		...base('created', now),
		type: 'created',
		number: await nextNumber(now),
		callerNumber: input.callerNumber.trim(),
		customerIds: input.customerIds,
		...(input.contactName.trim() ? { contactName: input.contactName.trim() } : {}),
		...(input.contactAddress.trim() ? { contactAddress: input.contactAddress.trim() } : {}),
		...(input.callId ? { callId: input.callId } : {}),
		departmentId: CENTER_DEPARTMENT_ID,
		serviceTypeId: input.serviceTypeId,
		contentCategoryId: input.contentCategoryId,
		content: input.content.trim(),
		callbackRequired: input.callbackRequired
	};
	// The finishing event comes a millisecond later, so the canonical order never depends on ids.
	const then = new Date(now.getTime() + 1);
	const finish: TicketEvent =
		input.departmentId === CENTER_DEPARTMENT_ID
			? { ...base('closedAtCenter', then), type: 'closedAtCenter', note: '' }
			: {
					...base('transferred', then),
					type: 'transferred',
					toDepartmentId: input.departmentId,
					flowId: input.flowId,
					note: ''
				};
	return putTicket(buildTicket(`ticket:${uuidv7()}`, [created, finish], CENTER_DEPARTMENT_ID));
}

/** F21: the department records how it handled the ticket and sends it on (or back to the center). */
export async function handleTicket({
	id,
	note,
	nextDepartmentId
}: {
	id: string;
	note: string;
	nextDepartmentId: string | null;
}): Promise<TicketDoc> {
	const current = await getTicket(id);
	if (!current || !session.user) throw new Error('ticket not found');
	const event: TicketEvent = {
		...base('handled', nextEventTime(current.events)),
		type: 'handled',
		departmentId: session.user.departmentId,
		note: note.trim(),
		nextDepartmentId
	};
	return putTicket(buildTicket(id, [...current.events, event], CENTER_DEPARTMENT_ID, current._rev));
}

/** What the caller reported: the content recorded with the ticket. */
export function ticketContent(ticket: TicketDoc): string {
	const created = ticket.events.find((e) => e.type === 'created');
	return created?.type === 'created' ? created.content : '';
}

/** The tickets now at a department (its inbox), oldest first. */
export async function departmentInbox({
	departmentId
}: {
	departmentId: string;
}): Promise<TicketDoc[]> {
	return (await allTickets())
		.filter((t) => t.status === 'atDepartment' && t.departmentId === departmentId)
		.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
}

/** Tickets this user recorded, newest first. */
export async function myTickets(): Promise<TicketDoc[]> {
	const me = session.user?.id;
	return (await allTickets())
		.filter((t) => t.createdBy === me)
		.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/**
 * F17: the earlier tickets of a caller number and of the subscribers linked to the call, as the server finds
 * them — beyond this device's working set. Unreachable, it finds none (the device's own still show).
 */
export async function historyFromServer({
	phone = '',
	customerIds = []
}: {
	phone?: string;
	customerIds?: string[];
}): Promise<HistoryTicket[]> {
	const key = normalizePhone(phone);
	const params = new URLSearchParams();
	if (key.length >= 3) params.set('phone', key);
	for (const id of customerIds) params.append('customerId', id);
	if (!params.has('phone') && !params.has('customerId')) return [];
	return api(`/tickets/history?${params}`, TicketHistory)
		.then((r) => r.tickets)
		.catch(() => []);
}

/** F17: the same, from this device's replica (works offline, and has what is not yet synced). */
export async function historyOnDevice({
	phone,
	customerIds = []
}: {
	phone: string;
	customerIds?: string[];
}): Promise<HistoryTicket[]> {
	const key = normalizePhone(phone);
	if (key.length < 3 && customerIds.length === 0) return [];
	return (await allTickets())
		.filter(
			(t) =>
				(key.length >= 3 && t.callerKey === key) ||
				t.customerIds.some((c) => customerIds.includes(c))
		)
		.map(historyEntry);
}

/** One history of several answers, newest first; of two copies of a ticket the later list's wins. */
export function mergeHistory({ lists }: { lists: HistoryTicket[][] }): HistoryTicket[] {
	const byId = new Map<string, HistoryTicket>();
	for (const list of lists) for (const t of list) byId.set(t._id, t);
	return [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

const RECENT_LIMIT = 20;

/** Tickets the department held and has passed on, most recently changed first (what it handled). */
export async function departmentRecent({
	departmentId
}: {
	departmentId: string;
}): Promise<TicketDoc[]> {
	return (await allTickets())
		.filter(
			(t) =>
				t.visibleTo.includes(departmentId) &&
				!(t.status === 'atDepartment' && t.departmentId === departmentId)
		)
		.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
		.slice(0, RECENT_LIMIT);
}

/** Tickets waiting for their callback (回访), oldest first. */
export async function callbacksDue(): Promise<TicketDoc[]> {
	return (await allTickets())
		.filter((t) => t.status === 'callback')
		.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
}

/** F22: the customer was called back; the ticket closes. */
export async function recordCallback({
	id,
	satisfaction,
	note
}: {
	id: string;
	satisfaction: Satisfaction;
	note: string;
}): Promise<TicketDoc> {
	const current = await getTicket(id);
	if (!current) throw new Error('ticket not found');
	const event: TicketEvent = {
		...base('callback', nextEventTime(current.events)),
		type: 'callback',
		satisfaction,
		note: note.trim()
	};
	return putTicket(buildTicket(id, [...current.events, event], CENTER_DEPARTMENT_ID, current._rev));
}
