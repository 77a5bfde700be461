/** Turns any failure into a message in the user's language, and field problems into per-field messages. */
import { ApiError } from '$lib/api/client';
import { t } from '$lib/i18n/index.svelte';

export function errorMessage(err: unknown): string {
	if (err instanceof ApiError) {
		if (err.code === 'rate_limited') {
			return t('error.rate_limited', { seconds: err.retryAfterSeconds ?? 60 });
		}
		return t(`error.${err.code}`);
	}
	return t('error.internal');
}

export function fieldErrors(err: unknown): Record<string, string> {
	if (!(err instanceof ApiError) || !err.body.issues) return {};
	return Object.fromEntries(
		Object.entries(err.body.issues).map(([field, code]) => [field, t(`validation.${code}`)])
	);
}
