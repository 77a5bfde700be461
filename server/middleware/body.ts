/**
 * Request bodies, read only once the caller is known and never beyond what the route takes (issue #13):
 * a declared `Content-Length` over the limit is refused before a byte is read; a chunked body is counted as
 * it arrives and cut at the limit. Small bodies (forms, replication requests) are read here in full within
 * a deadline, so a slow or stalled sender is cut off by the clock and not by our patience; a long upload (a
 * city's subscriber export, streamed for minutes) is passed on as a stream that is cut when the sender
 * stalls while the server waits for bytes.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../errors';

/** The Node request and response behind a Hono context (absent under `app.request()` in unit tests). */
interface NodeBindings {
	incoming?: { socket?: { destroy(): void } };
}

/**
 * Ends the TCP connection of a request: a sender that is cut off gets no more of our time. (A refused body
 * that is merely too large is answered; the Node adapter then drains at most 64 MiB of it and closes.)
 */
export function dropConnection(c: Context): void {
	(c.env as NodeBindings | undefined)?.incoming?.socket?.destroy();
}

const tooLarge = (maxBytes: number) =>
	new AppError('too_large', 413, `Request body larger than ${maxBytes} bytes`);
const unreadable = () => new AppError('bad_request', 400, 'The request body could not be read');
const tooSlow = () => new AppError('request_timeout', 408, 'The request body arrived too slowly');

function declaredLength(c: Context): number | null {
	if (c.req.raw.headers.has('transfer-encoding')) return null;
	const raw = c.req.raw.headers.get('content-length');
	if (raw === null) return null;
	const n = Number(raw);
	return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/**
 * Reads the whole body (at most `maxBytes`) and hands the route a request carrying those bytes. Over the
 * limit: 413. A sender that has not finished within `deadlineMs`, or sends nothing for `stallMs`, gets 408
 * and the connection is dropped.
 */
export function bufferedBody({
	maxBytes,
	deadlineMs,
	stallMs = deadlineMs
}: {
	maxBytes: number;
	deadlineMs: number;
	stallMs?: number;
}): MiddlewareHandler {
	return async (c, next) => {
		const body = c.req.raw.body;
		if (!body) return next();
		const declared = declaredLength(c);
		if (declared !== null && declared > maxBytes) throw tooLarge(maxBytes);
		const reader = body.getReader();
		const chunks: Uint8Array[] = [];
		let size = 0;
		let stall: ReturnType<typeof setTimeout> | undefined;
		let fail: (err: AppError) => void = () => {};
		const late = new Promise<never>((_, reject) => (fail = reject));
		const timer = setTimeout(() => fail(tooSlow()), deadlineMs);
		try {
			for (;;) {
				clearTimeout(stall);
				stall = setTimeout(() => fail(tooSlow()), stallMs);
				const { done, value } = await Promise.race([reader.read(), late]);
				if (done) break;
				size += value.byteLength;
				if (size > maxBytes) throw tooLarge(maxBytes);
				chunks.push(value);
			}
		} catch (err) {
			reader.cancel().catch(() => {});
			if (err instanceof AppError && err.status === 408) dropConnection(c);
			throw err instanceof AppError ? err : unreadable();
		} finally {
			clearTimeout(timer);
			clearTimeout(stall);
		}
		const bytes = new Uint8Array(size);
		let offset = 0;
		for (const chunk of chunks) {
			bytes.set(chunk, offset);
			offset += chunk.byteLength;
		}
		c.req.raw = new Request(c.req.raw, { body: bytes });
		await next();
	};
}

/**
 * Passes the body on as a stream of at most `maxBytes`; the stream fails (and the connection is dropped)
 * when the sender sends more, or sends nothing for `stallMs` while the route is waiting for bytes — time
 * the route itself spends (writing to the store) is not counted against the sender.
 */
export function streamedBody({
	maxBytes,
	stallMs
}: {
	maxBytes: number;
	stallMs: number;
}): MiddlewareHandler {
	return async (c, next) => {
		const body = c.req.raw.body;
		if (!body) return next();
		const declared = declaredLength(c);
		if (declared !== null && declared > maxBytes) throw tooLarge(maxBytes);
		const reader = body.getReader();
		let size = 0;
		const limited = new ReadableStream<Uint8Array>({
			async pull(controller) {
				let timer: ReturnType<typeof setTimeout> | undefined;
				const stalled = new Promise<never>((_, reject) => {
					timer = setTimeout(() => reject(tooSlow()), stallMs);
				});
				try {
					const { done, value } = await Promise.race([reader.read(), stalled]);
					if (done) return controller.close();
					size += value.byteLength;
					if (size > maxBytes) throw tooLarge(maxBytes);
					controller.enqueue(value);
				} catch (err) {
					reader.cancel().catch(() => {});
					if (err instanceof AppError && err.status === 408) dropConnection(c);
					controller.error(err instanceof AppError ? err : unreadable());
				} finally {
					clearTimeout(timer);
				}
			},
			cancel(reason) {
				return reader.cancel(reason);
			}
		});
		c.req.raw = new Request(c.req.raw, { body: limited, duplex: 'half' } as RequestInit);
		await next();
	};
}
