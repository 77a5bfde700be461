/**
 * Error codes the server returns in `{ code, message, field? }` bodies. The browser translates the code
 * (`error.<code>` in the i18n catalogues); `message` is an English fallback for scripts and logs.
 */
export const ERROR_CODES = [
	'bad_request',
	'validation',
	'unauthorized',
	'forbidden',
	'not_found',
	'conflict',
	'username_taken',
	'invalid_credentials',
	'account_pending',
	'account_disabled',
	'password_change_required',
	'rate_limited',
	'stale',
	'in_use',
	'self',
	'managed_at_center',
	'too_large',
	'request_timeout',
	'too_busy',
	'internal'
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ApiErrorBody {
	code: ErrorCode;
	message: string;
	/** The form field the error is about, when there is one. */
	field?: string;
	/** Validation problems per field: field name → problem code. */
	issues?: Record<string, string>;
}
