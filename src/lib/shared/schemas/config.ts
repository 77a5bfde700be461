/**
 * Input shapes of the administration API for configuration documents (F11–F14 and the catalogues). The
 * server validates with these; the browser uses them for instant feedback. Problems are codes.
 */
import * as v from 'valibot';
import { PHRASE_STAGES, VOICE_MENU_ACTIONS, VOICE_MENU_KEYS } from '../docs/config';

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

/** Something a caller hears: spoken text, up to a few sentences. */
const Speech = v.pipe(v.string('required'), v.trim(), v.maxLength(500, 'too_long'));
const Said = v.pipe(Speech, v.nonEmpty('required'));
const Queue = v.pipe(
	v.string('required'),
	v.trim(),
	v.nonEmpty('required'),
	v.maxLength(40, 'too_long')
);

export const VoiceMenuKeyInput = v.object({
	key: v.picklist(VOICE_MENU_KEYS, 'invalid'),
	action: v.picklist(VOICE_MENU_ACTIONS, 'invalid'),
	node: v.optional(v.pipe(v.string(), v.maxLength(30, 'too_long'))),
	queue: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(40, 'too_long'))),
	text: v.optional(Speech),
	hangup: v.optional(v.boolean())
});

export const VoiceMenuNodeInput = v.object({
	id: v.pipe(
		v.string('required'),
		v.trim(),
		v.nonEmpty('required'),
		v.maxLength(30, 'too_long'),
		v.regex(/^[A-Za-z0-9_-]+$/, 'node_id')
	),
	title: Name,
	prompt: Said,
	retryPrompt: v.optional(Speech),
	keys: v.pipe(v.array(VoiceMenuKeyInput), v.maxLength(VOICE_MENU_KEYS.length, 'too_long'))
});

/** #18 语音导航: the shape; `voiceMenuProblems` (shared/voice-menu.ts) checks how the nodes refer to each other. */
export const VoiceMenuInput = v.object({
	name: Name,
	hotlines: v.pipe(
		v.array(v.pipe(v.string(), v.regex(/^[0-9]{3,20}$/, 'hotline'))),
		v.maxLength(20, 'too_long')
	),
	nodes: v.pipe(
		v.array(VoiceMenuNodeInput),
		v.minLength(1, 'required'),
		v.maxLength(50, 'too_long')
	),
	fallbackQueue: Queue,
	maxTries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(9)), 3),
	noInputSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(30)), 5),
	waitingPrompt: v.optional(Speech, '')
});
export type VoiceMenuInput = v.InferOutput<typeof VoiceMenuInput>;

const Moment = v.pipe(v.string('required'), v.isoTimestamp('invalid'));

/** #18 故障公告: `endsAt` after `startsAt` is checked with the rest (`notice_range`). */
export const NoticeInput = v.object({
	name: Name,
	text: Said,
	areas: v.pipe(
		v.array(v.pipe(v.string(), v.trim(), v.nonEmpty('required'), v.maxLength(60, 'too_long'))),
		v.maxLength(50, 'too_long')
	),
	startsAt: Moment,
	endsAt: Moment
});
export type NoticeInput = v.InferOutput<typeof NoticeInput>;

export const CONFIG_INPUTS = {
	department: DepartmentInput,
	role: RoleInput,
	crew: CrewInput,
	flow: FlowInput,
	phrase: PhraseInput,
	serviceType: ServiceTypeInput,
	contentCategory: ContentCategoryInput,
	voiceMenu: VoiceMenuInput,
	notice: NoticeInput
} as const;
