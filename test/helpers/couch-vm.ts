/**
 * Runs design-document functions the way CouchDB does: the stored source evaluated as an expression in a
 * fresh sandbox with no access to Node.
 */
import { runInNewContext } from 'node:vm';
import { readDesignDocs } from '../../sync/ddocs';

type Vdu = (newDoc: unknown, oldDoc: unknown, userCtx: unknown, secObj: unknown) => void;

export function loadVdu(dbKey: string, ddoc = 'app'): Vdu {
	const doc = readDesignDocs('sync/ddocs', dbKey).find((d) => d._id === `_design/${ddoc}`);
	if (!doc?.validate_doc_update) throw new Error(`no validate_doc_update in ${dbKey}/${ddoc}`);
	return runInNewContext(`(${doc.validate_doc_update})`, {}) as Vdu;
}

/** null when the write is allowed, else the `forbidden` message. */
export function verdict(
	vdu: Vdu,
	newDoc: unknown,
	oldDoc: unknown = null,
	roles: string[] = [],
	{ name = 'x', security = {} }: { name?: string; security?: object } = {}
): string | null {
	try {
		vdu(newDoc, oldDoc, { name, roles }, security);
		return null;
	} catch (err) {
		const forbidden = (err as { forbidden?: string }).forbidden;
		if (forbidden === undefined) throw err;
		return forbidden;
	}
}
