/** How the replication endpoints answer: CouchDB's JSON bodies and errors, and the store's streams handed on. */
import type { StoreError } from '../store';

const JSON_TYPE = { 'content-type': 'application/json' };

export const json = (body: unknown, status = 200) =>
	new Response(JSON.stringify(body), { status, headers: JSON_TYPE });

export const couchError = (status: number, error: string, reason: string) =>
	json({ error, reason }, status);

/** The store's own refusal, handed on as it answered it. */
export const storeAnswer = (err: StoreError) => json(err.body, err.statusCode);

/**
 * The store's streamed answer, ended quietly when the caller goes away mid-stream (a long-poll that the
 * replicator cancels): the store request is aborted with it, which is not an error. `onClose` is told once
 * when the stream is over, however it ends.
 */
export function relay(
	body: ReadableStream<Uint8Array> | null,
	onClose: () => void = () => {}
): ReadableStream<Uint8Array> | null {
	if (!body) {
		onClose();
		return null;
	}
	const reader = body.getReader();
	let closed = false;
	const close = () => {
		if (closed) return;
		closed = true;
		onClose();
	};
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			try {
				const { done, value } = await reader.read();
				if (done) {
					close();
					controller.close();
				} else controller.enqueue(value);
			} catch {
				close();
				controller.close();
			}
		},
		cancel() {
			close();
			reader.cancel().catch(() => {});
		}
	});
}

/** The named query parameters of a request, those present only. */
export function pick(query: URLSearchParams, names: readonly string[]): URLSearchParams {
	const out = new URLSearchParams();
	for (const name of names) {
		const value = query.get(name);
		if (value !== null) out.set(name, value);
	}
	return out;
}
