/**
 * F1 desk phones (本座位旁话机) as the administration page and the server's validators see them. The
 * credentials stay on the server; the page gets a phone's generated password once, when it is issued.
 */
import * as v from 'valibot';

/** An extension: the number the phone registers and the ACD rings (the same rule as agents' entry). */
export const Extension = v.pipe(
	v.string('required'),
	v.trim(),
	v.nonEmpty('required'),
	v.regex(/^\d{2,20}$/, 'extension_format')
);

export const NewDeskPhone = v.object({
	extension: Extension,
	/** Where it stands (seat, room), for the administrator. */
	label: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(40, 'too_long')), '')
});
export type NewDeskPhone = v.InferOutput<typeof NewDeskPhone>;
