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

/** For an `in_use` refusal: the reasons in words ("还有 3 个下级部门、2 个用户"), else null. */
export function inUseMessage(err: unknown): string | null {
	if (!(err instanceof ApiError) || err.code !== 'in_use' || !err.body.issues) return null;
	const issues = err.body.issues;
	if (Object.keys(issues).length === 1 && issues.tickets && err.body.message?.includes('disable')) {
		return t('users.deleteRefused', { count: Number(issues.tickets) });
	}
	const reasons = Object.entries(issues).map(([reason, count]) =>
		t(`departments.reason.${reason}`, { count: Number(count) })
	);
	return t('departments.deleteRefused', { reasons: reasons.join(t('common.listSeparator')) });
}
