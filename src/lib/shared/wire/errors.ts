/** The body of every refusal the API answers: `{ code, message, field?, issues? }` (see `#shared/errors`). */
import * as v from 'valibot';
import { ERROR_CODES } from '../errors';

export const ApiErrorBody = v.object({
	code: v.picklist(ERROR_CODES),
	message: v.string(),
	/** The form field the error is about, when there is one. */
	field: v.optional(v.string()),
	/** Validation problems per field: field name → problem code. */
	issues: v.optional(v.record(v.string(), v.string()))
});

/** The answer of routes that only confirm: `{ ok: true }`. */
export const Ok = v.object({ ok: v.literal(true) });
