/**
 * The agent's side of telephony (F15/F16/F30/F31): whether call handling runs, the agent's state, the
 * softphone's SIP identity, and the server's event stream — the screen pop arrives there the moment a call is
 * offered, before the phone rings, with everything the server found for the caller.
 */
import { api, send } from '$lib/api/client';
import { rememberCustomers } from '$lib/data/customers';
import { readServerEvent, SERVER_EVENTS } from '#shared/wire/events';
import {
	Agent,
	CallStats,
	PhoneCredentials,
	Wallboard,
	type AgentStatus,
	type CallOffer,
	type OwnAgentState
} from '#shared/wire/telephony';
import { ServerConfig } from '#shared/wire/config';

export type { AgentStateName, AgentStatus, CallOffer, Wallboard } from '#shared/wire/telephony';

/** The hotlines of this center, and (#18) those whose callers hear the voice menu first. */
export async function hotlines(): Promise<{ all: string[]; voiceMenu: string[] } | null> {
	const config = await api('/config', ServerConfig).catch(() => null);
	return config ? { all: config.hotlines, voiceMenu: config.voiceMenuHotlines } : null;
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
	state: OwnAgentState;
	reason?: string;
	deskPhone?: string;
}): Promise<AgentStatus> {
	return api('/telephony/state', Agent, { method: 'POST', body: { state, reason, deskPhone } });
}

/** F30 the softphone's SIP identity, issued for this sign-in only. */
export function phoneCredentials(): Promise<PhoneCredentials> {
	return api('/telephony/credentials', PhoneCredentials, { method: 'POST', body: {} });
}

/** Tells the server at once that a call of the softphone ended, even if Kamailio's BYE went astray. */
export async function callEnded({ callId }: { callId: string }): Promise<void> {
	await send('/telephony/call-ended', { method: 'POST', body: { callId } }).catch(() => {});
}

/**
 * Follows `/events`; the browser reconnects by itself. Each event is read by its schema
 * (`#shared/wire/events`); one of another shape (a server of another version) is ignored. Returns a function
 * that stops listening.
 */
export function listenToCalls(handlers: {
	offer: (offer: CallOffer) => void;
	state: (status: AgentStatus) => void;
	/** The server ended this sign-in; the stream is closed. */
	signedOut: () => void;
}): () => void {
	const source = new EventSource('/events');
	const receive = (name: string, e: Event) => {
		const received = e instanceof MessageEvent ? readServerEvent(name, String(e.data)) : null;
		switch (received?.event) {
			case 'signedOut':
				source.close();
				return handlers.signedOut();
			case 'offer':
				// The caller's subscribers are recognised offline later, as if looked up here.
				void rememberCustomers({ hits: received.data.customers });
				return handlers.offer(received.data);
			case 'state':
				return handlers.state(received.data);
		}
	};
	for (const name of SERVER_EVENTS) source.addEventListener(name, (e) => receive(name, e));
	return () => source.close();
}

/** F31 the team leader's wallboard; null when telephony does not run. */
export function wallboard(): Promise<Wallboard | null> {
	return api('/telephony/board', Wallboard).catch(() => null);
}

/** F32 the address of a call's recording, or '' when there is none or this user may not listen. */
export async function callRecording({ callId }: { callId: string }): Promise<string> {
	const url = `/api/telephony/recordings/${encodeURIComponent(callId)}`;
	const res = await fetch(url, { method: 'HEAD' }).catch(() => null);
	return res?.ok ? url : '';
}

/** F25 call statistics of a period (center days, `YYYY-MM-DD`). */
export function callStatistics({ from, to }: { from: string; to: string }): Promise<CallStats> {
	return api(`/telephony/stats?${new URLSearchParams({ from, to })}`, CallStats);
}
