function map(doc) {
	if (doc.type === 'ticket' && doc.contentCategoryId) {
		emit(doc.contentCategoryId, null);
	}
}
