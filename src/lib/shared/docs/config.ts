/**
 * Documents of the configuration database (`cc_config`), replicated read-only to every signed-in browser
 * and changed only through the audited administration API. Ids are `<type>:<key>`.
 */
export interface ConfigBase {
	_id: string;
	_rev?: string;
	name: string;
	/** Seeded documents keep a stable key so code and tests can find them whatever they are called. */
	key?: string;
	updatedAt?: string;
}

export interface DepartmentDoc extends ConfigBase {
	type: 'department';
	parentId: string | null;
	/** The customer-service center (客服中心) — the "center" family of permissions applies to its users. */
	isCenter: boolean;
	order: number;
}

export interface RoleDoc extends ConfigBase {
	type: 'role';
	permissions: string[];
}

/** A field crew (施工队): a named team of users of one department; work orders are dispatched to it. */
export interface CrewDoc extends ConfigBase {
	type: 'crew';
	departmentId: string;
	memberIds: string[];
}

/** A department flow (部门流程): the ordered departments a ticket passes through. */
export interface FlowDoc extends ConfigBase {
	type: 'flow';
	departmentIds: string[];
}

export const PHRASE_STAGES = ['greeting', 'identity', 'answer', 'apology', 'closing'] as const;
export type PhraseStage = (typeof PHRASE_STAGES)[number];

/** A service phrase (服务用语) shown to agents during a call, grouped by call stage. */
export interface PhraseDoc extends ConfigBase {
	type: 'phrase';
	stage: PhraseStage;
	text: string;
	order: number;
}

/** 服务类型: whether a ticket of this type needs a callback (回访) before it closes. */
export interface ServiceTypeDoc extends ConfigBase {
	type: 'serviceType';
	callbackRequired: boolean;
	order: number;
}

/** 内容选择: the content category of a ticket, for statistics. */
export interface ContentCategoryDoc extends ConfigBase {
	type: 'contentCategory';
	order: number;
}

export type ConfigDoc =
	DepartmentDoc | RoleDoc | CrewDoc | FlowDoc | PhraseDoc | ServiceTypeDoc | ContentCategoryDoc;
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
