// PouchDB's `indexeddb` adapter ships no types; it is a plugin like the others (PouchDB.plugin).
declare module 'pouchdb-adapter-indexeddb' {
	const plugin: PouchDB.Plugin;
	export default plugin;
}
