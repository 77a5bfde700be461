/** A page's one line of news: what just succeeded, or why something did not, in the user's language. */
import { errorMessage, inUseMessage } from '$lib/data/errors';

export class Notice {
	message = $state('');
	error = $state('');

	/** Something succeeded; an earlier problem is over. */
	done(message: string): void {
		this.message = message;
		this.error = '';
	}

	/** Something failed: the reason in words (a refusal while in use lists what still uses it). */
	failed(err: unknown): void {
		this.error = inUseMessage(err) ?? errorMessage(err);
	}

	clear(): void {
		this.message = '';
		this.error = '';
	}
}
