/**
 * #18 a voice menu as administrators keep it (语音导航, a `voiceMenu` configuration document) → the tree the
 * state machine runs. Prompts are the texts themselves: `synthesize` caches speech by text, so a prompt
 * nobody changed is not made again when the menu is saved, and a call keeps hearing its own version's words.
 */
import type { VoiceMenuInput } from '#shared/schemas/config';
import type { KeyAction, MenuTree } from './menu';

export interface ConfiguredMenu extends MenuTree {
	/** Node id → title, for the screen pop and call records. */
	titles: Record<string, string>;
	/** Played while the agent's phone rings (none when unset). */
	waitPrompt?: string;
	/** Every text the menu may speak, to make ahead of the first caller. */
	prompts: string[];
}

type Menu = Pick<
	VoiceMenuInput,
	'nodes' | 'fallbackQueue' | 'maxTries' | 'noInputSeconds' | 'waitingPrompt'
>;

function keyAction(k: VoiceMenuInput['nodes'][number]['keys'][number]): KeyAction {
	switch (k.action) {
		case 'submenu':
			return { kind: 'submenu', node: k.node ?? '' };
		case 'announcement':
			return { kind: 'announcement', prompt: k.text ?? '', then: k.hangup ? 'hangup' : 'menu' };
		case 'queue':
			return { kind: 'queue', queue: k.queue ?? '' };
		case 'callback':
			return k.text ? { kind: 'callback', prompt: k.text } : { kind: 'callback' };
		case 'repeat':
			return { kind: 'repeat' };
		case 'back':
			return { kind: 'back' };
	}
}

/** The tree of a configured menu (checked with `validateMenu` by whoever runs it). */
export function menuTreeOf(menu: Menu): ConfiguredMenu {
	const nodes: MenuTree['nodes'] = {};
	const prompts = new Set<string>();
	for (const node of menu.nodes) {
		const keys: MenuTree['nodes'][string]['keys'] = {};
		for (const k of node.keys) {
			const action = keyAction(k);
			keys[k.key] = action;
			if ('prompt' in action && action.prompt) prompts.add(action.prompt);
		}
		nodes[node.id] = {
			prompt: node.prompt,
			...(node.retryPrompt ? { retryPrompt: node.retryPrompt } : {}),
			keys
		};
		prompts.add(node.prompt);
		if (node.retryPrompt) prompts.add(node.retryPrompt);
	}
	if (menu.waitingPrompt) prompts.add(menu.waitingPrompt);
	return {
		root: menu.nodes[0]?.id ?? '',
		nodes,
		maxTries: menu.maxTries,
		fallbackQueue: menu.fallbackQueue,
		noInputMs: menu.noInputSeconds * 1000,
		titles: Object.fromEntries(menu.nodes.map((n) => [n.id, n.title])),
		...(menu.waitingPrompt ? { waitPrompt: menu.waitingPrompt } : {}),
		prompts: [...prompts]
	};
}
