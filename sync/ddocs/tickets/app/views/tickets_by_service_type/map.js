function map(doc) {
	if (doc.type === 'ticket' && doc.serviceTypeId) {
		emit(doc.serviceTypeId, null);
	}
}
