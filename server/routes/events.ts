/**
 * `GET /events`: the signed-in user's server-sent event stream (screen pops, agent state). The stream ends
 * when its session does (sign-out, sign-out everywhere, password reset, disabled account, expiry), so a
 * page that is no longer signed in hears nothing more (issue #13).
 */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { requireUser } from '../middleware/auth';
import type { AppDeps, AppEnv } from '../context';

const KEEPALIVE_MS = 20_000;

export const eventRoutes = ({ hub, sessions }: AppDeps) =>
	new Hono<AppEnv>().get('/', requireUser(), (c) => {
		const user = c.get('user')!;
		const token = c.get('sessionToken')!;
		return streamSSE(c, async (stream) => {
			let id = 0;
			const unwatch = sessions.watch(token, user._id, (why) => {
				void stream
					.writeSSE({ event: 'signedOut', data: JSON.stringify({ why }) })
					.catch(() => {})
					.finally(() => stream.abort());
			});
			const unsubscribe = hub.subscribe(user._id, (e) => {
				void stream.writeSSE({ event: e.event, data: JSON.stringify(e.data), id: String(++id) });
			});
			let wake = () => {};
			const ended = new Promise<void>((resolve) => (wake = resolve));
			const done = () => {
				unwatch();
				unsubscribe();
				wake();
			};
			stream.onAbort(done);
			await stream.writeSSE({ event: 'hello', data: JSON.stringify({ user: user._id }) });
			while (!stream.aborted) {
				await Promise.race([stream.sleep(KEEPALIVE_MS), ended]);
				if (!stream.aborted) await stream.write(': keep-alive\n\n');
			}
			done(); // the stream closes as this returns
		});
	});
