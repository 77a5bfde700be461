/**
 * What telephony sends the browser (F16/F25/F30/F31/F32): the agent's state, the screen pop's offer, the
 * wallboard, the call records and statistics, the softphone's SIP identity. The server builds each answer
 * with these schemas (`send`) and the browser reads it with the same (`api`), so the two sides cannot
 * disagree; the ACD's own types are derived from them too.
 */
import * as v from 'valibot';
import { CustomerHit } from '../customers/customer';
import { HistoryTicket } from './tickets';

/** An agent's state (F31): signed out, ready for calls, not ready (with a reason), or in a call's phases. */
export const AGENT_STATES = [
	'signedOut',
	'ready',
	'notReady',
	'ringing',
	'talking',
	'wrapUp'
] as const;
export const AgentStateName = v.picklist(AGENT_STATES);
export type AgentStateName = v.InferOutput<typeof AgentStateName>;

/** The states an agent sets for themself; the others follow from calls. */
export const OWN_AGENT_STATES = ['ready', 'notReady', 'signedOut'] as const;
export type OwnAgentState = (typeof OWN_AGENT_STATES)[number];

/** What the agent's own page shows of their state (the `state` event). */
export const AgentStatus = v.object({
	state: AgentStateName,
	/** Why not ready ('missed', 'rejected', a reason the agent chose …) or why signed out; '' otherwise. */
	reason: v.string(),
	/** Since when (ms since the epoch). */
	since: v.number(),
	/** The call the agent is offered, talking in or wrapping up. */
	callId: v.nullable(v.string())
});
export type AgentStatus = v.InferOutput<typeof AgentStatus>;

/** An agent as the ACD holds them: the answer of `POST /api/telephony/state` and a wallboard row. */
export const Agent = v.object({
	agentId: v.string(),
	userId: v.string(),
	name: v.string(),
	...AgentStatus.entries,
	/** When the agent last became free (ready); the longest idle is offered first. */
	idleSince: v.number(),
	/** The desk phone's extension the ACD rings instead of the browser, or '' (F1 本座位旁话机号). */
	deskPhone: v.string()
});
export type Agent = v.InferOutput<typeof Agent>;

/** #18 F23 what a caller did in the voice menu before reaching the agents. */
export const IvrSummary = v.object({
	/** The queue the caller chose (业务队列), or the menu's fallback queue. */
	queue: v.string(),
	/** The menu nodes the caller went through, root first. */
	path: v.array(v.object({ id: v.string(), title: v.string() })),
	keys: v.array(v.string()),
	/** `tries`: no valid key after the menu's tries, so sent to an agent. */
	reason: v.picklist(['key', 'tries']),
	/** The fault notices (故障公告) the caller heard before the menu, by title. */
	notices: v.optional(v.array(v.string()))
});
export type IvrSummary = v.InferOutput<typeof IvrSummary>;

/** A call waiting for an agent, as the wallboard shows it. */
export const QueuedCallRow = v.object({
	callId: v.string(),
	caller: v.string(),
	waitingMs: v.number(),
	/** #18 the caller came through the voice menu: what they chose there. */
	ivr: v.optional(IvrSummary)
});

/** F31 the team leader's live wallboard. */
export const Wallboard = v.object({
	agents: v.array(Agent),
	queue: v.array(QueuedCallRow),
	longestWaitMs: v.number(),
	/** Today's calls (since local midnight). */
	today: v.object({
		offered: v.number(),
		answered: v.number(),
		abandoned: v.number(),
		/** Share answered within `serviceLevelSeconds`, or null without answered calls. */
		serviceLevel: v.nullable(v.number())
	}),
	serviceLevelSeconds: v.number()
});
export type Wallboard = v.InferOutput<typeof Wallboard>;

export const CALL_OUTCOMES = [
	'queued',
	'ringing',
	'answered',
	'abandoned',
	'timeout',
	'completed',
	'lost'
] as const;

/**
 * A hotline call as the ACD recorded it. Loose: today's records restored after a restart are the stored
 * documents (`cc_calls`), with their id, revision and recording mark.
 */
export const CallRecord = v.looseObject({
	callId: v.string(),
	caller: v.string(),
	hotline: v.string(),
	arrivedAt: v.number(),
	offeredAt: v.nullable(v.number()),
	answeredAt: v.nullable(v.number()),
	endedAt: v.nullable(v.number()),
	agentId: v.nullable(v.string()),
	/**
	 * abandoned (caller hung up first) | timeout (max wait) | completed | lost (the call's transaction
	 * went away with a Kamailio restart before anyone answered)
	 */
	outcome: v.picklist(CALL_OUTCOMES),
	/** Agents offered the call, in order. */
	tried: v.array(v.string())
});
export type CallRecord = v.InferOutput<typeof CallRecord>;

