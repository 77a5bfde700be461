/**
 * `GET /api/health`, for anyone (load balancers, monitoring, the browser before sign-in): this server's
 * version, store and telephony, and whether it serves branch offices or is one (F29).
 */
import * as v from 'valibot';
import { LinkState } from './branches';
import { TELEPHONY_STATES } from './config';

export const Health = v.object({
	/** 'unavailable' (HTTP 503) while the store does not answer: take this server out of rotation. */
	status: v.picklist(['ok', 'unavailable']),
	version: v.string(),
	store: v.picklist(['embedded', 'couchdb']),
	/** The store's answer to one cheap question, kept for a second (many probes, one question). */
	storeCheck: v.object({
		reachable: v.boolean(),
		/** How long it took, in ms; null when it did not answer. */
		ms: v.nullable(v.number()),
		detail: v.string()
	}),
	telephony: v.object({ state: v.picklist(TELEPHONY_STATES), detail: v.string() }),
	branch: v.object({
		/** This is a center with branch offices configured. */
		servesBranches: v.boolean(),
		/** At a branch office, the state of its link to the center; null elsewhere. */
		link: v.nullable(LinkState)
	})
});
export type Health = v.InferOutput<typeof Health>;
