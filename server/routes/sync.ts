/**
 * `/sync/<db>`: the only way a browser replicates — the replication protocol (`server/replication/`) for
 * the signed-in user, under the user's policy (`replication/user-policy.ts`).
 */
import { Hono } from 'hono';
import { requireUser } from '../middleware/auth';
import type { AppDeps, AppEnv } from '../context';

export const syncRoutes = ({ replication, sessions }: AppDeps) =>
	new Hono<AppEnv>().use(requireUser()).all('/*', (c) => {
		const user = c.get('user')!;
		const token = c.get('sessionToken')!;
		return replication.serve(c.req.raw, '/sync', {
			policyOf: (db) => replication.userPolicy(user, db),
			owner: user._id,
			// A live feed ends with its sign-in (sign-out, password reset, disabled account, expiry).
			watch: (onEnd) => sessions.watch(token, user._id, onEnd)
		});
	});