/** `GET /api/telephony/calls`: the live call records (today's). */
export const CallList = v.object({ calls: v.array(CallRecord) });

/** F25 one agent's calls of a period. */
export const AgentCallRow = v.object({
	agentId: v.string(),
	answered: v.number(),
	/** Seconds, rounded to one decimal. */
	avgQueue: v.number(),
	avgTalk: v.number(),
	totalTalk: v.number()
});
export type AgentCallRow = v.InferOutput<typeof AgentCallRow>;

/**
 * #18 how a call in the voice menu ended: put through to an agent (`agent`), handed to the agents but hung up
 * before one answered (`queued`), left a callback request (`callback`), served by the menu itself — heard an
 * announcement or a notice and hung up, or was hung up on after a closing one (`selfService`) — or hung up
 * having heard nothing but the menu (`abandoned`).
 */
export const MENU_OUTCOMES = ['agent', 'queued', 'callback', 'selfService', 'abandoned'] as const;
export type MenuOutcome = (typeof MENU_OUTCOMES)[number];

/** F25 the voice menu's figures of a period. */
export const MenuStats = v.object({
	calls: v.number(),
	/** Handed to the agents (answered or not). */
	toAgents: v.number(),
	selfService: v.number(),
	callbacks: v.number(),
	abandoned: v.number(),
	/** Share of the menu's calls it finished itself (self-service and callbacks), or null without calls. */
	containment: v.nullable(v.number()),
	/** How many calls entered each menu node (by title), most first. */
	nodes: v.array(v.object({ title: v.string(), calls: v.number() }))
});
export type MenuStats = v.InferOutput<typeof MenuStats>;

/** F25 call statistics of a period (`#shared/calls/stats` computes them). */
export const CallStats = v.object({
	offered: v.number(),
	answered: v.number(),
	abandoned: v.number(),
	timeout: v.number(),
	lost: v.number(),
	/** Share of answered calls answered within `serviceLevelSeconds`, or null without answered calls. */
	serviceLevel: v.nullable(v.number()),
	serviceLevelSeconds: v.number(),
	agents: v.array(AgentCallRow),
	/** #18 the voice menu's calls of the period, when there were any. */
	menu: v.optional(MenuStats)
});
export type CallStats = v.InferOutput<typeof CallStats>;

/** A STUN or TURN server for the softphone's WebRTC (an `RTCIceServer`). */
export const IceServer = v.object({
	urls: v.array(v.string()),
	username: v.optional(v.string()),
	credential: v.optional(v.string())
});
export type IceServer = v.InferOutput<typeof IceServer>;

/** F30 the SIP identity the app issues for this sign-in (`POST /api/telephony/credentials`). */
export const PhoneCredentials = v.object({
	/** The agent ID, shown to the called party as the display name. */
	username: v.string(),
	password: v.string(),
	/** `sip:<agent ID>@<domain>` */
	uri: v.string(),
	/** `sip:<domain>` */
	registrar: v.string(),
	/** Kamailio, through which the agent registers and every call goes (seen from Janus). */
	proxy: v.string(),
	/** The app's WebSocket path to Janus (`/janus`). */
	janus: v.string(),
	/** STUN/TURN for browsers behind NAT (TURN_URLS); empty on a LAN. */
	iceServers: v.array(IceServer)
});
export type PhoneCredentials = v.InferOutput<typeof PhoneCredentials>;

/** F16/F17 the screen pop: the call, and what the server found for its caller number. */
export const CallOffer = v.object({
	callId: v.string(),
	caller: v.string(),
	/** The hotline the caller dialled; '' for a caller a colleague transferred here (#17). */
	hotline: v.string(),
	/** #17 a caller a colleague transferred to this agent (after consulting them), not a hotline call. */
	transferred: v.optional(v.boolean()),
	/** #18 F23 the voice menu before the agents: the menus the caller went through, the keys, the queue. */
	ivr: v.optional(IvrSummary),
	/** The subscribers registered under the caller number (exact match). */
	customers: v.array(CustomerHit),
	/** The earlier tickets of the caller number, newest first. */
	history: v.array(HistoryTicket)
});
export type CallOffer = v.InferOutput<typeof CallOffer>;
