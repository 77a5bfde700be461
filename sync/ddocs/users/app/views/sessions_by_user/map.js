function map(doc) {
	if (doc.type === 'session') {
		emit(doc.userId, doc.expiresAt);
	}
}
