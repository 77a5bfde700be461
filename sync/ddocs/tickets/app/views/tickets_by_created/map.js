function map(doc) {
	if (doc.type === 'ticket' && doc.createdAt) {
		emit(doc.createdAt, null);
	}
}
