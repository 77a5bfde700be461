/**
 * The server's `/sync/<db>` as a PouchDB remote. A 401 there means the server ended this sign-in (signed out
 * everywhere, password reset, disabled, expired): PouchDB only retries or stops, so the answer is watched
 * here and the app is told, which then goes to the sign-in page and says why.
 */
import { PouchDB } from './pouch';
import { reportSessionLost } from '$lib/api/client';

export function syncRemote<T extends object>(db: 'config' | 'tickets'): PouchDB.Database<T> {
	return new PouchDB<T>(`${location.origin}/sync/${db}`, {
		skip_setup: true,
		fetch: async (url: string | Request, opts?: RequestInit) => {
			const res = await PouchDB.fetch(url, opts);
			if (res.status === 401) reportSessionLost();
			return res;
		}
	} as PouchDB.Configuration.RemoteDatabaseConfiguration);
}
