function map(doc) {
	if (doc.type === 'ticket' && doc.flowId) {
		emit(doc.flowId, null);
	}
}
