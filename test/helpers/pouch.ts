/** PouchDB in Node for integration tests: in-memory devices, and the remote `/sync/<db>` of a signed-in user. */
import PouchDB from 'pouchdb-core';
import HttpAdapter from 'pouchdb-adapter-http';
import MemoryAdapter from 'pouchdb-adapter-memory';
import Replication from 'pouchdb-replication';

PouchDB.plugin(HttpAdapter).plugin(MemoryAdapter).plugin(Replication);

export { PouchDB };

/** A device's local database, kept in memory. */
export const device = <T extends object>(name: string) =>
	new PouchDB<T>(name, { adapter: 'memory' });

/** `/sync/<db>` on `baseUrl` as the user whose session cookie is given. */
export function syncRemote<T extends object>(baseUrl: string, db: string, cookie: string) {
	return new PouchDB<T>(`${baseUrl}/sync/${db}`, {
		skip_setup: true,
		fetch: (url: string | Request, opts?: RequestInit) => {
			const headers = new Headers(opts?.headers);
			headers.set('cookie', cookie);
			return PouchDB.fetch(url, { ...opts, headers });
		}
	} as PouchDB.Configuration.RemoteDatabaseConfiguration);
}
