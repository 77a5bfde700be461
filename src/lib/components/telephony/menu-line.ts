/**
 * #18 what a caller did in the voice menu, in one line: "已听故障公告：城东停电 · 主菜单 › 业务咨询和故障报修 ·
 * 按键 1 1".
 */
import { t } from '$lib/i18n/index.svelte';
import type { IvrSummary } from '#shared/wire/telephony';

export function menuLine(ivr: IvrSummary): string {
	return [
		...(ivr.notices?.length
			? [t('callInfo.menuNotices', { titles: ivr.notices.join(t('common.listSeparator')) })]
			: []),
		ivr.path.map((n) => n.title).join(' › '),
		t('callInfo.menuKeys', { keys: ivr.keys.join(' ') || '—' }),
		...(ivr.reason === 'tries' ? [t('callInfo.menuTries')] : [])
	].join(' · ');
}
