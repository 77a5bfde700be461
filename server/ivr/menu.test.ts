import { describe, expect, it } from 'vitest';
import {
	initialMenuState,
	MenuError,
	stepMenu,
	validateMenu,
	type MenuAction,
	type MenuInput,
	type MenuState,
	type MenuTree
} from './menu';

const tree: MenuTree = {
	root: 'main',
	nodes: {
		main: {
			prompt: 'greeting',
			retryPrompt: 'greeting-retry',
			keys: {
				'1': { kind: 'submenu', node: 'tv' },
				'2': { kind: 'announcement', prompt: 'hours' },
				'3': { kind: 'announcement', prompt: 'bye', then: 'hangup' },
				'4': { kind: 'callback', prompt: 'callback-ok' },
				'5': { kind: 'callback' },
				'0': { kind: 'queue', queue: 'general' },
				'*': { kind: 'repeat' },
				'#': { kind: 'back' }
			}
		},
		tv: {
			prompt: 'tv',
			keys: {
				'1': { kind: 'submenu', node: 'billing' },
				'0': { kind: 'queue', queue: 'tv' },
				'9': { kind: 'back' }
			}
		},
		billing: {
			prompt: 'billing',
			keys: { '9': { kind: 'back' }, '0': { kind: 'queue', queue: 'billing' } }
		}
	},
	noInputMs: 4_000
};

/** Feeds inputs in order; returns the last state and every action, in order. */
function run(inputs: MenuInput[], t: MenuTree = tree, from?: MenuState) {
	let state = from ?? initialMenuState(t);
	const actions: MenuAction[] = [];
	for (const input of inputs) {
		const step = stepMenu(t, state, input);
		state = step.state;
		actions.push(...step.actions);
	}
	return { state, actions };
}

const plays = (actions: MenuAction[]) =>
	actions.flatMap((a) => (a.type === 'play' ? [a.prompt] : []));
const key = (digit: string): MenuInput => ({ type: 'digit', digit });

