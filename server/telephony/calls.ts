/**
 * Call handling on top of the running Kamailio: the evapi link carries Kamailio's call events into the ACD
 * and its decisions back; the moment an agent is chosen, the agent's pages get the screen pop (F16/F17) —
 * caller number, matching subscribers and their ticket history — before the phone rings.
 */
import { normalizePhone } from '#shared/phone';
import type { IvrSummary } from '#shared/wire/telephony';
import type { CustomerIndex } from '../services/customer-index';
import type { EventHub, ServerEvent } from '../services/events';
import type { TicketReads } from '../services/tickets';
import {
	createAcd,
	type AgentSnapshot,
	type AgentState,
	type CallRecord,
	type QueuedCall
} from './acd';
import type { CallRecords } from './call-records';
import { connectEvapi } from './evapi';

const HISTORY_LIMIT = 20;

export interface CallHandlingOptions {
	evapiPort: number;
	/** Where Kamailio's evapi listens (loopback, or #16 the shared telephony's address). */
	evapiHost?: string;
	/** The key of this start: the app's proof to Kamailio's evapi socket. */
	evapiKey: string;
	sipDomain: string;
	maxWaitMs: number;
	wrapUpMs: number;
	offerMs: number;
	/** Where finished calls are stored (and today's are read back from after a restart). */
	callRecords: CallRecords;
	/** The caller's earlier tickets, for the screen pop. */
	tickets: Pick<TicketReads, 'history'>;
	customers: CustomerIndex;
	/** Users' open pages: this server's, or (#16) every app server's (`cluster.ts`). */
	hub: Pick<EventHub, 'send' | 'connected' | 'onPresence' | 'onSubscribe'>;
	/** #16 agents whose state changed, for the other app servers' mirror. */
	onAgents?: (changed: AgentSnapshot[]) => void;
	/** #16 a finished call's record before it is stored, and once it is (the others keep it meanwhile). */
	onRecord?: (record: CallRecord, stored: boolean) => void;
	log: (msg: string) => void;
	/** How long an agent may have no page open before being signed out. */
	agentGoneMs: number;
	/** #18 what the caller did in the voice menu, by the menu call's Call-ID (for the screen pop). */
	ivr?: (menuCallId: string) => IvrSummary | undefined;
}

/** #18 the voice menu's part of a screen pop: the nodes the caller went through, the keys, the queue chosen. */
export type { IvrSummary };

