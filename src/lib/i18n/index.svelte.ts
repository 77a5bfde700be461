/**
 * The i18n layer (F34): i18next with the zh-CN (default) and English catalogues, behind a runes class so
 * that every `t()` in a template re-renders when the language changes. All UI strings go through `t`.
 */
import i18next from 'i18next';
import { zhCN } from './zh-CN';
import { en } from './en';

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'zh-CN';

export const isLocale = (value: unknown): value is Locale => LOCALES.includes(value as Locale);

const instance = i18next.createInstance();
void instance.init({
	lng: DEFAULT_LOCALE,
	fallbackLng: DEFAULT_LOCALE,
	initAsync: false,
	resources: { 'zh-CN': { translation: zhCN }, en: { translation: en } },
	interpolation: { escapeValue: false } // Svelte escapes text itself
});

class I18n {
	locale = $state<Locale>(DEFAULT_LOCALE);

	t = (key: string, options?: Record<string, unknown>): string => {
		// Reading `locale` makes every caller depend on it.
		return instance.t(key, { lng: this.locale, ...options });
	};

	setLocale(locale: Locale) {
		this.locale = locale;
		if (typeof document !== 'undefined') document.documentElement.lang = locale;
	}
}

export const i18n = new I18n();
export const t = i18n.t;
