/**
 * `GET /events`: the signed-in user's server-sent event stream (screen pops, agent state). The stream ends
 * when its session does (sign-out, sign-out everywhere, password reset, disabled account, expiry), so a
 * page that is no longer signed in hears nothing more (issue #13).
 */
import { Hono } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { SERVER_EVENTS, type ServerEvent } from '#shared/wire/events';
import { requireUser } from '../middleware/auth';
import { doc } from '../openapi';
import type { AppDeps, AppEnv } from '../context';

const KEEPALIVE_MS = 20_000;

/** Writes one event; the compiler holds it to the schema the browser reads it with (`#shared/wire/events`). */
const sendEvent = (stream: SSEStreamingApi, { event, data }: ServerEvent, id?: number) =>
	stream.writeSSE({
		event,
		data: JSON.stringify(data),
		...(id === undefined ? {} : { id: String(id) })
	});

export const eventRoutes = ({ hub, sessions }: AppDeps) =>
	new Hono<AppEnv>().get(
		'/',
		doc("The signed-in user's live events", null, {
			description: `text/event-stream; events: ${SERVER_EVENTS.join(', ')} (schemas in #shared/wire/events)`
		}),
		requireUser(),
		(c) => {
			const user = c.get('user')!;
			const token = c.get('sessionToken')!;
			return streamSSE(c, async (stream) => {
				let id = 0;
				const unwatch = sessions.watch(token, user._id, (why) => {
					void sendEvent(stream, { event: 'signedOut', data: { why } })
						.catch(() => {})
						.finally(() => stream.abort());
				});
				const unsubscribe = hub.subscribe(user._id, (e) => {
					void sendEvent(stream, e, ++id);
				});
				let wake = () => {};
				const ended = new Promise<void>((resolve) => (wake = resolve));
				const done = () => {
					unwatch();
					unsubscribe();
					wake();
				};
				stream.onAbort(done);
				await sendEvent(stream, { event: 'hello', data: { user: user._id } });
				while (!stream.aborted) {
					await Promise.race([stream.sleep(KEEPALIVE_MS), ended]);
					if (!stream.aborted) await stream.write(': keep-alive\n\n');
				}
				done(); // the stream closes as this returns
			});
		}
	);
