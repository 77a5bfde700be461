/*
 * cc_tickets structure rules. Runs in CouchDB (production) and in the embedded store; kept plain ES5 with
 * no engine-specific features. It checks structure and immutability only — who may write what is decided
 * by the app server's /sync endpoint before a write reaches the store.
 * Immutability (events and visibleTo only grow) is checked against oldDoc only when oldDoc is the parent
 * of the incoming revision: a replicated revision from a device that edited offline may descend from an
 * older revision than the current winner, and must still be stored (as a conflict) so that the
 * union-of-events merge keeps every event.
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
	function isArray(x) {
		return Object.prototype.toString.call(x) === '[object Array]';
	}
	function isString(x) {
		return typeof x === 'string' && x.length > 0;
	}
	var isAdmin = isStoreAdmin();
	if (newDoc._deleted) {
		if (!isAdmin) {
			forbid('only the server deletes documents');
		}
		return;
	}
	var parent = null;
	if (newDoc._revisions && newDoc._revisions.ids && newDoc._revisions.ids.length > 1) {
		parent = newDoc._revisions.start - 1 + '-' + newDoc._revisions.ids[1];
	}
	var compareWithOld = !!oldDoc && !oldDoc._deleted && (parent === null || parent === oldDoc._rev);
	var i;

	if (!isArray(newDoc.visibleTo) || newDoc.visibleTo.length === 0) {
		forbid('visibleTo must be a non-empty list of scopes');
	}
	for (i = 0; i < newDoc.visibleTo.length; i++) {
		if (!isString(newDoc.visibleTo[i])) {
			forbid('visibleTo entries must be strings');
		}
	}
	if (compareWithOld && isArray(oldDoc.visibleTo)) {
		for (i = 0; i < oldDoc.visibleTo.length; i++) {
			if (newDoc.visibleTo.indexOf(oldDoc.visibleTo[i]) === -1) {
				forbid('visibleTo only grows');
			}
		}
	}

	if (newDoc.type === 'ticket') {
		if (newDoc._id.indexOf('ticket:') !== 0) {
			forbid('a ticket id starts with ticket:');
		}
		if (!isArray(newDoc.events) || newDoc.events.length === 0) {
			forbid('a ticket holds a non-empty list of events');
		}
		if (newDoc._attachments) {
			forbid('a ticket carries no files: a photo is its own document');
		}
		var seen = {};
		for (i = 0; i < newDoc.events.length; i++) {
			var e = newDoc.events[i];
			if (!e || !isString(e.id) || !isString(e.type) || !isString(e.at) || !isString(e.by)) {
				forbid('every event has id, type, at and by');
			}
			if (seen[e.id]) {
				forbid('event ids are unique');
			}
			seen[e.id] = JSON.stringify(e);
		}
		if (compareWithOld && isArray(oldDoc.events)) {
			for (i = 0; i < oldDoc.events.length; i++) {
				var old = oldDoc.events[i];
				if (!seen[old.id]) {
					forbid('events are never removed');
				}
				if (seen[old.id] !== JSON.stringify(old)) {
					forbid('events are never edited');
				}
			}
		}
	} else if (newDoc.type === 'att') {
		if (newDoc._id.indexOf('att:') !== 0) {
			forbid('an attachment document id starts with att:');
		}
		if (!isString(newDoc.ticketId)) {
			forbid('an attachment document names its ticket');
		}
		if (compareWithOld && oldDoc.ticketId !== newDoc.ticketId) {
			forbid('an attachment document never changes its ticket');
		}
	} else {
		forbid('unknown document type');
	}
}
