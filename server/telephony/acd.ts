/**
 * Automatic call distribution (F15) and agent states (F31). Kamailio suspends every hotline call and asks
 * here; a call goes to the ready agent idle the longest; if that agent does not answer within the offer time
 * Kamailio asks again, the agent becomes not ready ("missed") and the next one is chosen; with nobody free
 * the call waits in this queue, first come first served, until an agent becomes ready or the maximum wait
 * passes (then the configured fallback answer). One agent is never offered two calls at once, and no agent
 * stays ringing past the offer time: when Kamailio says nothing about an offer by then, the agent is made
 * not ready ("missed") and the call recorded as lost. A call ends only by its own parties: a CANCEL from
 * its caller (From tag) or a BYE within its dialog (both tags). Calls outside the distribution — an agent
 * dialling out, a colleague's call, a caller transferred to the agent (#17) — make the agents on them busy
 * ("talking") until they end, and then give them back the state they had.
 */
import type { Agent, AgentStateName, CallRecord, OwnAgentState } from '#shared/wire/telephony';

/** An agent as the ACD holds them: as the wallboard and the agent's page read them (`#shared/wire`). */
export type AgentState = Agent;
export type { AgentStateName };

export interface QueuedCall {
	callId: string;
	/** The caller's From tag, and the answering phone's To tag: the dialog's parties. */
	fromTag: string;
	toTag: string | null;
	caller: string;
	hotline: string;
	tindex: number;
	tlabel: number;
	queuedAt: number;
	/** Agents already offered this call. */
	tried: string[];
	agentId: string | null;
	offeredAt: number | null;
	/**
	 * #16 taken over from another app server (its agent's state mirrored): the dialog's tags are not known
	 * yet, so the first party's event for this Call-ID teaches them.
	 */
	adopted?: boolean;
	/** #18 handed over by the voice menu: the Call-ID of the caller's call with the menu. */
	ivr?: string;
}

/** #16 what an app server taking over call routing learns of each agent: the state and its open call. */
export interface AgentSnapshot extends AgentState {
	/** The record of the call the agent is ringing or talking in, not yet finished. */
	record?: CallRecord | undefined;
}

/** A call as the ACD records it; what the wallboard reads and what `cc_calls` stores. */
export type { CallRecord };

export interface AcdOptions {
	/** Tells Kamailio where a suspended call goes: the number to ring, or a final answer. */
	deliver: (call: QueuedCall, to: { number: string } | { code: number; reason: string }) => void;
	/** The moment an agent is chosen — before the phone rings (F16 screen pop). */
	onOffer: (agent: AgentState, call: QueuedCall) => void | Promise<void>;
	onChange?: () => void;
	/** A call is over: its record is final (to be stored). */
	onFinished?: (record: CallRecord) => void;
	/** Refused or odd events, for the server log. */
	log?: (msg: string) => void;
	maxWaitMs: number;
	wrapUpMs: number;
	/** How long Kamailio rings an agent (ACD_OFFER_SECONDS) before it reports the call unanswered. */
	offerMs: number;
	/** Added to the offer time before the ACD stops waiting for Kamailio's report. */
	offerGraceMs?: number;
	now?: () => number;
}

/** Kamailio's report of an event in a call's dialog, with the tags of the request that made it. */
export interface DialogEvent {
	callid: string;
	ftag: string;
	ttag?: string | undefined;
}

const OFFER_GRACE_MS = 3_000;

export class DeskPhoneTaken extends Error {
	constructor(readonly extension: string) {
		super(`The desk phone ${extension} is already used by another agent`);
	}
}

