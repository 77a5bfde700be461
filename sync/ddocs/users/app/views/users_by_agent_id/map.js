function map(doc) {
	if (doc.type === 'user' && doc.agentId) {
		emit(doc.agentId, null);
	}
}