export function startCallHandling(o: CallHandlingOptions) {
	async function storeCall(record: CallRecord): Promise<void> {
		o.onRecord?.(record, false);
		try {
			await o.callRecords.save(record);
			o.onRecord?.(record, true);
		} catch (err) {
			o.log(`call record ${record.callId} not stored: ${(err as Error).message}`);
		}
	}

	/** Today's stored calls back into the wallboard's figures (after a restart). */
	async function restoreToday() {
		acd.restore(await o.callRecords.today());
	}

	async function screenPop(
		agent: Pick<AgentState, 'userId'>,
		call: Pick<QueuedCall, 'callId' | 'caller' | 'hotline' | 'ivr'>,
		transferred = false
	) {
		const ivr = call.ivr ? o.ivr?.(call.ivr) : undefined;
		const phone = normalizePhone(call.caller);
		const customers =
			phone.length >= 5
				? o.customers.search({ q: phone, field: 'phone', match: 'exact', source: 'all', limit: 10 })
						.hits
				: [];
		const history =
			phone.length >= 3 ? await o.tickets.history({ phone, limit: HISTORY_LIMIT }) : [];
		o.hub.send(agent.userId, {
			event: 'offer',
			data: {
				callId: call.callId,
				caller: call.caller,
				hotline: call.hotline,
				...(transferred ? { transferred } : {}),
				...(ivr ? { ivr } : {}),
				customers,
				history
			}
		});
	}

	const stateOf = (a: AgentState): ServerEvent => ({
		event: 'state',
		data: { state: a.state, reason: a.reason, since: a.since, callId: a.callId }
	});
	/** What each agent's pages were last told of their state (by agent ID). */
	const told = new Map<string, string>();

	const acd = createAcd({
		onFinished: (record) => void storeCall(record),
		maxWaitMs: o.maxWaitMs,
		wrapUpMs: o.wrapUpMs,
		offerMs: o.offerMs,
		log: o.log,
		onOffer: screenPop,
		// Only agents whose state changed are told (#15: every change told every agent, 300 of them, about
		// 50 changes a second at 10 calls a second); a page that connects is told at once (below).
		onChange: () => {
			const changed: AgentSnapshot[] = [];
			for (const a of acd.agents()) {
				const event = stateOf(a);
				const text = JSON.stringify(event.data);
				if (told.get(a.agentId) === text) continue;
				told.set(a.agentId, text);
				o.hub.send(a.userId, event);
				if (o.onAgents) changed.push(acd.snapshotOf(a));
			}
			if (changed.length > 0) o.onAgents?.(changed);
		},
		deliver: (call, to) =>
			evapi.send({
				tindex: call.tindex,
				tlabel: call.tlabel,
				agent: 'number' in to ? `sip:${to.number}@${o.sipDomain}` : 'none'
			})
	});

	const stopGreeting = o.hub.onSubscribe((userId, send) => {
		const agent = acd.agents().find((a) => a.userId === userId);
		if (agent) send(stateOf(agent));
	});

	// An agent whose pages are all gone (browser closed, network lost) is signed out after a grace period
	// that covers a reload, so the ACD never keeps offering calls to nobody.
	const gone = new Map<string, ReturnType<typeof setTimeout>>();
	const stopPresence = o.hub.onPresence((userId, online) => {
		clearTimeout(gone.get(userId));
		gone.delete(userId);
		if (online) return;
		const timer = setTimeout(() => {
			gone.delete(userId);
			const agent = acd.agents().find((a) => a.userId === userId);
			if (!agent || agent.state === 'signedOut' || o.hub.connected(userId)) return;
			acd.setAgentState(agent, 'signedOut', 'disconnected');
			o.log(`agent ${agent.agentId} signed out: no page open for ${o.agentGoneMs} ms`);
		}, o.agentGoneMs);
		timer.unref?.();
		gone.set(userId, timer);
	});

	const evapi = connectEvapi(
		o.evapiPort,
		o.evapiKey,
		o.evapiHost ?? '127.0.0.1',
		(e) => {
			switch (e.event) {
				case 'offer':
					return acd.arrived({ ...e, at: e.at === undefined ? undefined : e.at * 1000 });
				case 'retry':
					return acd.unanswered(e);
				case 'answered':
					return acd.answered(e);
				case 'ended':
					return acd.ended(e);
				case 'outbound':
					return acd.outboundStarted(e);
				case 'agentCalled': {
					acd.agentCalled(e);
					// #17 a caller transferred here pops up like a hotline call: caller, subscribers, history.
					const agent = acd.agent(e.agent);
					if (e.kind !== 'transfer' || !agent) return;
					void screenPop(agent, { callId: e.callid, caller: e.from, hotline: '' }, true).catch(
						(err: unknown) => o.log(`screen pop for ${e.callid}: ${(err as Error).message}`)
					);
					return;
				}
				case 'outboundFailed':
					return acd.outboundFailed(e);
			}
		},
		o.log,
		() => acd.lost()
	);

	void restoreToday().catch((err: unknown) =>
		o.log(`today's call records not restored: ${(err as Error).message}`)
	);

	return {
		acd,
		/** Stores a finished call's record (#16: one the server before this one may not have stored). */
		store: storeCall,
		/** Marks a stored call as having a recording to play (F32). */
		async recorded(callId: string) {
			for (let attempt = 0; attempt < 5; attempt++) {
				const record = acd.records().find((r) => r.callId === callId);
				// The recording may be ready before the call's record is stored: try again shortly.
				if (record && (await o.callRecords.markRecorded(record))) return;
				await new Promise((r) => setTimeout(r, 200));
			}
		},
		connected: () => evapi.connected(),
		/** Whether Kamailio's event link is up and authenticated right now. */
		linked: () => evapi.linked(),
		stop() {
			stopPresence();
			stopGreeting();
			for (const t of gone.values()) clearTimeout(t);
			acd.stop();
			evapi.close();
		}
	};
}
export type CallHandling = ReturnType<typeof startCallHandling>;
