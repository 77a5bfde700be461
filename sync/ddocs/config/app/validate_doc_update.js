/*
 * cc_config rules. Runs in CouchDB and in the embedded store. Browsers replicate this database read-only;
 * only the app server (the store administrator) writes it, through the audited administration API.
 */
function validate_doc_update(newDoc, oldDoc, userCtx, secObj) {
	function forbid(message) {
		throw { forbidden: message };
	}
	// The store's administrators: CouchDB's server administrators, and the app's own account when it
	// administers only these databases (least privilege, README "Apache CouchDB").
	function isStoreAdmin() {
		var roles = (userCtx && userCtx.roles) || [];
		if (roles.indexOf('_admin') !== -1) {
			return true;
		}
		var admins = (secObj && secObj.admins) || {};
		if (userCtx && userCtx.name && (admins.names || []).indexOf(userCtx.name) !== -1) {
			return true;
		}
		for (var r = 0; r < roles.length; r++) {
			if ((admins.roles || []).indexOf(roles[r]) !== -1) {
				return true;
			}
		}
		return false;
	}
	if (!isStoreAdmin()) {
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
