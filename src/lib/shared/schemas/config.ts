/**
 * Input shapes of the administration API for configuration documents (F11–F14 and the catalogues). The
 * server validates with these; the browser uses them for instant feedback. Problems are codes.
 */
import * as v from 'valibot';
import { PHRASE_STAGES } from '../docs/config';

const Name = v.pipe(
	v.string('required'),
	v.trim(),
	v.nonEmpty('required'),
	v.maxLength(40, 'too_long')
);
const Id = v.pipe(v.string('required'), v.nonEmpty('required'), v.maxLength(80, 'too_long'));
const Order = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(100_000)), 0);
/** The revision the editor started from; a different current one means someone else changed it. */
export const Rev = v.object({ _rev: v.pipe(v.string('required'), v.nonEmpty('required')) });

export const DepartmentInput = v.object({
	name: Name,
	parentId: v.nullable(Id),
	order: Order
});

export const RoleInput = v.object({
	name: Name,
	permissions: v.array(v.pipe(v.string(), v.maxLength(40)))
});

export const CrewInput = v.object({
	name: Name,
	departmentId: Id,
	/** Members may be chosen later: a crew without them is set up empty. */
	memberIds: v.optional(v.pipe(v.array(Id), v.maxLength(50, 'too_long')), [])
});

export const FlowInput = v.object({
	name: Name,
	departmentIds: v.pipe(v.array(Id), v.minLength(2, 'flow_short'), v.maxLength(20, 'too_long'))
});

export const PhraseInput = v.object({
	name: Name,
	stage: v.picklist(PHRASE_STAGES, 'invalid'),
	text: v.pipe(
		v.string('required'),
		v.trim(),
		v.nonEmpty('required'),
		v.maxLength(500, 'too_long')
	),
	order: Order
});

export const ServiceTypeInput = v.object({
	name: Name,
	callbackRequired: v.optional(v.boolean(), false),
	order: Order
});

export const ContentCategoryInput = v.object({ name: Name, order: Order });

export const CONFIG_INPUTS = {
	department: DepartmentInput,
	role: RoleInput,
	crew: CrewInput,
	flow: FlowInput,
	phrase: PhraseInput,
	serviceType: ServiceTypeInput,
	contentCategory: ContentCategoryInput
} as const;
