/**
 * Documents of the configuration database (`cc_config`), replicated read-only to every signed-in browser.
 * Ids are `<type>:<key>`.
 */
export interface DepartmentDoc {
	_id: string;
	_rev?: string;
	type: 'department';
	name: string;
	parentId: string | null;
	/** The customer-service center (客服中心) — the "center" family of permissions applies to its users. */
	isCenter: boolean;
	order: number;
}

export interface RoleDoc {
	_id: string;
	_rev?: string;
	type: 'role';
	name: string;
	permissions: string[];
	/** Seeded roles keep a stable key so code and tests can find them whatever they are called. */
	key?: string;
}

export type ConfigDoc = DepartmentDoc | RoleDoc;

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
