/**
 * The server-sent event stream (`GET /events`): every event the server sends a signed-in user's pages, one
 * schema keyed by the event's name. The server builds each event as a `ServerEvent` (its stream writes
 * nothing else) and the browser reads each with `readServerEvent`, so an event of another shape is noticed,
 * not assumed.
 */
import * as v from 'valibot';
import { AgentStatus, CallOffer } from './telephony';

/** Why the server ended the stream's sign-in (sign-out, revoked elsewhere or by an administrator, expiry). */
export const SESSION_ENDS = ['signedOut', 'revoked', 'expired'] as const;

export const ServerEvent = v.variant('event', [
	/** The stream is open for this user. */
	v.object({ event: v.literal('hello'), data: v.object({ user: v.string() }) }),
	/** The sign-in ended: the server closes the stream after this (issue #13). */
	v.object({ event: v.literal('signedOut'), data: v.object({ why: v.picklist(SESSION_ENDS) }) }),
	/** F16 the screen pop: a call is offered to this agent, before the phone rings. */
	v.object({ event: v.literal('offer'), data: CallOffer }),
	/** F31 the agent's own state changed. */
	v.object({ event: v.literal('state'), data: AgentStatus })
]);
export type ServerEvent = v.InferOutput<typeof ServerEvent>;
export type ServerEventName = ServerEvent['event'];

/** Every event name, for listening to each (an EventSource hears only named events it listens to). */
export const SERVER_EVENTS: readonly ServerEventName[] = ServerEvent.options.map(
	(o) => o.entries.event.literal
);

/**
 * One received event: its name and its `data` text, read by the schema. Null when the text is not JSON or
 * the event is not of its name's shape (a server of another version).
 */
export function readServerEvent(event: string, data: string): ServerEvent | null {
	let body: unknown;
	try {
		body = JSON.parse(data);
	} catch {
		return null;
	}
	const parsed = v.safeParse(ServerEvent, { event, data: body });
	return parsed.success ? parsed.output : null;
}
