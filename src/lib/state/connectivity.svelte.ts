/** Whether the browser believes it is online; updated by the browser's online/offline events. */
export class Connectivity {
	isOnline = $state(typeof navigator === 'undefined' ? true : navigator.onLine);

	constructor() {
		if (typeof window === 'undefined') return;
		window.addEventListener('online', () => (this.isOnline = true));
		window.addEventListener('offline', () => (this.isOnline = false));
	}
}

export const connectivity = new Connectivity();
