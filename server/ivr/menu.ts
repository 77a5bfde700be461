/**
 * The voice menu as a pure state machine: a tree of nodes in, a caller's inputs in, actions out. No timers,
 * no sockets, no files — the engine (`engine.ts`) turns actions into rtpengine commands and its timers and
 * DTMF into inputs, so every rule of the menu is tested here without a call.
 */
import { VOICE_MENU_KEYS, type VoiceMenuKeyName } from '#shared/docs/config';

/** A key a caller can press. */
export type Digit = VoiceMenuKeyName;

export const DIGITS: readonly Digit[] = VOICE_MENU_KEYS;

/** What a key does at a node. */
export type KeyAction =
	/** Enter another node. */
	| { kind: 'submenu'; node: string }
	/** Play a prompt, then hear the node again (`then: 'menu'`, the default) or be hung up on. */
	| { kind: 'announcement'; prompt: string; then?: 'menu' | 'hangup' }
	/** Queue the call to the agents of `queue`. */
	| { kind: 'queue'; queue: string }
	/** The caller asks to be called back: optionally confirmed by `prompt`, then the call ends. */
	| { kind: 'callback'; prompt?: string }
	/** Hear the node's prompt again. */
	| { kind: 'repeat' }
	/** Return to the node this one was entered from (the root repeats itself). */
	| { kind: 'back' };

export interface MenuNode {
	/** The prompt played on entering the node. */
	prompt: string;
	/** Played instead of `prompt` after no key or a wrong key ("输入有误…" + the choices); `prompt` if unset. */
	retryPrompt?: string;
	keys: Partial<Record<Digit, KeyAction>>;
}

export interface MenuTree {
	root: string;
	nodes: Record<string, MenuNode>;
	/** No key or a wrong key this many times in a row at one node → the caller goes to an agent. */
	maxTries?: number;
	/** The queue for callers who ran out of tries. */
	fallbackQueue?: string;
	/** How long the menu waits for a key once a node's prompt has ended. */
	noInputMs?: number;
	/**
	 * Played once before the root's prompt (e.g. the fault notices for the caller's area). A key during it
	 * stops it and counts as a key at the root.
	 */
	intro?: string;
}

export const DEFAULT_MAX_TRIES = 3;
export const DEFAULT_FALLBACK_QUEUE = 'default';
export const DEFAULT_NO_INPUT_MS = 5_000;

/** Inputs. `playId` names the play that ended or whose wait ran out: stale ones are ignored. */
export type MenuInput =
	| { type: 'start' }
	| { type: 'digit'; digit: string }
	| { type: 'prompt-ended'; playId: number }
	| { type: 'timeout'; playId: number }
	/** The hand-off to an agent failed: the caller hears the node again. */
	| { type: 'handoff-failed' }
	| { type: 'hangup' };

/** What the menu wants done. */
export type MenuAction =
	/** Play `prompt` to the caller; feed `prompt-ended` with `playId` when it has been heard out. */
	| { type: 'play'; prompt: string; playId: number }
	/** Stop the prompt playing now (barge-in). */
	| { type: 'stop-prompt' }
	/** Feed `timeout` with `playId` after `ms` unless another input comes first. */
	| { type: 'wait'; ms: number; playId: number }
	| {
			type: 'queue';
			queue: string;
			/** Nodes entered, in order, root first. */
			path: string[];
			/** Every key pressed, in order, wrong ones included. */
			keys: string[];
			reason: 'key' | 'tries';
	  }
	| { type: 'callback'; path: string[]; keys: string[] }
	| { type: 'hangup' };

export type MenuPhase =
	| 'idle'
	/** The intro plays; the root's prompt follows. */
	| 'intro'
	/** A node's prompt plays. */
	| 'prompting'
	/** The prompt ended; waiting for a key. */
	| 'waiting'
	/** An announcement plays; the node comes back after it. */
	| 'announcing'
	/** A last prompt plays before hanging up. */
	| 'closing'
	| 'queued'
	| 'ended';

export interface MenuState {
	phase: MenuPhase;
	node: string;
	/** The nodes `back` returns through (the current node last). */
	stack: string[];
	path: string[];
	keys: string[];
	/** Wrong keys and timeouts in a row at the current node. */
	tries: number;
	playId: number;
}

export class MenuError extends Error {}

/** Throws MenuError naming the first broken reference (a missing root, node or empty prompt). */
export function validateMenu(tree: MenuTree): void {
	if (!tree.nodes[tree.root]) throw new MenuError(`the root node "${tree.root}" does not exist`);
	for (const [id, node] of Object.entries(tree.nodes)) {
		if (!node.prompt) throw new MenuError(`node "${id}" has no prompt`);
		for (const [key, action] of Object.entries(node.keys)) {
			if (!DIGITS.includes(key as Digit)) throw new MenuError(`node "${id}": "${key}" is no key`);
			if (action?.kind === 'submenu' && !tree.nodes[action.node]) {
				throw new MenuError(`node "${id}", key ${key}: no node "${action.node}"`);
			}
			if (action?.kind === 'queue' && !action.queue) {
				throw new MenuError(`node "${id}", key ${key}: no queue`);
			}
			if (action?.kind === 'announcement' && !action.prompt) {
				throw new MenuError(`node "${id}", key ${key}: no prompt`);
			}
		}
	}
	if ((tree.maxTries ?? DEFAULT_MAX_TRIES) < 1) throw new MenuError('maxTries must be at least 1');
}

export function initialMenuState(tree: MenuTree): MenuState {
	return {
		phase: 'idle',
		node: tree.root,
		stack: [tree.root],
		path: [],
		keys: [],
		tries: 0,
		playId: 0
	};
}

