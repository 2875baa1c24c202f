import { fileURLToPath } from 'node:url'
import type { Harness } from '../harness.js'

/** The page bundle every scenario drives (window.app). */
export const appEntry = fileURLToPath(new URL('../pages/app.ts', import.meta.url))

/** What app.driver.test.ts shares with the scenarios: the harness exists once its beforeAll ran. */
export interface DriverEnv {
  readonly h: Harness
}

/** A fresh database (or channel) name: tests share the origin's IndexedDB. */
export const unique = (label: string): string => `${label}-${Math.random().toString(36).slice(2)}`
