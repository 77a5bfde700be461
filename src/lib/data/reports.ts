/**
 * 业务管理 and 统计 (F22, F25) read from the server: they span every ticket in a date range, beyond what
 * one device holds. A single ticket opens from this device's replica when it is there, else from the server.
 */
import { api } from '$lib/api/client';
import { getTicket } from '$lib/replication/tickets-db';
import type { TicketDoc } from '#shared/tickets/ticket';
import type { StatDimension, StatRow, TicketSummary } from '#shared/tickets/report';
import { TicketAnswer, TicketList, TicketStats } from '#shared/wire/tickets';

export type { StatDimension, StatRow, TicketStats, TicketSummary };

export interface TicketFilters {
	from: string;
	to: string;
	status: string;
	departmentId: string;
	serviceTypeId: string;
	contentCategoryId: string;
	agent: string;
	overdue: boolean;
}

function params(f: TicketFilters, extra: Record<string, string> = {}) {
	const p = new URLSearchParams(extra);
	for (const [k, v] of Object.entries(f)) {
		if (k === 'overdue') {
			if (v) p.set('overdue', '1');
		} else if (k === 'agent') {
			if (v) p.set('agent', String(v).startsWith('user:') ? String(v) : `user:${String(v).trim()}`);
		} else if (v) p.set(k, String(v));
	}
	return p;
}

export function listTickets(f: TicketFilters) {
	return api(`/tickets/list?${params(f)}`, TicketList);
}

export function ticketStats({ filters: f, by }: { filters: TicketFilters; by: StatDimension }) {
	return api(`/tickets/stats?${params(f, { by })}`, TicketStats);
}

export async function openTicket({ id }: { id: string }): Promise<TicketDoc> {
	return (await getTicket(id)) ?? (await api(`/tickets/${encodeURIComponent(id)}`, TicketAnswer));
}

/** Today in the center's time zone (UTC+8), and n days before it, as YYYY-MM-DD. */
export function centerDay({ offsetDays = 0 }: { offsetDays?: number } = {}): string {
	return new Date(Date.now() + 8 * 3_600_000 + offsetDays * 86_400_000).toISOString().slice(0, 10);
}
