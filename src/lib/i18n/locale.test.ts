/**
 * #15 English is its own chunk, loaded when chosen: the UI stays Chinese until the catalogue is here, then
 * every `t()` answers in English; a later choice wins over a catalogue that arrives after it.
 */
import { expect, test } from 'vitest';
import { i18n, t } from './index.svelte';

test('#15 English loads on demand; a choice of Chinese made while it loads is not undone by its arrival', async () => {
	expect(t('common.save')).toBe('保存');
	// Chosen, then Chinese again before the catalogue came: Chinese stays.
	const english = i18n.setLocale('en');
	expect(i18n.locale).toBe('zh-CN');
	await i18n.setLocale('zh-CN');
	await english;
	expect(i18n.locale).toBe('zh-CN');
	expect(t('common.save')).toBe('保存');

	await i18n.setLocale('en');
	expect(i18n.locale).toBe('en');
	expect(t('common.save')).toBe('Save');
	expect(t('validation.department_gone')).not.toBe(
		t('validation.department_gone', { lng: 'zh-CN' })
	);
});
