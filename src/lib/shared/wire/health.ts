/**
 * `GET /api/health`, for anyone (load balancers, monitoring, the browser before sign-in): this server's
 * version, store and telephony, and whether it serves branch offices or is one (F29).
 */
import * as v from 'valibot';
import { LinkState } from './branches';
import { TELEPHONY_STATES } from './config';

export const Health = v.object({
	status: v.literal('ok'),
	version: v.string(),
	store: v.picklist(['embedded', 'couchdb']),
	telephony: v.object({ state: v.picklist(TELEPHONY_STATES), detail: v.string() }),
	branch: v.object({
		/** This is a center with branch offices configured. */
		servesBranches: v.boolean(),
		/** At a branch office, the state of its link to the center; null elsewhere. */
		link: v.nullable(LinkState)
	})
});
export type Health = v.InferOutput<typeof Health>;
