/**
 * The state every form shares: a message for the whole form, one per field, and whether it is submitting.
 * `run` clears them, runs the action and turns a failure into messages in the user's language, moving the
 * keyboard focus to the first field with a problem.
 */
import { errorMessage, fieldErrors } from '$lib/data/errors';
import { t } from '$lib/i18n/index.svelte';

export class FormState {
	error = $state('');
	fields = $state<Record<string, string>>({});
	busy = $state(false);

	/** Runs the action; returns true when it succeeded. */
	async run(action: () => Promise<void>): Promise<boolean> {
		this.error = '';
		this.fields = {};
		this.busy = true;
		try {
			await action();
			return true;
		} catch (err) {
			this.error = errorMessage(err);
			this.fields = fieldErrors(err);
			this.focusFirst();
			return false;
		} finally {
			this.busy = false;
		}
	}

	/** Shows problems found before sending anything (field id → message). */
	reject(fields: Record<string, string>) {
		this.fields = fields;
		this.error = t('error.validation');
		this.focusFirst();
	}

	private focusFirst() {
		const first = Object.keys(this.fields)[0];
		if (first && typeof document !== 'undefined') document.getElementById(first)?.focus();
	}
}
