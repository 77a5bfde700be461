// Node 20 has no global navigator; PouchDB's IndexedDB adapters read navigator.userAgent (notes/web-stack.md).
globalThis.navigator ??= { userAgent: 'node' } as Navigator;
// @ts-expect-error -- the package ships no types for its side-effect entry point
await import('fake-indexeddb/auto');

export {};
