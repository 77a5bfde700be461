/**
 * The agent's side of telephony (F15/F16/F30/F31): whether call handling runs, the agent's state, the
 * softphone's SIP identity, and the server's event stream — the screen pop arrives there the moment a call is
 * offered, before the phone rings, with everything the server found for the caller.
 */
import { api, untypedApi } from '$lib/api/client';
import { rememberCustomers, type CustomerHit } from '$lib/data/customers';
import type { HistoryTicket } from '$lib/data/tickets';
import type { PhoneCredentials } from '$lib/phone/types';
import type { CallStats } from '#shared/calls/stats';
import { ServerConfig } from '#shared/wire/config';

export type AgentStateName = 'signedOut' | 'ready' | 'notReady' | 'ringing' | 'talking' | 'wrapUp';

export interface AgentStatus {
	state: AgentStateName;
	reason: string;
	since: number;
	callId: string | null;
}

/** F16/F17 the screen pop: the call, and what the server found for its caller number. */
export interface CallOffer {
	callId: string;
	caller: string;
	hotline: string;
	/** The subscribers registered under the caller number (exact match). */
	customers: CustomerHit[];
	/** The earlier tickets of the caller number, newest first. */
	history: HistoryTicket[];
}

export async function telephonyRunning(): Promise<boolean> {
	const config = await api('/config', ServerConfig).catch(() => null);
	return config?.telephony === 'running';
}

/** The agent's own state; `deskPhone` = the extension the ACD rings instead of the browser. */
export function setAgentState({
	state,
	reason = '',
	deskPhone = ''
}: {
	state: 'ready' | 'notReady' | 'signedOut';
	reason?: string;
	deskPhone?: string;
}): Promise<AgentStatus> {
	return untypedApi<AgentStatus>('/telephony/state', {
		method: 'POST',
		body: { state, reason, deskPhone }
	});
}

/** F30 the softphone's SIP identity, issued for this sign-in only. */
export function phoneCredentials(): Promise<PhoneCredentials> {
	return untypedApi<PhoneCredentials>('/telephony/credentials', { method: 'POST', body: {} });
}

/** Tells the server at once that a call of the softphone ended, even if Kamailio's BYE went astray. */
export async function callEnded({ callId }: { callId: string }): Promise<void> {
	await untypedApi('/telephony/call-ended', { method: 'POST', body: { callId } }).catch(() => {});
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
	source.addEventListener('offer', (e) => {
		const offer = JSON.parse((e as MessageEvent<string>).data) as CallOffer;
		// The caller's subscribers are recognised offline later, as if looked up here.
		void rememberCustomers({ hits: offer.customers });
		handlers.offer(offer);
	});
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
	return untypedApi<Wallboard>('/telephony/board').catch(() => null);
}

/** F32 the address of a call's recording, or '' when there is none or this user may not listen. */
export async function callRecording({ callId }: { callId: string }): Promise<string> {
	const url = `/api/telephony/recordings/${encodeURIComponent(callId)}`;
	const res = await fetch(url, { method: 'HEAD' }).catch(() => null);
	return res?.ok ? url : '';
}

/** F25 call statistics of a period (center days, `YYYY-MM-DD`). */
export function callStatistics({ from, to }: { from: string; to: string }): Promise<CallStats> {
	return untypedApi<CallStats>(`/telephony/stats?${new URLSearchParams({ from, to })}`);
}
