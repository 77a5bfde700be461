/**
 * The server-sent event stream (`/events`): what the server tells a signed-in user's open pages at once —
 * the screen pop of a call being offered (F16), the agent's own state (F31). One user may have several pages.
 * Every event is a `ServerEvent` (`#shared/wire/events`), the schema the browser reads it with.
 */
import type { ServerEvent } from '#shared/wire/events';

export type { ServerEvent };

type Listener = (e: ServerEvent) => void;

/** Told when a user's first page connects (true) and when the last one goes away (false). */
type PresenceListener = (userId: string, online: boolean) => void;
/** Told of every page that connects, with a way to send to that page alone (what it must know at once). */
type Greeter = (userId: string, send: Listener) => void;

export function createEventHub() {
	const listeners = new Map<string, Set<Listener>>();
	const presence = new Set<PresenceListener>();
	const greeters = new Set<Greeter>();
	return {
		subscribe(userId: string, listener: Listener): () => void {
			let set = listeners.get(userId);
			if (!set) listeners.set(userId, (set = new Set()));
			set.add(listener);
			if (set.size === 1) for (const p of presence) p(userId, true);
			for (const g of greeters) g(userId, listener);
			return () => {
				set.delete(listener);
				if (set.size === 0 && listeners.get(userId) === set) {
					listeners.delete(userId);
					for (const p of presence) p(userId, false);
				}
			};
		},
		onPresence(listener: PresenceListener): () => void {
			presence.add(listener);
			return () => presence.delete(listener);
		},
		/** `greeter` is told of every page that connects from now on. */
		onSubscribe(greeter: Greeter): () => void {
			greeters.add(greeter);
			return () => greeters.delete(greeter);
		},
		/** Sends to every open page of the user; returns how many received it. */
		send(userId: string, e: ServerEvent): number {
			const set = listeners.get(userId);
			for (const l of set ?? []) l(e);
			return set?.size ?? 0;
		},
		connected: (userId: string) => (listeners.get(userId)?.size ?? 0) > 0,
		/** Every user with a page open now. */
		users: () => [...listeners.keys()]
	};
}
export type EventHub = ReturnType<typeof createEventHub>;