export function createAcd(options: AcdOptions) {
	const now = options.now ?? Date.now;
	const agents = new Map<string, AgentState>();
	const queue: QueuedCall[] = [];
	const calls = new Map<string, QueuedCall>();
	const records = new Map<string, CallRecord>();
	const wrapUps = new Map<string, ReturnType<typeof setTimeout>>();
	const offerTimers = new Map<string, ReturnType<typeof setTimeout>>();
	/**
	 * #17 calls outside the distribution, by Call-ID and agent: one an agent placed (softphone or desk
	 * phone), a colleague's call ringing them, a caller transferred to them. The agent is busy for the
	 * distribution while one lasts, and goes back to the state they had before it when it ends.
	 */
	const ownCalls = new Map<
		string,
		Map<string, { fromTag: string; before: { state: 'ready' | 'notReady'; reason: string } }>
	>();
	const changed = () => options.onChange?.();
	const log = options.log ?? (() => {});

	function set(
		agent: AgentState,
		state: AgentStateName,
		reason = '',
		callId: string | null = null
	) {
		if (state === 'ready' && agent.state !== 'ready') agent.idleSince = now();
		agent.state = state;
		agent.reason = reason;
		agent.since = now();
		agent.callId = callId;
		const timer = wrapUps.get(agent.agentId);
		if (timer) {
			clearTimeout(timer);
			wrapUps.delete(agent.agentId);
		}
		clearTimeout(offerTimers.get(agent.agentId));
		offerTimers.delete(agent.agentId);
	}

	/**
	 * Kamailio reports every offer within the offer time (answered, or unanswered and asking again); when
	 * it does not — the call never rang, its transaction is gone — the agent must not stay ringing.
	 */
	function watchOffer(agent: AgentState, call: QueuedCall) {
		if (agent.state !== 'ringing' || agent.callId !== call.callId) return;
		const timer = setTimeout(
			() => {
				offerTimers.delete(agent.agentId);
				if (agent.state !== 'ringing' || agent.callId !== call.callId) return;
				log(`ACD: no word from Kamailio on call ${call.callId} offered to ${agent.agentId}`);
				set(agent, 'notReady', 'missed');
				if (calls.get(call.callId) === call) {
					finish(call.callId, 'lost');
					if (call.tindex >= 0) options.deliver(call, { code: 480, reason: 'No agent available' });
				}
				drain();
				changed();
			},
			options.offerMs + (options.offerGraceMs ?? OFFER_GRACE_MS)
		);
		timer.unref?.();
		offerTimers.set(agent.agentId, timer);
	}

	function longestIdle(exclude: string[]): AgentState | null {
		let best: AgentState | null = null;
		for (const a of agents.values()) {
			if (a.state !== 'ready' || exclude.includes(a.agentId)) continue;
			if (!best || a.idleSince < best.idleSince) best = a;
		}
		return best;
	}

	/** Offers the call to the longest-idle ready agent; false when nobody is free. */
	function offer(call: QueuedCall): boolean {
		const agent = longestIdle(call.tried);
		if (!agent) return false;
		set(agent, 'ringing', '', call.callId);
		call.agentId = agent.agentId;
		call.offeredAt = now();
		call.tried.push(agent.agentId);
		const record = records.get(call.callId);
		if (record) {
			record.offeredAt ??= call.offeredAt;
			record.agentId = agent.agentId;
			record.outcome = 'ringing';
			record.tried = [...call.tried];
		}
		// The screen pop goes out first; the phone rings once it is on its way.
		const target = { number: agent.deskPhone || agent.agentId };
		void Promise.resolve()
			.then(() => options.onOffer(agent, call))
			.catch(() => {})
			.finally(() => {
				options.deliver(call, target);
				watchOffer(agent, call);
			});
		return true;
	}

	function enqueue(call: QueuedCall) {
		call.agentId = null;
		call.offeredAt = null;
		const record = records.get(call.callId);
		if (record) record.outcome = 'queued';
		if (!queue.includes(call)) queue.push(call);
	}

	/** Hands waiting calls, oldest first, to agents who became free. */
	function drain() {
		while (queue.length > 0) {
			const call = queue[0]!;
			if (!offer(call)) return;
			queue.shift();
		}
	}

	function finish(callId: string, outcome: CallRecord['outcome']) {
		const call = calls.get(callId);
		const record = records.get(callId);
		if (record && record.endedAt === null) {
			record.endedAt = now();
			record.outcome = record.answeredAt !== null ? 'completed' : outcome;
			options.onFinished?.({ ...record });
		}
		if (!call) return;
		calls.delete(callId);
		const i = queue.indexOf(call);
		if (i >= 0) queue.splice(i, 1);
		if (call.agentId) {
			const agent = agents.get(call.agentId);
			if (agent?.callId === callId) {
				if (agent.state === 'talking') wrapUp(agent);
				else if (agent.state === 'ringing') set(agent, 'ready');
			}
		}
	}

	function wrapUp(agent: AgentState) {
		set(agent, 'wrapUp', '', agent.callId);
		const timer = setTimeout(() => {
			wrapUps.delete(agent.agentId);
			if (agent.state === 'wrapUp') {
				set(agent, 'ready');
				drain();
				changed();
			}
		}, options.wrapUpMs);
		timer.unref?.();
		wrapUps.set(agent.agentId, timer);
	}

	/**
	 * A call outside the distribution reached `agentId` (`reason`: outbound, internal, transfer). Ready, not
	 * ready or in wrap-up, the agent is talking until it ends; an agent on another call of their own takes
	 * this one over with the state from before that one (the transferred caller replacing a consultation);
	 * an agent in a hotline call stays as is.
	 */
	function ownCallStarted(callId: string, fromTag: string, agentId: string, reason: string) {
		const agent = agents.get(agentId);
		const legs = ownCalls.get(callId) ?? new Map();
		if (!agent || legs.has(agentId)) return;
		const current = agent.callId ? ownCalls.get(agent.callId)?.get(agentId) : undefined;
		const before =
			agent.state === 'notReady'
				? { state: 'notReady' as const, reason: agent.reason }
				: agent.state === 'ready' || agent.state === 'wrapUp'
					? { state: 'ready' as const, reason: '' }
					: agent.state === 'talking'
						? current?.before
						: undefined;
		if (!before) return;
		legs.set(agentId, { fromTag, before });
		ownCalls.set(callId, legs);
		set(agent, 'talking', reason, callId);
		changed();
	}

	/**
	 * A call outside the distribution ended (BYE, CANCEL, a final failure, or an agent's browser said so
	 * for `agentId`): its agents go back to the state they had before it.
	 */
	function ownCallEnded(callId: string, agentId?: string) {
		const legs = ownCalls.get(callId);
		if (!legs) return;
		for (const [id, leg] of legs) {
			if (agentId !== undefined && id !== agentId) continue;
			legs.delete(id);
			const agent = agents.get(id);
			if (agent?.callId === callId && agent.state === 'talking') {
				set(agent, leg.before.state, leg.before.reason);
				if (leg.before.state === 'ready') drain();
			}
		}
		if (legs.size === 0) ownCalls.delete(callId);
		changed();
	}

	function snapshotOf(a: AgentState): AgentSnapshot {
		const record = a.callId ? records.get(a.callId) : undefined;
		return { ...a, ...(record && record.endedAt === null ? { record: { ...record } } : {}) };
	}

	const sweeper = setInterval(() => {
		const deadline = now() - options.maxWaitMs;
		for (const call of [...queue]) {
			if (call.queuedAt > deadline) continue;
			queue.splice(queue.indexOf(call), 1);
			calls.delete(call.callId);
			const record = records.get(call.callId);
			if (record) {
				record.outcome = 'timeout';
				record.endedAt = now();
				options.onFinished?.({ ...record });
			}
			options.deliver(call, { code: 480, reason: 'No agent available' });
			changed();
		}
	}, 250);
	sweeper.unref?.();

	const api = {
		/** A signed-in agent's own state change (ready, not ready with a reason, signed out). */
		setAgentState(
			user: { agentId: string; userId: string; name: string },
			state: OwnAgentState,
			reason = '',
			deskPhone?: string
		): AgentState {
			if (deskPhone) {
				// One phone rings for one agent: never an extension that is another agent's number or phone.
				for (const other of agents.values()) {
					if (other.agentId === user.agentId || other.state === 'signedOut') continue;
					if (other.agentId === deskPhone || other.deskPhone === deskPhone) {
						throw new DeskPhoneTaken(deskPhone);
					}
				}
			}
			let agent = agents.get(user.agentId);
			if (!agent) {
				agent = {
					...user,
					state: 'signedOut',
					reason: '',
					since: now(),
					idleSince: now(),
					callId: null,
					deskPhone: ''
				};
				agents.set(user.agentId, agent);
			}
			if (deskPhone !== undefined && agent.state !== 'ringing' && agent.state !== 'talking') {
				agent.deskPhone = deskPhone;
			}
			// Busy agents finish their call first; they cannot be made ready in the middle of one.
			if (state === 'ready' && (agent.state === 'ringing' || agent.state === 'talking')) {
				return agent;
			}
			set(agent, state, reason);
			if (state === 'ready') drain();
			changed();
			return agent;
		},

		/** Kamailio: a new hotline call (transaction suspended). */
		arrived(e: {
			callid: string;
			ftag: string;
			from: string;
			to: string;
			tindex: number;
			tlabel: number;
			/** #16 when it first arrived (ms, Kamailio's clock): a waiting call told again to a new holder. */
			at?: number | undefined;
			ivr?: string | undefined;
		}) {
			const known = calls.get(e.callid);
			if (known) {
				// Told again (#16: Kamailio tells a new app server of every call still waiting): suspended anew
				// since, when its transaction changed — an offer that ended unanswered while nobody listened.
				// Only Kamailio's retelling (`at`) of the same caller's call; another INVITE reusing the
				// Call-ID replaces nothing.
				const retold =
					e.at !== undefined &&
					(known.fromTag === '' || known.fromTag === e.ftag) &&
					(known.tindex !== e.tindex || known.tlabel !== e.tlabel);
				if (!retold) {
					log(`ACD: call ${e.callid} arrived twice; the second is ignored`);
					return;
				}
				known.tindex = e.tindex;
				known.tlabel = e.tlabel;
				if (known.fromTag === '') known.fromTag = e.ftag;
				if (queue.includes(known)) return;
				const missed = known.agentId ? agents.get(known.agentId) : undefined;
				if (missed?.callId === known.callId) set(missed, 'notReady', 'missed');
				if (!offer(known)) enqueue(known);
				changed();
				return;
			}
			const arrivedAt = Math.min(now(), Math.max(e.at ?? now(), now() - options.maxWaitMs));
			const call: QueuedCall = {
				callId: e.callid,
				fromTag: e.ftag,
				toTag: null,
				caller: e.from,
				hotline: e.to,
				tindex: e.tindex,
				tlabel: e.tlabel,
				queuedAt: arrivedAt,
				tried: [],
				agentId: null,
				offeredAt: null,
				...(e.ivr ? { ivr: e.ivr } : {})
			};
			calls.set(call.callId, call);
			// The live records cover today (the wallboard); older ones are in the store.
			const old = now() - 26 * 3_600_000;
			for (const [id, r] of records) {
				if (r.arrivedAt < old && r.endedAt !== null) records.delete(id);
			}
			records.set(call.callId, {
				callId: call.callId,
				caller: call.caller,
				hotline: call.hotline,
				arrivedAt: call.queuedAt,
				offeredAt: null,
				answeredAt: null,
				endedAt: null,
				agentId: null,
				outcome: 'queued',
				tried: []
			});
			if (!offer(call)) enqueue(call);
			changed();
		},

		/** Kamailio: the offered agent did not answer (timeout, busy, rejected); suspended again. */
		unanswered(e: {
			callid: string;
			tindex: number;
			tlabel: number;
			status: number;
			/** #16 the call's parties, so that a call this server never heard of is taken on. */
			ftag?: string | undefined;
			from?: string | undefined;
			to?: string | undefined;
		}) {
			const call = calls.get(e.callid);
			if (!call) {
				if (e.ftag !== undefined && e.from !== undefined && e.to !== undefined) {
					api.arrived({ ...e, ftag: e.ftag, from: e.from, to: e.to });
				}
				return;
			}
			call.tindex = e.tindex;
			call.tlabel = e.tlabel;
			const missed = call.agentId ? agents.get(call.agentId) : undefined;
			// 603 Decline: the agent pressed 拒接; anything else (timeout, busy, gone): missed.
			if (missed?.callId === call.callId) {
				set(missed, 'notReady', e.status === 603 ? 'rejected' : 'missed');
			}
			if (!offer(call)) enqueue(call);
			changed();
		},

		/** Kamailio: the offered agent's phone answered (its 200 carries the callee's To tag). */
		answered(e: DialogEvent) {
			const call = calls.get(e.callid);
			if (call?.adopted && call.fromTag === '') call.fromTag = e.ftag;
			if (!call || call.fromTag !== e.ftag || !e.ttag) {
				log(`ACD: "answered" for ${e.callid} matches no call; ignored`);
				return;
			}
			call.toTag = e.ttag;
			const record = records.get(e.callid);
			if (record) {
				record.answeredAt = now();
				record.outcome = 'answered';
			}
			const agent = call.agentId ? agents.get(call.agentId) : undefined;
			if (agent) set(agent, 'talking', '', e.callid);
			changed();
		},

		/**
		 * The call ended: the caller's CANCEL (its From tag) while queued or ringing, or a BYE of either party
		 * within the answered call (both tags, in either direction). Anything else ends nothing.
		 */
		ended(e: DialogEvent & { cancelled: boolean }) {
			const call = calls.get(e.callid);
			if (!call) {
				// A call outside the distribution: ended by either party (their tags either way round), or
				// cancelled.
				const legs = [...(ownCalls.get(e.callid)?.values() ?? [])];
				// A leg taken over from another app server (#16) knows no tags: '' takes Kamailio's word.
				const party = (l: { fromTag: string }) =>
					l.fromTag === '' || e.ftag === l.fromTag || e.ttag === l.fromTag;
				if (legs.some(party)) ownCallEnded(e.callid);
				return;
			}
			// A call taken over (#16) whose tags are not known yet: Kamailio's word for its Call-ID is enough.
			const party =
				call.adopted && call.fromTag === ''
					? true
					: e.cancelled
						? call.toTag === null && e.ftag === call.fromTag
						: call.toTag !== null &&
							((e.ftag === call.fromTag && e.ttag === call.toTag) ||
								(e.ftag === call.toTag && e.ttag === call.fromTag));
			if (!party) {
				log(`ACD: "ended" for ${e.callid} not from a party of that call; ignored`);
				return;
			}
			finish(e.callid, e.cancelled ? 'abandoned' : 'completed');
			drain();
			changed();
		},

		/**
		 * The agent's own phone says its call ended (the browser knows even when Kamailio's BYE went
		 * astray): the call is over for the ACD, the agent goes to wrap-up.
		 */
		agentHungUp(agentId: string, callId: string) {
			if (ownCalls.get(callId)?.has(agentId)) {
				ownCallEnded(callId, agentId);
				return;
			}
			const agent = agents.get(agentId);
			if (agent?.callId !== callId || agent.state !== 'talking') return;
			finish(callId, 'completed');
			drain();
			changed();
		},

		/**
		 * Kamailio: an agent dialled out (softphone or desk phone). Ready or not ready, the agent is talking
		 * until it ends — no hotline call is offered meanwhile; an agent already in a call stays as is.
		 */
		outboundStarted(e: { callid: string; ftag: string; agent: string }) {
			ownCallStarted(e.callid, e.ftag, e.agent, 'outbound');
		},

		/**
		 * #17 Kamailio: a call outside the distribution rings an agent — a colleague's (`internal`, e.g. a
		 * consultation) or the carrier following a transfer to them (`transfer`).
		 */
		agentCalled(e: { callid: string; ftag: string; agent: string; kind: 'internal' | 'transfer' }) {
			ownCallStarted(e.callid, e.ftag, e.agent, e.kind);
		},

		/** Kamailio: such a call failed before it was answered (busy, no answer, refused). */
		outboundFailed(e: { callid: string }) {
			ownCallEnded(e.callid);
		},

		/**
		 * Kamailio went away (restart, crash): the suspended and ringing calls' transactions went with it.
		 * Calls already answered go on between the phones and end through the new Kamailio.
		 */
		lost() {
			for (const call of [...calls.values()]) {
				const record = records.get(call.callId);
				if (record?.answeredAt !== null && record?.answeredAt !== undefined) continue;
				finish(call.callId, 'lost');
			}
			changed();
		},

		/**
		 * #16 what another app server taking over call routing needs: every agent, and the record of the
		 * call each is ringing or talking in.
		 */
		snapshot(): AgentSnapshot[] {
			return [...agents.values()].map(snapshotOf);
		},
		snapshotOf,

		/**
		 * #16 taking call routing over from an app server that died: its agents keep their state (signed in,
		 * ready, not ready …); a call one was ringing or talking in is taken on without its dialog's tags
		 * (Kamailio's next word for it decides), and a call ringing past the offer time is handled as any.
		 * Agents this server already knows (they changed their state here meanwhile) keep what they have.
		 */
		adopt(snapshots: AgentSnapshot[]) {
			for (const { record, ...a } of snapshots) {
				if (agents.has(a.agentId)) continue;
				const agent: AgentState = { ...a };
				agents.set(agent.agentId, agent);
				const busy = agent.state === 'ringing' || agent.state === 'talking';
				if (busy && agent.callId && record && !calls.has(agent.callId)) {
					const call: QueuedCall = {
						callId: agent.callId,
						fromTag: '',
						toTag: agent.state === 'talking' ? '' : null,
						caller: record.caller,
						hotline: record.hotline,
						tindex: -1,
						tlabel: -1,
						queuedAt: record.arrivedAt,
						tried: [...record.tried],
						agentId: agent.agentId,
						offeredAt: record.offeredAt,
						adopted: true
					};
					calls.set(call.callId, call);
					records.set(call.callId, { ...record });
					if (agent.state === 'ringing') watchOffer(agent, call);
				} else if (busy && agent.callId && agent.state === 'talking') {
					// A call of their own (dialled out, a colleague's, transferred to them).
					const legs = ownCalls.get(agent.callId) ?? new Map();
					legs.set(agent.agentId, { fromTag: '', before: { state: 'ready', reason: '' } });
					ownCalls.set(agent.callId, legs);
				} else if (busy) {
					set(agent, 'notReady', 'missed');
				} else if (agent.state === 'wrapUp') {
					wrapUp(agent);
				}
			}
			drain();
			changed();
		},

		/** Records stored before a restart (today's), so the wallboard's figures go on. */
		restore(stored: CallRecord[]) {
			for (const r of stored) if (!records.has(r.callId)) records.set(r.callId, r);
		},

		agents: () => [...agents.values()],
		queue: () => [...queue],
		records: () => [...records.values()],
		agent: (agentId: string) => agents.get(agentId) ?? null,
		stop() {
			clearInterval(sweeper);
			for (const t of wrapUps.values()) clearTimeout(t);
			for (const t of offerTimers.values()) clearTimeout(t);
		}
	};
	return api;
}
export type Acd = ReturnType<typeof createAcd>;
