// Node 20 has no global navigator; PouchDB's IndexedDB adapters read navigator.userAgent (notes/web-stack.md).
globalThis.navigator ??= { userAgent: 'node' } as Navigator;
await import('fake-indexeddb/auto');
