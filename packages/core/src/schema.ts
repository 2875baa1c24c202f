import type { StandardSchemaV1 } from '@standard-schema/spec'
import { CacheError, describeError } from './errors.js'

/** What checking a stored value found: the value to serve (migrated or not), or why it cannot be served. */
export type Verdict = { value: unknown; migrated: boolean; issues?: undefined } | { issues: readonly StandardSchemaV1.Issue[] }

/**
 * Checks a value read from a tier against `schema`; one that fails goes through `migrate` (when given) and is
 * checked again. Never throws: a schema or migrate that throws makes the value invalid.
 */
export async function checkStored(
  schema: StandardSchemaV1,
  migrate: ((stored: unknown) => unknown) | undefined,
  value: unknown,
): Promise<Verdict> {
  try {
    const first = await schema['~standard'].validate(value)
    if (first.issues === undefined) return { value, migrated: false }
    if (migrate === undefined) return { issues: first.issues }
    const next = await migrate(value)
    if (next === null || next === undefined) return { issues: first.issues }
    const second = await schema['~standard'].validate(next)
    return second.issues === undefined ? { value: next, migrated: true } : { issues: second.issues }
  } catch (error) {
    return { issues: [{ message: describeError(error) }] }
  }
}

/** The INVALID_VALUE error of a loaded value that failed its schema. */
export function invalidLoaded(key: string, issues: readonly StandardSchemaV1.Issue[]): CacheError {
  return new CacheError('INVALID_VALUE', `the loaded value for ${key} fails policy.schema: ${issues[0]?.message}`, { key, cause: issues })
}
