/**
 * The embedded CouchDB-compatible store: express-pouchdb over pouchdb-node (LevelDB) under the data folder,
 * served on a loopback port behind an HTTP Basic gate with a generated admin secret. The rest of the server
 * talks to it exactly as to Apache CouchDB, through `nano` and the same URL shape — nothing may use its
 * internals. Only this module imports express-pouchdb.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface EmbeddedStore {
	/** Base URL with admin credentials, e.g. `http://admin:secret@127.0.0.1:41234`. */
	url: string;
	/** How many requests that write have succeeded so far (diagnostics; the fuzz tests' witness). */
	writes(): number;
	close(): Promise<void>;
}

/** Requests that only read, though some are POSTs. */
const READS =
	/\/(_bulk_get|_all_docs|_changes|_revs_diff|_find|_explain|_design\/[^/]+\/_view\/[^/?]+)(\?|$)/;
const writes = (req: IncomingMessage) =>
	req.method !== 'GET' && req.method !== 'HEAD' && !READS.test(req.url ?? '');

/** Starts the embedded store on 127.0.0.1 (ephemeral port unless given) with data under `dir`. */
export async function startEmbeddedStore({
	dir,
	secret,
	port = 0
}: {
	dir: string;
	secret: string;
	port?: number;
}): Promise<EmbeddedStore> {
	mkdirSync(join(dir, 'db'), { recursive: true });
	const PouchDB = require('pouchdb-node') as { defaults(opts: object): unknown };
	const express = require('express') as () => { use(...args: unknown[]): unknown } & ((
		req: IncomingMessage,
		res: ServerResponse
	) => void);
	const expressPouchDB = require('express-pouchdb') as (db: unknown, opts: object) => unknown;

	const couch = express();
	couch.use(
		expressPouchDB(PouchDB.defaults({ prefix: join(dir, 'db') + '/' }), {
			configPath: join(dir, 'config.json'),
			logPath: join(dir, 'log.txt'),
			mode: 'fullCouchDB',
			// Fauxton would fetch its UI; the session/auth routes are not needed behind the gate.
			overrideMode: { exclude: ['routes/fauxton'] }
		})
	);

	let written = 0;
	const expected = Buffer.from('Basic ' + Buffer.from(`admin:${secret}`).toString('base64'));
	const server = createServer((req, res) => {
		const given = Buffer.from(req.headers.authorization ?? '');
		if (
			given.length !== expected.length ||
			!timingSafeEqual(new Uint8Array(given), new Uint8Array(expected))
		) {
			res.writeHead(401, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ error: 'unauthorized', reason: 'Name or password is incorrect.' }));
			return;
		}
		// Behind the gate every caller is the administrator: express-pouchdb runs in "admin party" and
		// would otherwise try to match these credentials against its own user database.
		delete req.headers.authorization;
		if (writes(req)) {
			res.on('finish', () => {
				if (res.statusCode < 400) written += 1;
			});
		}
		couch(req, res);
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, '127.0.0.1', () => resolve());
	});
	const address = server.address();
	if (!address || typeof address === 'string') {
		throw new Error('embedded store did not bind a TCP port');
	}
	return {
		url: `http://admin:${encodeURIComponent(secret)}@127.0.0.1:${address.port}`,
		writes: () => written,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			})
	};
}
