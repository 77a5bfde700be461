function map(doc) {
	if (doc.type === 'ticket' && doc.customerIds) {
		for (var i = 0; i < doc.customerIds.length; i++) emit(doc.customerIds[i], null);
	}
}
