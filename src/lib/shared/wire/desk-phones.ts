/**
 * F1 desk phones (本座位旁话机) on the wire: the list the administration page shows — never credentials —
 * and a newly issued phone with its password, which is in that one answer only.
 */
import * as v from 'valibot';

export const DeskPhone = v.object({
	extension: v.string(),
	label: v.string(),
	createdAt: v.string(),
	/** When its current password was issued. */
	passwordSetAt: v.string()
});
export type DeskPhone = v.InferOutput<typeof DeskPhone>;

export const DeskPhoneList = v.object({ phones: v.array(DeskPhone) });

/** A phone just issued, with its SIP password shown this once. */
export const IssuedDeskPhone = v.object({ phone: DeskPhone, password: v.string() });
