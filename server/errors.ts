/** Services throw AppError; the app's onError turns it into the shared ApiErrorBody with its status. */
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ApiErrorBody, ErrorCode } from '#shared/errors';

export class AppError extends Error {
	constructor(
		readonly code: ErrorCode,
		readonly status: ContentfulStatusCode,
		message: string,
		readonly extra: Pick<ApiErrorBody, 'field' | 'issues'> = {}
	) {
		super(message);
	}

	body(): ApiErrorBody {
		return { code: this.code, message: this.message, ...this.extra };
	}
}

/** The status of a refusal the store answered (`StoreError`), or undefined for any other failure. */
export function storeStatus(err: unknown): number | undefined {
	return (err as { statusCode?: number } | null)?.statusCode;
}
