/**
 * Documents of the configuration database (`cc_config`), replicated read-only to every signed-in browser
 * and changed only through the audited administration API. Ids are `<type>:<key>`.
 */
import * as v from 'valibot';

const ConfigBase = {
	_id: v.string(),
	_rev: v.optional(v.string()),
	name: v.string(),
	/** Seeded documents keep a stable key so code and tests can find them whatever they are called. */
	key: v.optional(v.string()),
	updatedAt: v.optional(v.string())
};

export const DepartmentDoc = v.object({
	...ConfigBase,
	type: v.literal('department'),
	parentId: v.nullable(v.string()),
	/** The customer-service center (客服中心) — the "center" family of permissions applies to its users. */
	isCenter: v.boolean(),
	order: v.number()
});
export type DepartmentDoc = v.InferOutput<typeof DepartmentDoc>;

export const RoleDoc = v.object({
	...ConfigBase,
	type: v.literal('role'),
	permissions: v.array(v.string())
});
export type RoleDoc = v.InferOutput<typeof RoleDoc>;

/** A field crew (施工队): a named team of users of one department; work orders are dispatched to it. */
export const CrewDoc = v.object({
	...ConfigBase,
	type: v.literal('crew'),
	departmentId: v.string(),
	memberIds: v.array(v.string())
});
export type CrewDoc = v.InferOutput<typeof CrewDoc>;

/** A department flow (部门流程): the ordered departments a ticket passes through. */
export const FlowDoc = v.object({
	...ConfigBase,
	type: v.literal('flow'),
	departmentIds: v.array(v.string())
});
export type FlowDoc = v.InferOutput<typeof FlowDoc>;

export const PHRASE_STAGES = ['greeting', 'identity', 'answer', 'apology', 'closing'] as const;
export type PhraseStage = (typeof PHRASE_STAGES)[number];

/** A service phrase (服务用语) shown to agents during a call, grouped by call stage. */
export const PhraseDoc = v.object({
	...ConfigBase,
	type: v.literal('phrase'),
	stage: v.picklist(PHRASE_STAGES),
	text: v.string(),
	order: v.number()
});
export type PhraseDoc = v.InferOutput<typeof PhraseDoc>;

/** 服务类型: whether a ticket of this type needs a callback (回访) before it closes. */
export const ServiceTypeDoc = v.object({
	...ConfigBase,
	type: v.literal('serviceType'),
	callbackRequired: v.boolean(),
	order: v.number()
});
export type ServiceTypeDoc = v.InferOutput<typeof ServiceTypeDoc>;

/** 内容选择: the content category of a ticket, for statistics. */
export const ContentCategoryDoc = v.object({
	...ConfigBase,
	type: v.literal('contentCategory'),
	order: v.number()
});
export type ContentCategoryDoc = v.InferOutput<typeof ContentCategoryDoc>;

/** Every kind of configuration document, told apart by `type`. */
export const CONFIG_DOCS = [
	DepartmentDoc,
	RoleDoc,
	CrewDoc,
	FlowDoc,
	PhraseDoc,
	ServiceTypeDoc,
	ContentCategoryDoc
] as const;

export type ConfigDoc = v.InferOutput<(typeof CONFIG_DOCS)[number]>;
export type ConfigType = ConfigDoc['type'];

export const CONFIG_TYPES = [
	'department',
	'role',
	'crew',
	'flow',
	'phrase',
	'serviceType',
	'contentCategory'
] as const satisfies readonly ConfigType[];

export const CENTER_DEPARTMENT_ID = 'department:center';

export interface DepartmentNode {
	doc: DepartmentDoc;
	depth: number;
}

/** Depth-first order of the department tree (siblings by `order`, then name), for lists and pickers. */
export function flattenDepartments(departments: readonly DepartmentDoc[]): DepartmentNode[] {
	const children = new Map<string | null, DepartmentDoc[]>();
	const ids = new Set(departments.map((d) => d._id));
	for (const d of departments) {
		const parent = d.parentId && ids.has(d.parentId) ? d.parentId : null;
		children.set(parent, [...(children.get(parent) ?? []), d]);
	}
	const out: DepartmentNode[] = [];
	const visit = (parent: string | null, depth: number) => {
		const list = [...(children.get(parent) ?? [])].sort(
			(a, b) => a.order - b.order || a.name.localeCompare(b.name, 'zh-CN')
		);
		for (const d of list) {
			out.push({ doc: d, depth });
			visit(d._id, depth + 1);
		}
	};
	visit(null, 0);
	return out;
}

/** The department and all below it. */
export function subtreeIds(departments: readonly DepartmentDoc[], rootId: string): Set<string> {
	const out = new Set([rootId]);
	let grew = true;
	while (grew) {
		grew = false;
		for (const d of departments) {
			if (d.parentId && out.has(d.parentId) && !out.has(d._id)) {
				out.add(d._id);
				grew = true;
			}
		}
	}
	return out;
}
