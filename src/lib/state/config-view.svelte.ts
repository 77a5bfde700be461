/**
 * The configuration (departments, roles, crews, flows, phrases, service types, content categories) from this
 * device's replica — one view for the whole app. It is read when something first shows it, read again
 * whenever replication brings a change (once, however many pages show it), and emptied when the replica is
 * forgotten at sign-out. Pages and components read `config`; none watches the replica on its own.
 */
import { onConfigChange, readAll } from '$lib/data/config';
import type {
	ConfigDoc,
	ContentCategoryDoc,
	CrewDoc,
	DepartmentDoc,
	FlowDoc,
	PhraseDoc,
	RoleDoc,
	NoticeDoc,
	ServiceTypeDoc,
	VoiceMenuDoc
} from '#shared/docs/config';

export class ConfigView {
	#departments = $state<DepartmentDoc[]>([]);
	#roles = $state<RoleDoc[]>([]);
	#crews = $state<CrewDoc[]>([]);
	#flows = $state<FlowDoc[]>([]);
	#phrases = $state<PhraseDoc[]>([]);
	#serviceTypes = $state<ServiceTypeDoc[]>([]);
	#contentCategories = $state<ContentCategoryDoc[]>([]);
	#voiceMenus = $state<VoiceMenuDoc[]>([]);
	#notices = $state<NoticeDoc[]>([]);
	#loaded = $state(false);
	#started = false;
	/** Reads under way; only the latest one's answer is shown. */
	#reads = 0;

	get departments(): DepartmentDoc[] {
		this.#start();
		return this.#departments;
	}
	get roles(): RoleDoc[] {
		this.#start();
		return this.#roles;
	}
	get crews(): CrewDoc[] {
		this.#start();
		return this.#crews;
	}
	get flows(): FlowDoc[] {
		this.#start();
		return this.#flows;
	}
	get phrases(): PhraseDoc[] {
		this.#start();
		return this.#phrases;
	}
	get serviceTypes(): ServiceTypeDoc[] {
		this.#start();
		return this.#serviceTypes;
	}
	get contentCategories(): ContentCategoryDoc[] {
		this.#start();
		return this.#contentCategories;
	}
	/** #18 语音导航: the voice menus (the `default` one first). */
	get voiceMenus(): VoiceMenuDoc[] {
		this.#start();
		return this.#voiceMenus;
	}
	/** #18 故障公告, newest first. */
	get notices(): NoticeDoc[] {
		this.#start();
		return this.#notices;
	}
	/** The replica has been read at least once. */
	get loaded(): boolean {
		this.#start();
		return this.#loaded;
	}

	departmentName(id: string | null | undefined): string {
		return this.departments.find((d) => d._id === id)?.name ?? id ?? '';
	}

	roleName(id: string | null | undefined): string {
		return this.roles.find((r) => r._id === id)?.name ?? '';
	}

	/** Follows the replica from the first read on, for the rest of the visit. */
	#start() {
		if (this.#started) return;
		this.#started = true;
		onConfigChange(() => void this.#read());
		void this.#read();
	}

	async #read() {
		const read = ++this.#reads;
		const docs = await readAll().catch(() => null);
		// A later read started meanwhile (another change came in): its answer is the newer one.
		if (docs === null || read !== this.#reads) return;
		const of = <T extends ConfigDoc>(type: T['type']) =>
			docs.filter((d): d is T => d.type === type);
		this.#departments = of<DepartmentDoc>('department');
		this.#roles = of<RoleDoc>('role');
		this.#crews = of<CrewDoc>('crew');
		this.#flows = of<FlowDoc>('flow');
		this.#phrases = of<PhraseDoc>('phrase');
		this.#serviceTypes = of<ServiceTypeDoc>('serviceType');
		this.#contentCategories = of<ContentCategoryDoc>('contentCategory');
		this.#voiceMenus = of<VoiceMenuDoc>('voiceMenu').sort(
			(a, b) =>
				Number(b.key === 'default') - Number(a.key === 'default') || a.name.localeCompare(b.name)
		);
		this.#notices = of<NoticeDoc>('notice').sort((a, b) => b.startsAt.localeCompare(a.startsAt));
		this.#loaded = true;
	}
}

/** The app's one configuration view. */
export const config = new ConfigView();
