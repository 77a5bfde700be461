/** Departments and roles from the local replica, refreshed whenever replication brings a change. */
import { departments, onConfigChange, roles } from '$lib/data/config';
import type { DepartmentDoc, RoleDoc } from '#shared/docs/config';

export class ConfigView {
	departments = $state<DepartmentDoc[]>([]);
	roles = $state<RoleDoc[]>([]);
	loaded = $state(false);

	/** Loads now and on every change; returns the unsubscribe function (for $effect / onMount). */
	watch(): () => void {
		const load = async () => {
			[this.departments, this.roles] = await Promise.all([departments(), roles()]);
			this.loaded = true;
		};
		void load();
		return onConfigChange(() => void load());
	}

	departmentName(id: string | null | undefined): string {
		return this.departments.find((d) => d._id === id)?.name ?? id ?? '';
	}
}
