// Shared shape of a library adapter. Types only (JSDoc); nothing runs here.

/**
 * Options every adapter's create() receives. Durations in milliseconds.
 * @typedef {object} CreateOptions
 * @property {number} ttlMs            fresh lifetime
 * @property {number} [swrMs]          stale-while-revalidate window after ttlMs (only when the scenario needs it)
 * @property {number} maxEntries       capacity, for libraries with a bounded memory store
 * @property {(key: string) => any} load   the loader ("origin"); may return a value or a promise
 */

/**
 * One cache instance built by an adapter: a getOrSet-equivalent bound to the loader.
 * @typedef {object} Instance
 * @property {(key: string) => Promise<any>} getOrSet
 * @property {() => Promise<void> | void} [close]
 */

/**
 * @typedef {object} Adapter
 * @property {string} id               stable id, used by the memory child process
 * @property {string} label            shown in tables
 * @property {string[]} packages       npm packages whose versions the report lists
 * @property {true | string} swr       true, or why stale-while-revalidate is not measured
 * @property {string} usage            how the getOrSet-equivalent is called, shown in the method notes
 * @property {() => Promise<void>} probe        import the library; throws when it is unavailable
 * @property {(opts: CreateOptions) => Promise<Instance>} create
 */

export {}
