/** The selector matcher PouchDB (and the embedded store) evaluates Mango selectors with; tests only. */
declare module 'pouchdb-selector-core' {
	export function matchesSelector(doc: object, selector: object): boolean;
}
