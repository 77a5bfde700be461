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

/** The keys of a telephone keypad, in the order the 语音导航 editor offers them. */
export const VOICE_MENU_KEYS = [
	'1',
	'2',
	'3',
	'4',
	'5',
	'6',
	'7',
	'8',
	'9',
	'0',
	'*',
	'#'
] as const;
export type VoiceMenuKeyName = (typeof VOICE_MENU_KEYS)[number];

/**
 * What a key does (#18 F23): enter another node, play an announcement (then the node again, or hang up),
 * queue the call to the agents, take a callback request, repeat the node, go back one node.
 */
export const VOICE_MENU_ACTIONS = [
	'submenu',
	'announcement',
	'queue',
	'callback',
	'repeat',
	'back'
] as const;
export type VoiceMenuAction = (typeof VOICE_MENU_ACTIONS)[number];

export const VoiceMenuKey = v.object({
	key: v.picklist(VOICE_MENU_KEYS),
	action: v.picklist(VOICE_MENU_ACTIONS),
	/** submenu: the node entered. */
	node: v.optional(v.string()),
	/** queue: the agents' queue (业务队列) the call joins. */
	queue: v.optional(v.string()),
	/** announcement: what it says; callback: the confirmation said before hanging up (optional). */
	text: v.optional(v.string()),
	/** announcement: hang up after it instead of hearing the node again. */
	hangup: v.optional(v.boolean())
});
export type VoiceMenuKey = v.InferOutput<typeof VoiceMenuKey>;

export const VoiceMenuNode = v.object({
	/** Stable within the menu (keys name it); shown in call records and the screen pop with `title`. */
	id: v.string(),
	title: v.string(),
	/** Spoken on entering the node (synthesised to Mandarin speech). */
	prompt: v.string(),
	/** Spoken instead after no key or a wrong key; `prompt` when empty. */
	retryPrompt: v.optional(v.string()),
	keys: v.array(VoiceMenuKey)
});
export type VoiceMenuNode = v.InferOutput<typeof VoiceMenuNode>;

/**
 * A voice menu (语音导航, #18 F23) for some hotlines: the first node is where every call starts. The menu with
 * key `default` serves the voice-menu hotlines no other menu names. A call keeps the version it started with.
 */
export const VoiceMenuDoc = v.object({
	...ConfigBase,
	type: v.literal('voiceMenu'),
	hotlines: v.array(v.string()),
	nodes: v.array(VoiceMenuNode),
	/** Where callers go after `maxTries` wrong keys or silences in a row. */
	fallbackQueue: v.string(),
	maxTries: v.number(),
	/** How long the menu waits for a key after a node's prompt. */
	noInputSeconds: v.number(),
	/** Played, over and over, while the agent's phone rings; silence when empty. */
	waitingPrompt: v.string()
});
export type VoiceMenuDoc = v.InferOutput<typeof VoiceMenuDoc>;

export const DEFAULT_VOICE_MENU_ID = 'voiceMenu:default';

/**
 * A fault notice (故障公告, #18 F23): what is wrong where and until when — on the agents' desks, and spoken
 * before the voice menu to callers whose subscriber record lies in one of `areas` (every caller when empty).
 * `name` is its title.
 */
export const NoticeDoc = v.object({
	...ConfigBase,
	type: v.literal('notice'),
	text: v.string(),
	areas: v.array(v.string()),
	startsAt: v.string(),
	endsAt: v.string(),
	/** Who published it (a user id). */
	publishedBy: v.optional(v.string())
});
export type NoticeDoc = v.InferOutput<typeof NoticeDoc>;

/** Every kind of configuration document, told apart by `type`. */
export const CONFIG_DOCS = [
	DepartmentDoc,
	RoleDoc,
	CrewDoc,
	FlowDoc,
	PhraseDoc,
	ServiceTypeDoc,
	ContentCategoryDoc,
	VoiceMenuDoc,
	NoticeDoc
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
	'contentCategory',
	'voiceMenu',
	'notice'
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
