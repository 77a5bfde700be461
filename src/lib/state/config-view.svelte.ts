/** The configuration from the local replica, refreshed whenever replication brings a change. */
import { onConfigChange, readAll } from '$lib/data/config';
import type {
	ContentCategoryDoc,
	CrewDoc,
	DepartmentDoc,
	FlowDoc,
	PhraseDoc,
	RoleDoc,
	ServiceTypeDoc
} from '#shared/docs/config';

export class ConfigView {
	departments = $state<DepartmentDoc[]>([]);
	roles = $state<RoleDoc[]>([]);
	crews = $state<CrewDoc[]>([]);
	flows = $state<FlowDoc[]>([]);
	phrases = $state<PhraseDoc[]>([]);
	serviceTypes = $state<ServiceTypeDoc[]>([]);
	contentCategories = $state<ContentCategoryDoc[]>([]);
	loaded = $state(false);

	/** Loads now and on every change; returns the unsubscribe function (for $effect / onMount). */
	watch(): () => void {
		const load = async () => {
			const docs = await readAll();
			const of = <T>(type: string) => docs.filter((d) => d.type === type) as T[];
			this.departments = of<DepartmentDoc>('department');
			this.roles = of<RoleDoc>('role');
			this.crews = of<CrewDoc>('crew');
			this.flows = of<FlowDoc>('flow');
			this.phrases = of<PhraseDoc>('phrase');
			this.serviceTypes = of<ServiceTypeDoc>('serviceType');
			this.contentCategories = of<ContentCategoryDoc>('contentCategory');
			this.loaded = true;
		};
		void load();
		return onConfigChange(() => void load());
	}

	departmentName(id: string | null | undefined): string {
		return this.departments.find((d) => d._id === id)?.name ?? id ?? '';
	}

	roleName(id: string | null | undefined): string {
		return this.roles.find((r) => r._id === id)?.name ?? '';
	}
}
