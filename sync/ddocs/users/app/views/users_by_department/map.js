function map(doc) {
	if (doc.type === 'user') {
		emit(doc.departmentId, null);
	}
}
