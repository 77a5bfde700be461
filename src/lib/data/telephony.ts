/**
 * The agent's side of telephony (F15/F16/F31): whether call handling runs, the agent's state, and the
 * server's event stream — the screen pop arrives there the moment a call is offered, before the phone rings.
 */
import { api } from '$lib/api/client';
import type { CustomerHit } from '$lib/data/customers';
import type { HistoryTicket } from '$lib/data/tickets';
import type { CallStats } from '#shared/calls/stats';

export type AgentStateName = 'signedOut' | 'ready' | 'notReady' | 'ringing' | 'talking' | 'wrapUp';

export interface AgentStatus {
	state: AgentStateName;
	reason: string;
	since: number;
	callId: string | null;
}

export interface CallOffer {
	callId: string;
	caller: string;
	hotline: string;
	customers: CustomerHit[];
	history: HistoryTicket[];
}

export async function telephonyRunning(): Promise<boolean> {
	const config = await api<{ telephony: string }>('/config').catch(() => null);
	return config?.telephony === 'running';
}

/** The agent's own state; `deskPhone` = the extension the ACD rings instead of the browser. */
export function setAgentState(
	state: 'ready' | 'notReady' | 'signedOut',
	reason = '',
	deskPhone = ''
) {
	return api<AgentStatus>('/telephony/state', {
		method: 'POST',
		body: { state, reason, deskPhone }
	});
}

/** Follows `/events`; the browser reconnects by itself. Returns a function that stops listening. */
export function listenToCalls(handlers: {
	offer: (offer: CallOffer) => void;
	state: (status: AgentStatus) => void;
	/** The server ended this sign-in; the stream is closed. */
	signedOut: () => void;
}): () => void {
	const source = new EventSource('/events');
	source.addEventListener('signedOut', () => {
		source.close();
		handlers.signedOut();
	});
	source.addEventListener('offer', (e) =>
		handlers.offer(JSON.parse((e as MessageEvent<string>).data))
	);
	source.addEventListener('state', (e) =>
		handlers.state(JSON.parse((e as MessageEvent<string>).data))
	);
	return () => source.close();
}

export interface Wallboard {
	agents: { agentId: string; name: string; state: AgentStateName; reason: string; since: number }[];
	queue: { callId: string; caller: string; waitingMs: number }[];
	longestWaitMs: number;
	today: { offered: number; answered: number; abandoned: number; serviceLevel: number | null };
	serviceLevelSeconds: number;
}

/** F31 the team leader's wallboard; null when telephony does not run. */
export function wallboard(): Promise<Wallboard | null> {
	return api<Wallboard>('/telephony/board').catch(() => null);
}

/** F25 call statistics of a period (center days, `YYYY-MM-DD`). */
export function callStatistics(from: string, to: string): Promise<CallStats> {
	return api<CallStats>(`/telephony/stats?${new URLSearchParams({ from, to })}`);
}
