function map(doc) {
	if (doc.type === 'crew' && doc.memberIds) {
		for (var i = 0; i < doc.memberIds.length; i++) {
			emit(doc.memberIds[i], null);
		}
	}
}