describe('menu state machine', () => {
	it('starts by playing the root prompt, then waits for a key once it has been heard', () => {
		const started = run([{ type: 'start' }]);
		expect(started.actions).toEqual([{ type: 'play', prompt: 'greeting', playId: 1 }]);
		expect(started.state).toMatchObject({ phase: 'prompting', node: 'main', path: ['main'] });
		const ended = run([{ type: 'prompt-ended', playId: 1 }], tree, started.state);
		expect(ended.actions).toEqual([{ type: 'wait', ms: 4_000, playId: 1 }]);
		expect(ended.state.phase).toBe('waiting');
	});

	it('#18 an intro (the fault notices for the caller’s area) plays once before the root’s prompt', () => {
		const withIntro = { ...tree, intro: 'notice' };
		const started = run([{ type: 'start' }], withIntro);
		expect(started.actions).toEqual([{ type: 'play', prompt: 'notice', playId: 1 }]);
		expect(started.state).toMatchObject({ phase: 'intro', node: 'main', path: ['main'] });
		const heard = run([{ type: 'prompt-ended', playId: 1 }], withIntro, started.state);
		expect(heard.actions).toEqual([{ type: 'play', prompt: 'greeting', playId: 2 }]);
		expect(heard.state).toMatchObject({ phase: 'prompting', path: ['main'] });
		// Heard once: a wrong key later repeats the root, not the intro.
		const wrong = run([{ type: 'prompt-ended', playId: 2 }, key('7')], withIntro, heard.state);
		expect(plays(wrong.actions)).toEqual(['greeting-retry']);
	});

	it('#18 a key during the intro stops it and counts at the root', () => {
		const { state, actions } = run([{ type: 'start' }, key('1')], { ...tree, intro: 'notice' });
		expect(actions.slice(1)).toEqual([
			{ type: 'stop-prompt' },
			{ type: 'play', prompt: 'tv', playId: 2 }
		]);
		expect(state).toMatchObject({ node: 'tv', path: ['main', 'tv'], keys: ['1'] });
	});

	it('a key during a prompt stops it (barge-in) and enters the submenu', () => {
		const { state, actions } = run([{ type: 'start' }, key('1')]);
		expect(actions.slice(1)).toEqual([
			{ type: 'stop-prompt' },
			{ type: 'play', prompt: 'tv', playId: 2 }
		]);
		expect(state).toMatchObject({ node: 'tv', path: ['main', 'tv'], keys: ['1'] });
	});

	it('a key after the prompt ended needs no stop', () => {
		const { actions } = run([{ type: 'start' }, { type: 'prompt-ended', playId: 1 }, key('1')]);
		expect(actions.at(-1)).toEqual({ type: 'play', prompt: 'tv', playId: 2 });
		expect(actions).not.toContainEqual({ type: 'stop-prompt' });
	});

	it('queues to agents with the path and the keys so far', () => {
		const { state, actions } = run([{ type: 'start' }, key('1'), key('1'), key('0')]);
		expect(actions.at(-1)).toEqual({
			type: 'queue',
			queue: 'billing',
			path: ['main', 'tv', 'billing'],
			keys: ['1', '1', '0'],
			reason: 'key'
		});
		expect(state.phase).toBe('queued');
		expect(run([key('1'), { type: 'timeout', playId: state.playId }], tree, state).actions).toEqual(
			[]
		);
	});

	it('a wrong key repeats the node with its retry prompt; the third goes to an agent', () => {
		const { actions, state } = run([{ type: 'start' }, key('7'), key('8'), key('9')]);
		expect(plays(actions)).toEqual(['greeting', 'greeting-retry', 'greeting-retry']);
		expect(actions.at(-1)).toEqual({
			type: 'queue',
			queue: 'default',
			path: ['main'],
			keys: ['7', '8', '9'],
			reason: 'tries'
		});
		expect(state.tries).toBe(3);
	});

	it('no key until the wait runs out counts as a try; a node without a retry prompt repeats its prompt', () => {
		const t: MenuTree = { ...tree, maxTries: 2, fallbackQueue: 'help' };
		let { state, actions } = run([{ type: 'start' }, key('1')], t);
		for (let i = 0; i < 2; i++) {
			const ended = run([{ type: 'prompt-ended', playId: state.playId }], t, state);
			expect(ended.actions).toEqual([{ type: 'wait', ms: 4_000, playId: state.playId }]);
			({ state, actions } = run([{ type: 'timeout', playId: state.playId }], t, ended.state));
		}
		expect(actions).toEqual([
			{ type: 'queue', queue: 'help', path: ['main', 'tv'], keys: ['1'], reason: 'tries' }
		]);
	});

	it('the tries count per node and start again on a good key', () => {
		const { state, actions } = run([{ type: 'start' }, key('7'), key('8'), key('1'), key('7')]);
		expect(state).toMatchObject({ node: 'tv', tries: 1, phase: 'prompting' });
		expect(actions.filter((a) => a.type === 'queue')).toEqual([]);
		expect(plays(actions).at(-1)).toBe('tv');
	});

	it('stale prompt-ended and timeout inputs (an earlier play) are ignored', () => {
		const { state } = run([{ type: 'start' }, key('1')]);
		expect(run([{ type: 'prompt-ended', playId: 1 }], tree, state).actions).toEqual([]);
		expect(run([{ type: 'timeout', playId: 1 }], tree, state).actions).toEqual([]);
		// A timeout while the prompt still plays (no wait was asked for) changes nothing either.
		expect(run([{ type: 'timeout', playId: 2 }], tree, state).state).toEqual(state);
	});

	it('an announcement plays, then the node comes back; a key during it is taken as the node’s', () => {
		const { actions, state } = run([
			{ type: 'start' },
			key('2'),
			{ type: 'prompt-ended', playId: 2 }
		]);
		expect(plays(actions)).toEqual(['greeting', 'hours', 'greeting']);
		expect(state).toMatchObject({ phase: 'prompting', node: 'main' });
		const barged = run([{ type: 'start' }, key('2'), key('1')]);
		expect(barged.actions.slice(-2)).toEqual([
			{ type: 'stop-prompt' },
			{ type: 'play', prompt: 'tv', playId: 3 }
		]);
	});

	it('an announcement that ends the call hangs up once heard, whatever is pressed meanwhile', () => {
		const { actions, state } = run([
			{ type: 'start' },
			key('3'),
			key('1'),
			{ type: 'prompt-ended', playId: 2 }
		]);
		expect(plays(actions)).toEqual(['greeting', 'bye']);
		expect(actions.at(-1)).toEqual({ type: 'hangup' });
		expect(state).toMatchObject({ phase: 'ended', keys: ['3', '1'] });
	});

	it('callback: recorded with path and keys, confirmed, then hung up (or hung up at once)', () => {
		const confirmed = run([{ type: 'start' }, key('4'), { type: 'prompt-ended', playId: 2 }]);
		expect(confirmed.actions).toEqual([
			{ type: 'play', prompt: 'greeting', playId: 1 },
			{ type: 'stop-prompt' },
			{ type: 'callback', path: ['main'], keys: ['4'] },
			{ type: 'play', prompt: 'callback-ok', playId: 2 },
			{ type: 'hangup' }
		]);
		const direct = run([{ type: 'start' }, key('5')]);
		expect(direct.actions.slice(-2)).toEqual([
			{ type: 'callback', path: ['main'], keys: ['5'] },
			{ type: 'hangup' }
		]);
		expect(direct.state.phase).toBe('ended');
	});

	it('repeat plays the node again; back returns through the nodes entered, the root stays', () => {
		const { actions, state } = run([
			{ type: 'start' },
			key('*'),
			key('1'),
			key('1'),
			key('9'),
			key('9'),
			key('#')
		]);
		expect(plays(actions)).toEqual([
			'greeting',
			'greeting',
			'tv',
			'billing',
			'tv',
			'greeting',
			'greeting'
		]);
		expect(state.path).toEqual(['main', 'tv', 'billing', 'tv', 'main', 'main']);
		expect(state.keys).toEqual(['*', '1', '1', '9', '9', '#']);
	});

	it('hangup ends the menu from any phase; nothing follows', () => {
		const { state, actions } = run([{ type: 'start' }, key('1'), { type: 'hangup' }, key('0')]);
		expect(state.phase).toBe('ended');
		expect(actions.filter((a) => a.type === 'queue')).toEqual([]);
	});

	it('a failed hand-off brings the caller back to the node with fresh tries', () => {
		const queued = run([{ type: 'start' }, key('1'), key('0')]);
		expect(queued.state.phase).toBe('queued');
		const back = run([{ type: 'handoff-failed' }], tree, queued.state);
		expect(back.actions).toEqual([{ type: 'play', prompt: 'tv', playId: 3 }]);
		expect(back.state).toMatchObject({ phase: 'prompting', node: 'tv', tries: 0 });
		// Only a queued call can come back; anywhere else the input is stale.
		expect(run([{ type: 'handoff-failed' }], tree, back.state).actions).toEqual([]);
	});

	it('digits before start, unknown input characters and a second start change nothing harmful', () => {
		expect(run([key('1')]).actions).toEqual([]);
		const { actions, state } = run([{ type: 'start' }, { type: 'start' }, key('x'), key('')]);
		expect(plays(actions)).toEqual(['greeting', 'greeting-retry', 'greeting-retry']);
		expect(state.tries).toBe(2);
	});

	it('validates a tree: root, submenu targets, prompts, keys and tries', () => {
		expect(() => validateMenu(tree)).not.toThrow();
		expect(() => validateMenu({ ...tree, root: 'nope' })).toThrow(MenuError);
		expect(() =>
			validateMenu({
				root: 'a',
				nodes: { a: { prompt: 'p', keys: { '1': { kind: 'submenu', node: 'b' } } } }
			})
		).toThrow(/no node "b"/);
		expect(() => validateMenu({ root: 'a', nodes: { a: { prompt: '', keys: {} } } })).toThrow(
			/no prompt/
		);
		expect(() =>
			validateMenu({
				root: 'a',
				nodes: { a: { prompt: 'p', keys: { x: { kind: 'repeat' } } as never } }
			})
		).toThrow(/is no key/);
		expect(() => validateMenu({ ...tree, maxTries: 0 })).toThrow(/maxTries/);
	});
});
