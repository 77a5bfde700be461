function map(doc) {
	if (doc.type === 'ticket' && doc.events) {
		var seen = {};
		for (var i = 0; i < doc.events.length; i++) {
			var by = doc.events[i].by;
			if (by && !seen[by]) {
				seen[by] = true;
				emit(by, null);
			}
		}
	}
}
