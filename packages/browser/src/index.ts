// @tiercache/browser: indexedDbStore, createCachedFetch, broadcastInvalidation land here.
export {}
