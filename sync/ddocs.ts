/**
 * Reads the design documents kept as files under `sync/ddocs/<db>/<ddoc>/` — `validate_doc_update.js` and
 * `views/<view>/map.js` (+ optional `reduce.js`, or a `reduce` file holding `_count`/`_sum`) — into the JSON
 * CouchDB stores. Each ddoc carries a content hash in `version`, so deployment skips unchanged ones.
 * Function files are named functions (so they lint as scripts); the name is dropped when compiled.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface DesignDoc {
	_id: string;
	_rev?: string;
	version: string;
	language: 'javascript';
	validate_doc_update?: string;
	views?: Record<string, { map: string; reduce?: string }>;
}

/** The stored function source: leading comments dropped, the function made anonymous. */
export const anonymous = (source: string) =>
	source
		.trim()
		.replace(/^(\/\*[\s\S]*?\*\/\s*|\/\/[^\n]*\n\s*)+/, '')
		.replace(/^function\s+[\w$]+\s*\(/, 'function (');

const dirs = (path: string) =>
	existsSync(path) ? readdirSync(path).filter((n) => statSync(join(path, n)).isDirectory()) : [];

/** All design documents for one database key (`tickets`, `config`, `users` …). */
export function readDesignDocs(root: string, dbKey: string): DesignDoc[] {
	const base = join(root, dbKey);
	return dirs(base).map((name) => {
		const dir = join(base, name);
		const ddoc: Omit<DesignDoc, 'version'> = { _id: `_design/${name}`, language: 'javascript' };
		const vdu = join(dir, 'validate_doc_update.js');
		if (existsSync(vdu)) ddoc.validate_doc_update = anonymous(readFileSync(vdu, 'utf8'));
		const views: NonNullable<DesignDoc['views']> = {};
		for (const view of dirs(join(dir, 'views'))) {
			const vdir = join(dir, 'views', view);
			const entry: { map: string; reduce?: string } = {
				map: anonymous(readFileSync(join(vdir, 'map.js'), 'utf8'))
			};
			for (const file of ['reduce.js', 'reduce']) {
				if (existsSync(join(vdir, file))) {
					entry.reduce = anonymous(readFileSync(join(vdir, file), 'utf8'));
				}
			}
			views[view] = entry;
		}
		if (Object.keys(views).length > 0) ddoc.views = views;
		const version = createHash('sha256').update(JSON.stringify(ddoc)).digest('hex').slice(0, 16);
		return { ...ddoc, version };
	});
}
