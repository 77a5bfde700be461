/**
 * The embedded store's own thread (started by `embedded.ts`): express-pouchdb over pouchdb-node
 * (LevelDB) under the data folder, served on a loopback port behind an HTTP Basic gate. It runs in a
 * worker thread so that the store's work — PouchDB, LevelDB, its HTTP layer — uses the machine's other
 * core instead of sharing the app's event loop (the capacity benchmark's profile: a third of that loop).
 * Plain JavaScript so that it starts the same from the sources (tests, `tsx`) and from the build; the
 * build copies it beside `build/server/index.js`.
 *
 * Messages: the thread posts `{ port }` once it listens (or `{ error }`), and closes on `'close'`,
 * answering `{ closed: true }`. Accepted writes are counted in the shared `writes` Int32Array.
 */
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);

/** @type {{ dir: string, secret: string, port: number, writes: SharedArrayBuffer }} */
const { dir, secret, port, writes: writesBuffer } = workerData;
const writes = new Int32Array(writesBuffer);

/** Requests that only read, though some are POSTs. */
const READS =
	/\/(_bulk_get|_all_docs|_changes|_revs_diff|_find|_explain|_design\/[^/]+\/_view\/[^/?]+)(\?|$)/;
/** @param {import('node:http').IncomingMessage} req */
const isWrite = (req) =>
	req.method !== 'GET' && req.method !== 'HEAD' && !READS.test(req.url ?? '');

function start() {
	mkdirSync(join(dir, 'db'), { recursive: true });
	const PouchDB = require('pouchdb-node');
	const express = require('express');
	const expressPouchDB = require('express-pouchdb');

	const couch = express();
	couch.use(
		expressPouchDB(PouchDB.defaults({ prefix: join(dir, 'db') + '/' }), {
			configPath: join(dir, 'config.json'),
			logPath: join(dir, 'log.txt'),
			mode: 'fullCouchDB',
			overrideMode: {
				exclude: [
					// Fauxton would fetch its UI.
					'routes/fauxton',
					// A line in log.txt for every request, and the headers formatted for a debug line: an
					// unbounded file and a write per request (the server logs what matters itself).
					'routes/http-log',
					// `disk_size` in a database's info walks the database folder (get-folder-size), and PouchDB
					// asks the info before every view update: 2 % of the loop at 300 agents. Nothing reads it.
					'disk-size'
				]
			}
		})
	);

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
		if (isWrite(req)) {
			// Counted before the answer leaves, so that whoever reads the count after the answer sees it.
			const end = res.end.bind(res);
			res.end = /** @type {typeof res.end} */ (
				(/** @type {any[]} */ ...args) => {
					if (res.statusCode < 400) Atomics.add(writes, 0, 1);
					return end(...args);
				}
			);
		}
		couch(req, res);
	});
	server.once('error', (error) => parentPort?.postMessage({ error: String(error) }));
	server.listen(port, '127.0.0.1', () => {
		const address = server.address();
		parentPort?.postMessage(
			address && typeof address !== 'string'
				? { port: address.port }
				: { error: 'embedded store did not bind a TCP port' }
		);
	});
	parentPort?.on('message', (message) => {
		if (message !== 'close') return;
		server.closeAllConnections();
		server.close(() => parentPort?.postMessage({ closed: true }));
	});
}

try {
	start();
} catch (error) {
	parentPort?.postMessage({ error: error instanceof Error ? error.stack : String(error) });
}
