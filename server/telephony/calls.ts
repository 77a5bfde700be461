/**
 * Call handling on top of the running Kamailio: the evapi link carries Kamailio's call events into the ACD
 * and its decisions back; the moment an agent is chosen, the agent's pages get the screen pop (F16/F17) —
 * caller number, matching subscribers and their ticket history — before the phone rings.
 */
import { normalizePhone } from '#shared/phone';
import type { TicketDoc } from '#shared/tickets/ticket';
import type { Store } from '../store';
import type { CustomerIndex } from '../services/customer-index';
import type { EventHub } from '../services/events';
import { createAcd, type AgentState, type QueuedCall } from './acd';
import { connectEvapi } from './evapi';

const HISTORY_LIMIT = 20;

export interface CallHandlingOptions {
	evapiPort: number;
	sipDomain: string;
	maxWaitMs: number;
	wrapUpMs: number;
	store: Store;
	customers: CustomerIndex;
	hub: EventHub;
	log: (msg: string) => void;
	/** How long an agent may have no page open before being signed out. */
	agentGoneMs: number;
}

export function startCallHandling(o: CallHandlingOptions) {
	async function screenPop(agent: AgentState, call: QueuedCall) {
		const phone = normalizePhone(call.caller);
		const customers =
			phone.length >= 5
				? o.customers.search({ q: phone, field: 'phone', match: 'exact', source: 'all', limit: 10 })
						.hits
				: [];
		const history =
			phone.length >= 3
				? (
						await o.store.db<TicketDoc>('tickets').view('app', 'tickets_by_caller', {
							key: phone,
							include_docs: true,
							limit: HISTORY_LIMIT
						})
					).rows
						.flatMap((r) => (r.doc ? [r.doc] : []))
						.sort((a, b) => b.createdAt.localeCompare(a.createdAt))
						.map(({ _id, number, status, serviceTypeId, createdAt, events }) => ({
							_id,
							number,
							status,
							serviceTypeId,
							createdAt,
							events
						}))
				: [];
		o.hub.send(agent.userId, {
			event: 'offer',
			data: { callId: call.callId, caller: call.caller, hotline: call.hotline, customers, history }
		});
	}

	const acd = createAcd({
		maxWaitMs: o.maxWaitMs,
		wrapUpMs: o.wrapUpMs,
		onOffer: screenPop,
		onChange: () => {
			for (const a of acd.agents()) {
				o.hub.send(a.userId, {
					event: 'state',
					data: { state: a.state, reason: a.reason, since: a.since, callId: a.callId }
				});
			}
		},
		deliver: (call, to) =>
			evapi.send({
				tindex: call.tindex,
				tlabel: call.tlabel,
				agent: 'number' in to ? `sip:${to.number}@${o.sipDomain}` : 'none'
			})
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
		(msg) => {
			const callid = String(msg.callid ?? '');
			switch (msg.event) {
				case 'offer':
					acd.arrived({
						callid,
						from: String(msg.from ?? ''),
						to: String(msg.to ?? ''),
						tindex: Number(msg.tindex),
						tlabel: Number(msg.tlabel)
					});
					break;
				case 'retry':
					acd.unanswered({
						callid,
						tindex: Number(msg.tindex),
						tlabel: Number(msg.tlabel),
						status: Number(msg.status)
					});
					break;
				case 'answered':
					acd.answered(callid);
					break;
				case 'ended':
					acd.ended(callid, msg.cancelled === true);
					break;
				default:
					o.log(`evapi: unknown event ${JSON.stringify(msg)}`);
			}
		},
		o.log,
		() => acd.lost()
	);

	return {
		acd,
		connected: () => evapi.connected(),
		stop() {
			stopPresence();
			for (const t of gone.values()) clearTimeout(t);
			acd.stop();
			evapi.close();
		}
	};
}
export type CallHandling = ReturnType<typeof startCallHandling>;
