/**
 * The only module that calls our server's /api. Non-2xx answers become ApiError with the server's code;
 * an unreachable server becomes ApiError('network').
 */
import * as v from 'valibot';
import type { ApiErrorBody as ErrorBody, ErrorCode } from '#shared/errors';
import { ApiErrorBody } from '#shared/wire/errors';

export class ApiError extends Error {
	constructor(
		readonly code: ErrorCode | 'network',
		readonly status: number,
		readonly body: Partial<ErrorBody> = {},
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

/** How a request is sent: method (GET unless given) and a JSON body. */
export interface RequestInit {
	method?: string;
	body?: unknown;
}

/**
 * Calls `/api<path>` and reads the answer with `response`, the schema the server builds it with
 * (`#shared/wire`): what comes back is checked, not assumed. An answer of another shape is an ApiError
 * `internal` (a server of another version); a refusal carries the server's code.
 */
export async function api<S extends v.GenericSchema>(
	path: string,
	response: S,
	init: RequestInit = {}
): Promise<v.InferOutput<S>> {
	const body = await call(path, init);
	const parsed = v.safeParse(response, body);
	if (!parsed.success) {
		throw new ApiError('internal', 200, {
			message: `The answer of ${path} has another shape: ${v.summarize(parsed.issues)}`
		});
	}
	return parsed.output;
}

/** Calls a route whose answer the caller does not read (`{ ok: true }` and the like). */
export async function send(path: string, init: RequestInit = {}): Promise<void> {
	await call(path, init);
}

async function call(path: string, init: RequestInit): Promise<unknown> {
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
	const body: unknown = await res.json().catch(() => ({}));
	if (!res.ok) {
		const refusal = v.safeParse(v.partial(ApiErrorBody), body);
		const err = refusal.success ? refusal.output : {};
		if (res.status === 401 && !path.startsWith('/session')) reportSessionLost();
		const retry = res.headers.get('retry-after');
		throw new ApiError(err.code ?? 'internal', res.status, err, retry ? Number(retry) : null);
	}
	return body;
}
