function map(doc) {
	if (doc.type === 'ticket' && doc.visibleTo) {
		for (var i = 0; i < doc.visibleTo.length; i++) {
			emit(doc.visibleTo[i], null);
		}
	}
}
