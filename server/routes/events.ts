/** `GET /events`: the signed-in user's server-sent event stream (screen pops, agent state). */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { requireUser } from '../middleware/auth';
import type { AppDeps, AppEnv } from '../context';

const KEEPALIVE_MS = 20_000;

export const eventRoutes = ({ hub }: AppDeps) =>
	new Hono<AppEnv>().get('/', requireUser(), (c) => {
		const user = c.get('user')!;
		return streamSSE(c, async (stream) => {
			let id = 0;
			const unsubscribe = hub.subscribe(user._id, (e) => {
				void stream.writeSSE({ event: e.event, data: JSON.stringify(e.data), id: String(++id) });
			});
			stream.onAbort(unsubscribe);
			await stream.writeSSE({ event: 'hello', data: JSON.stringify({ user: user._id }) });
			while (!stream.aborted) {
				await stream.sleep(KEEPALIVE_MS);
				if (!stream.aborted) await stream.write(': keep-alive\n\n');
			}
			unsubscribe();
		});
	});