export interface MenuStep {
	state: MenuState;
	actions: MenuAction[];
}

const PLAYING: MenuPhase[] = ['intro', 'prompting', 'announcing', 'closing'];
const DONE: MenuPhase[] = ['queued', 'ended'];

/** One input → the next state and what to do. Never throws for a caller's input; unknown keys are wrong keys. */
export function stepMenu(tree: MenuTree, state: MenuState, input: MenuInput): MenuStep {
	if (input.type === 'hangup') {
		return { state: { ...state, phase: 'ended' }, actions: [] };
	}
	if (input.type === 'handoff-failed') {
		if (state.phase !== 'queued') return { state, actions: [] };
		return play(tree, { ...state, tries: 0 }, 'prompting', nodeOf(tree, state).prompt, []);
	}
	if (DONE.includes(state.phase)) return { state, actions: [] };

	switch (input.type) {
		case 'start':
			if (state.phase !== 'idle') return { state, actions: [] };
			if (tree.intro) {
				return play(tree, { ...state, path: [tree.root] }, 'intro', tree.intro, []);
			}
			return enter(tree, state, tree.root, []);
		case 'prompt-ended':
			return promptEnded(tree, state, input.playId);
		case 'timeout':
			if (state.phase !== 'waiting' || input.playId !== state.playId) return { state, actions: [] };
			return wrong(tree, state, []);
		case 'digit':
			return digit(tree, state, input.digit);
	}
}

function nodeOf(tree: MenuTree, state: MenuState): MenuNode {
	return tree.nodes[state.node]!;
}

function play(
	tree: MenuTree,
	state: MenuState,
	phase: MenuPhase,
	prompt: string,
	before: MenuAction[]
): MenuStep {
	const playId = state.playId + 1;
	return {
		state: { ...state, phase, playId },
		actions: [...before, { type: 'play', prompt, playId }]
	};
}

function enter(tree: MenuTree, state: MenuState, node: string, before: MenuAction[]): MenuStep {
	const next = { ...state, node, tries: 0, path: [...state.path, node] };
	return play(tree, next, 'prompting', tree.nodes[node]!.prompt, before);
}

function promptEnded(tree: MenuTree, state: MenuState, playId: number): MenuStep {
	if (playId !== state.playId || !PLAYING.includes(state.phase)) return { state, actions: [] };
	if (state.phase === 'closing') {
		return { state: { ...state, phase: 'ended' }, actions: [{ type: 'hangup' }] };
	}
	if (state.phase === 'announcing' || state.phase === 'intro') {
		return play(tree, state, 'prompting', nodeOf(tree, state).prompt, []);
	}
	return {
		state: { ...state, phase: 'waiting' },
		actions: [{ type: 'wait', ms: tree.noInputMs ?? DEFAULT_NO_INPUT_MS, playId }]
	};
}

/** No key or a wrong key: the node again (its retry prompt), or an agent once the tries are used up. */
function wrong(tree: MenuTree, state: MenuState, before: MenuAction[]): MenuStep {
	const tries = state.tries + 1;
	if (tries >= (tree.maxTries ?? DEFAULT_MAX_TRIES)) {
		return queue(
			{ ...state, tries },
			tree.fallbackQueue ?? DEFAULT_FALLBACK_QUEUE,
			'tries',
			before
		);
	}
	const node = nodeOf(tree, state);
	return play(tree, { ...state, tries }, 'prompting', node.retryPrompt ?? node.prompt, before);
}

function queue(
	state: MenuState,
	name: string,
	reason: 'key' | 'tries',
	before: MenuAction[]
): MenuStep {
	return {
		state: { ...state, phase: 'queued' },
		actions: [
			...before,
			{ type: 'queue', queue: name, path: [...state.path], keys: [...state.keys], reason }
		]
	};
}

function digit(tree: MenuTree, state: MenuState, key: string): MenuStep {
	if (state.phase === 'idle') return { state, actions: [] };
	const keyed = { ...state, keys: [...state.keys, key] };
	// Barge-in: a key during a prompt stops it. A key during the closing prompt changes nothing else.
	const before: MenuAction[] = PLAYING.includes(state.phase) ? [{ type: 'stop-prompt' }] : [];
	if (state.phase === 'closing') return { state: keyed, actions: [] };
	const action = nodeOf(tree, state).keys[key as Digit];
	if (!action) return wrong(tree, keyed, before);
	switch (action.kind) {
		case 'submenu':
			return enter(tree, { ...keyed, stack: [...keyed.stack, action.node] }, action.node, before);
		case 'announcement':
			return play(
				tree,
				{ ...keyed, tries: 0 },
				action.then === 'hangup' ? 'closing' : 'announcing',
				action.prompt,
				before
			);
		case 'queue':
			return queue(keyed, action.queue, 'key', before);
		case 'callback': {
			const callback: MenuAction = {
				type: 'callback',
				path: [...keyed.path],
				keys: [...keyed.keys]
			};
			if (action.prompt) return play(tree, keyed, 'closing', action.prompt, [...before, callback]);
			return {
				state: { ...keyed, phase: 'ended' },
				actions: [...before, callback, { type: 'hangup' }]
			};
		}
		case 'repeat':
			return play(tree, { ...keyed, tries: 0 }, 'prompting', nodeOf(tree, keyed).prompt, before);
		case 'back': {
			const stack = keyed.stack.length > 1 ? keyed.stack.slice(0, -1) : keyed.stack;
			return enter(tree, { ...keyed, stack }, stack.at(-1)!, before);
		}
	}
}
