function map(doc) {
	if (doc.type === 'ticket' && doc.callerKey) {
		emit(doc.callerKey, null);
	}
}
