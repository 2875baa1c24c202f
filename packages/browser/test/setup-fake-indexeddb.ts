// Gives plain Node a spec-compliant IndexedDB (indexedDB, IDBKeyRange, ...) on globalThis.
import 'fake-indexeddb/auto'
