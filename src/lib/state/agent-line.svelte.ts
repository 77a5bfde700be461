/**
 * The agent's line for the whole signed-in visit, not for one page: the `/events` stream (screen pop and the
 * agent's state, F16/F31) and the softphone (F30) live here, so a call survives moving between the app's
 * pages. The screen pop's offer is carried here once — the entry form renders it; the address holds only
 * the call's id. Started by the layout for users with an agent ID and `call.take` while telephony runs;
 * reaches the server only through `data/`.
 */
import {
	callEnded,
	listenToCalls,
	phoneCredentials,
	setAgentState,
	telephonyRunning,
	type AgentStatus,
	type CallOffer
} from '$lib/data/telephony';
import { sessionEndedByServer } from '$lib/data/session';
import { createJanusSession } from '$lib/phone/janus-session';
import { Softphone } from '$lib/phone/softphone.svelte';

const SIGNED_OUT: AgentStatus = { state: 'signedOut', reason: '', since: 0, callId: null };

class AgentLine {
	/** Whether the server said if telephony runs ('unknown' until it answered, for this sign-in). */
	telephony = $state<'unknown' | 'off' | 'running'>('unknown');
	/** Telephony runs and this user takes calls. */
	get active() {
		return this.telephony === 'running';
	}
	status = $state<AgentStatus>({ ...SIGNED_OUT });
	/** The latest screen pop: the call offered to this agent and what the server found for its caller. */
	offer = $state<CallOffer | null>(null);
	/** The desk phone named at sign-in, or '' when the browser is the phone. */
	deskPhone = $state('');
	readonly softphone = new Softphone({
		transport: createJanusSession(),
		credentials: phoneCredentials
	});
	#userId = '';
	#unlisten: (() => void) | null = null;

	constructor() {
		// The server learns at once when a call ends in the browser, even if Kamailio's BYE went astray.
		this.softphone.onEnded = (callId) => void callEnded({ callId });
	}

	/** The screen pop of this call, when this visit received it (null after a reload). */
	offerFor(callId: string | null | undefined): CallOffer | null {
		return callId && this.offer?.callId === callId ? this.offer : null;
	}

	async start({
		userId,
		deskPhone,
		onOffer
	}: {
		userId: string;
		deskPhone: string;
		onOffer: (offer: CallOffer) => void;
	}) {
		if (this.#userId === userId && this.deskPhone === deskPhone) return;
		this.stop();
		this.#userId = userId;
		this.deskPhone = deskPhone;
		const running = await telephonyRunning();
		if (this.#userId !== userId) return;
		this.telephony = running ? 'running' : 'off';
		if (!running) return;
		this.#unlisten = listenToCalls({
			offer: (o) => {
				this.offer = o;
				onOffer(o);
			},
			state: (s) => (this.status = s),
			signedOut: () => {
				this.stop();
				void sessionEndedByServer();
			}
		});
		if (!deskPhone) void this.softphone.start();
	}

	async change(state: 'ready' | 'notReady', reason = '') {
		this.status = await setAgentState({
			state,
			reason: state === 'notReady' ? reason : '',
			deskPhone: this.deskPhone
		});
	}

	stop() {
		this.#unlisten?.();
		this.#unlisten = null;
		this.softphone.stop();
		this.#userId = '';
		this.telephony = 'unknown';
		this.offer = null;
		this.status = { ...SIGNED_OUT };
	}
}

export const agentLine = new AgentLine();
