/*
 * cc_config rules. Runs in CouchDB and in the embedded store. Browsers replicate this database read-only;
 * only the app server (the store administrator) writes it, through the audited administration API.
 */
function validate_doc_update(newDoc, oldDoc, userCtx) {
	function forbid(message) {
		throw { forbidden: message };
	}
	if (!userCtx || !userCtx.roles || userCtx.roles.indexOf('_admin') === -1) {
		forbid('configuration is changed through the administration API only');
	}
	if (newDoc._deleted) {
		return;
	}
	if (typeof newDoc.type !== 'string' || newDoc._id.indexOf(newDoc.type + ':') !== 0) {
		forbid('a configuration document id is <type>:<key>');
	}
	if (typeof newDoc.name !== 'string' || newDoc.name.length === 0) {
		forbid('a configuration document has a name');
	}
	if (oldDoc && !oldDoc._deleted && oldDoc.type !== newDoc.type) {
		forbid('a document never changes its type');
	}
}
