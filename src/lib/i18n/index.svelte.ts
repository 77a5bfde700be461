/**
 * The i18n layer (F34): i18next with the zh-CN (default) and English catalogues, behind a runes class so
 * that every `t()` in a template re-renders when the language changes. All UI strings go through `t`.
 * Only the default catalogue comes with the app's start-up code; English is loaded when it is chosen (#15:
 * the agent desk's JavaScript budget) — the service worker keeps it for offline starts.
 */
import i18next from 'i18next';
import { zhCN } from './zh-CN';

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE = 'zh-CN' satisfies Locale;

export const isLocale = (value: unknown): value is Locale => LOCALES.includes(value as Locale);

/** The catalogues besides the default one, each its own chunk. */
const CATALOGUES: Record<Exclude<Locale, typeof DEFAULT_LOCALE>, () => Promise<object>> = {
	en: () => import('./en').then((m) => m.en)
};

const instance = i18next.createInstance();
void instance.init({
	lng: DEFAULT_LOCALE,
	fallbackLng: DEFAULT_LOCALE,
	initAsync: false,
	resources: { 'zh-CN': { translation: zhCN } },
	interpolation: { escapeValue: false } // Svelte escapes text itself
});

class I18n {
	locale = $state<Locale>(DEFAULT_LOCALE);
	/** The language asked for last: a slower catalogue load must not undo a later choice. */
	#wanted: Locale = DEFAULT_LOCALE;

	t = (key: string, options?: Record<string, unknown>): string => {
		// Reading `locale` makes every caller depend on it.
		return instance.t(key, { lng: this.locale, ...options });
	};

	/** Switches the language once its catalogue is here (the UI stays in the current one meanwhile). */
	async setLocale(locale: Locale): Promise<void> {
		this.#wanted = locale;
		if (locale !== DEFAULT_LOCALE && !instance.hasResourceBundle(locale, 'translation')) {
			instance.addResourceBundle(locale, 'translation', await CATALOGUES[locale]());
		}
		if (this.#wanted !== locale) return;
		this.locale = locale;
		if (typeof document !== 'undefined') document.documentElement.lang = locale;
	}
}

export const i18n = new I18n();
export const t = i18n.t;
