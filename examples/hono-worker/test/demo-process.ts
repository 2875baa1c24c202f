// The demo process helper lives in scripts/start-demo.mjs, shared with the load run and the benchmarks.
export { startDemo } from '../scripts/start-demo.mjs'
export type { Demo, StartDemoOptions } from '../scripts/start-demo.mjs'
