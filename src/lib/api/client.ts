/**
 * The only module that calls our server's /api. Non-2xx answers become ApiError with the server's code;
 * an unreachable server becomes ApiError('network').
 */
import type { ApiErrorBody, ErrorCode } from '#shared/errors';

export class ApiError extends Error {
	constructor(
		readonly code: ErrorCode | 'network',
		readonly status: number,
		readonly body: Partial<ApiErrorBody> = {},
		readonly retryAfterSeconds: number | null = null
	) {
		super(body.message ?? code);
	}
}

let sessionLost: () => void = () => {};

/** Who to tell when the server answers 401 to a signed-in request: the sign-in has ended there. */
export function onSessionLost(listener: () => void): void {
	sessionLost = listener;
}

/** Tells the listener that the server no longer knows this sign-in (replication's 401 too). */
export function reportSessionLost(): void {
	sessionLost();
}

export async function api<T>(
	path: string,
	init: { method?: string; body?: unknown } = {}
): Promise<T> {
	let res: Response;
	try {
		res = await fetch(`/api${path}`, {
			method: init.method ?? 'GET',
			credentials: 'same-origin',
			headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
			...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
		});
	} catch {
		throw new ApiError('network', 0);
	}
	const body = (await res.json().catch(() => ({}))) as unknown;
	if (!res.ok) {
		const err = body as Partial<ApiErrorBody>;
		if (res.status === 401 && !path.startsWith('/session')) reportSessionLost();
		const retry = res.headers.get('retry-after');
		throw new ApiError(err.code ?? 'internal', res.status, err, retry ? Number(retry) : null);
	}
	return body as T;
}
