/**
 * The permission catalogue (SPEC.md). Ids are stable — code and stored data use them; labels live in the
 * i18n catalogues under `perm.<id>`. New ids may be added; none is ever renamed.
 */
export const PERMISSION_FAMILIES = {
	center: [
		'call.take',
		'call.outbound',
		'ticket.create',
		'ticket.closeAtCenter',
		'ticket.transfer',
		'ticket.manage',
		'workOrder.dispatch',
		'callback.record',
		'customer.search',
		'customer.import',
		'stats.view',
		'recording.listen',
		'supervise',
		'campaign.run'
	],
	department: ['dept.process', 'workOrder.execute', 'dept.stats', 'notice.publish'],
	admin: [
		'admin.users',
		'admin.roles',
		'admin.departments',
		'admin.flows',
		'admin.phrases',
		'admin.catalogues',
		'admin.audit',
		'admin.settings',
		'admin.ivr'
	]
} as const;

export type PermissionFamily = keyof typeof PERMISSION_FAMILIES;
export type Permission = (typeof PERMISSION_FAMILIES)[PermissionFamily][number];

export const PERMISSIONS: readonly Permission[] = Object.values(PERMISSION_FAMILIES).flat();

export function isPermission(value: string): value is Permission {
	return (PERMISSIONS as readonly string[]).includes(value);
}

/** The home screen a user lands on after sign-in (F3), decided by what they may do, most senior first. */
export const HOME_KINDS = ['admin', 'supervisor', 'agent', 'department', 'field', 'none'] as const;
export type HomeKind = (typeof HOME_KINDS)[number];

export function homeOf(permissions: readonly string[]): HomeKind {
	const has = (p: Permission) => permissions.includes(p);
	if (has('admin.users')) return 'admin';
	if (has('supervise')) return 'supervisor';
	if (has('ticket.create')) return 'agent';
	if (has('dept.process')) return 'department';
	if (has('workOrder.execute')) return 'field';
	return 'none';
}
