import { describe, expect, it } from 'vitest';
import type { VoiceMenuDoc } from '#shared/docs/config';
import { DEFAULT_VOICE_MENU, voiceMenuProblems } from '#shared/voice-menu';
import { initialMenuState, stepMenu, validateMenu } from './menu';
import { menuTreeOf } from './menu-config';
import { menuChooser, spokenNotices } from './voice-menu';

const doc = (over: Partial<VoiceMenuDoc>): VoiceMenuDoc => ({
	...DEFAULT_VOICE_MENU,
	_id: 'voiceMenu:x',
	_rev: '1-a',
	type: 'voiceMenu',
	...over
});

describe('#18 F23 a configured voice menu as the menu runs it', () => {
	it('the default menu is sound, and its tree runs: 1 then 1 queues to tv', () => {
		expect(voiceMenuProblems(DEFAULT_VOICE_MENU)).toEqual({});
		const tree = menuTreeOf(DEFAULT_VOICE_MENU);
		validateMenu(tree);
		expect(tree).toMatchObject({
			root: 'main',
			fallbackQueue: 'general',
			maxTries: 3,
			noInputMs: 5000,
			titles: { main: '主菜单', service: '业务咨询和故障报修' },
			waitPrompt: '正在为您转接人工服务，请稍候。'
		});
		let state = stepMenu(tree, initialMenuState(tree), { type: 'start' }).state;
		state = stepMenu(tree, state, { type: 'digit', digit: '1' }).state;
		const { actions } = stepMenu(tree, state, { type: 'digit', digit: '1' });
		expect(actions).toContainEqual(
			expect.objectContaining({ type: 'queue', queue: 'tv', path: ['main', 'service'] })
		);
	});

	it('speaks every text a caller may hear, once each; keys carry only what their action needs', () => {
		const tree = menuTreeOf({
			...DEFAULT_VOICE_MENU,
			waitingPrompt: '',
			nodes: [
				{
					id: 'main',
					title: '主',
					prompt: '请按键。',
					retryPrompt: '请按键。',
					keys: [
						{ key: '1', action: 'announcement', text: '停电公告。', hangup: true },
						{ key: '2', action: 'callback', text: '我们会尽快回电。' },
						{ key: '3', action: 'callback' },
						{ key: '#', action: 'repeat' }
					]
				}
			]
		});
		expect(tree.prompts.sort()).toEqual(['停电公告。', '我们会尽快回电。', '请按键。'].sort());
		expect(tree.waitPrompt).toBeUndefined();
		expect(tree.nodes.main!.keys).toEqual({
			'1': { kind: 'announcement', prompt: '停电公告。', then: 'hangup' },
			'2': { kind: 'callback', prompt: '我们会尽快回电。' },
			'3': { kind: 'callback' },
			'#': { kind: 'repeat' }
		});
	});

	it('a hotline hears its own menu, else the default one, else the product’s; a broken one is skipped and said', () => {
		const logs: string[] = [];
		let menus: VoiceMenuDoc[] = [];
		const choose = menuChooser({ menus: () => menus, onChange: () => () => {} }, (m) =>
			logs.push(m)
		);
		expect(choose('96001').titles.main).toBe('主菜单');

		const own = doc({
			_id: 'voiceMenu:bb',
			name: '宽带',
			hotlines: ['96002'],
			nodes: [{ id: 'bb', title: '宽带主菜单', prompt: '宽带。', keys: [] }]
		});
		const fallback = doc({
			_id: 'voiceMenu:default',
			key: 'default',
			nodes: [{ id: 'top', title: '新主菜单', prompt: '您好。', keys: [] }]
		});
		menus = [own, fallback];
		expect(choose('96002').root).toBe('bb');
		expect(choose('96001').root).toBe('top');

		// A call keeps its tree: a new revision builds a new one and leaves the old untouched.
		const before = choose('96002');
		menus = [{ ...own, _rev: '2-b', nodes: [{ ...own.nodes[0]!, title: '宽带（新）' }] }, fallback];
		expect(choose('96002').titles.bb).toBe('宽带（新）');
		expect(before.titles.bb).toBe('宽带主菜单');

		// Hand-edited or replicated in broken: the default menu answers instead, and the log says why.
		menus = [
			{
				...own,
				_rev: '3-c',
				nodes: [{ ...own.nodes[0]!, keys: [{ key: '1', action: 'submenu', node: 'x' }] }]
			},
			fallback
		];
		expect(choose('96002').root).toBe('top');
		expect(logs.join('\n')).toMatch(/宽带 \(voiceMenu:bb\) cannot run: .*no node "x"/);
	});
});

describe('#18 F23 fault notices before the menu', () => {
	it('are said as one intro, each notice a sentence', () => {
		expect(spokenNotices(['城东片区停电检修，预计十八点恢复', '宽带升级。'])).toBe(
			'故障公告：城东片区停电检修，预计十八点恢复。宽带升级。'
		);
	});
});
