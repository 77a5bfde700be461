/**
 * #18 F23 语音导航: the rules a voice menu's nodes must keep beyond their shape, and the menu a center starts
 * with. The server refuses a menu breaking them; the editor shows the same problems beside the same fields
 * (a problem's key is the field's path, `nodes.1.keys.0.node`, which is also the input's id on the page).
 */
import type { VoiceMenuInput } from './schemas/config';

/** Field path → problem code (`validation.<code>` in the catalogues). Empty when the menu is sound. */
export function voiceMenuProblems(menu: Pick<VoiceMenuInput, 'nodes' | 'hotlines'>) {
	const problems: Record<string, string> = {};
	const ids = new Set<string>();
	menu.nodes.forEach((node, i) => {
		if (ids.has(node.id)) problems[`nodes.${i}.id`] = 'node_id_taken';
		ids.add(node.id);
	});
	if (new Set(menu.hotlines).size !== menu.hotlines.length) problems.hotlines = 'hotline_twice';
	menu.nodes.forEach((node, i) => {
		const keys = new Set<string>();
		node.keys.forEach((k, j) => {
			const at = `nodes.${i}.keys.${j}`;
			if (keys.has(k.key)) problems[`${at}.key`] = 'key_taken';
			keys.add(k.key);
			if (k.action === 'submenu') {
				if (!k.node) problems[`${at}.node`] = 'required';
				else if (!ids.has(k.node)) problems[`${at}.node`] = 'node_unknown';
			}
			if (k.action === 'queue' && !k.queue?.trim()) problems[`${at}.queue`] = 'required';
			if (k.action === 'announcement' && !k.text?.trim()) problems[`${at}.text`] = 'required';
		});
	});
	return problems;
}

/** What a center's callers hear until administrators change it (seeded as the `default` menu). */
export const DEFAULT_VOICE_MENU: VoiceMenuInput = {
	name: '默认语音导航',
	hotlines: [],
	nodes: [
		{
			id: 'main',
			title: '主菜单',
			prompt:
				'您好，欢迎致电有线电视客服热线。业务咨询和故障报修请按1，查询营业时间请按2，人工服务请按0。',
			retryPrompt: '输入有误。业务咨询和故障报修请按1，查询营业时间请按2，人工服务请按0。',
			keys: [
				{ key: '1', action: 'submenu', node: 'service' },
				{
					key: '2',
					action: 'announcement',
					text: '营业厅每天上午八点半至下午五点半营业，客服热线二十四小时为您服务。'
				},
				{ key: '0', action: 'queue', queue: 'general' }
			]
		},
		{
			id: 'service',
			title: '业务咨询和故障报修',
			prompt: '数字电视请按1，宽带上网请按2，返回上一级请按星号，人工服务请按0。',
			keys: [
				{ key: '1', action: 'queue', queue: 'tv' },
				{ key: '2', action: 'queue', queue: 'broadband' },
				{ key: '*', action: 'back' },
				{ key: '0', action: 'queue', queue: 'general' }
			]
		}
	],
	fallbackQueue: 'general',
	maxTries: 3,
	noInputSeconds: 5,
	waitingPrompt: '正在为您转接人工服务，请稍候。'
};
