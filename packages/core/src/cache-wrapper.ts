import type { CacheControlOptions } from './cache-control.js'
import type { Cache, InvalidateOptions, WaitUntil } from './cache.js'
import type { HotKey } from './engine/hot-keys.js'
import type { BatchLoader, BatchPolicy, Loader } from './engine/loader.js'
import type { GetManyOrSetOptions, GetOptions, GetOrSetOptions } from './engine/status.js'
import type { Policy, ResolvedPolicy } from './policy.js'
import type { CacheEvent, CacheStats } from './stats.js'
import type { Store } from './store.js'

/**
 * A Cache that hands every call to the cache it wraps. The wrappers (withConsistentWrites, instrumentCache) extend it
 * and override only the calls they change; `withContext` must wrap the inner view again, so each wrapper writes it.
 */
export abstract class CacheWrapper implements Cache {
  protected readonly inner: Cache

  constructor(inner: Cache) {
    this.inner = inner
  }

  abstract withContext(context: { waitUntil?: WaitUntil | undefined }): Cache

  get tiers(): readonly Store[] {
    return this.inner.tiers
  }

  get namespace(): string {
    return this.inner.namespace
  }

  getOrSet<V, S = V>(key: string, loader: Loader<V, S>, policy?: Partial<Policy>, options?: GetOrSetOptions): Promise<V | null> {
    return this.inner.getOrSet(key, loader, policy, options)
  }

  get<V = unknown>(key: string, options?: GetOptions): Promise<V | null | undefined> {
    return this.inner.get<V>(key, options)
  }

  getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy: BatchPolicy | undefined, options: GetManyOrSetOptions & { errors: unknown[] }): Promise<(V | null | undefined)[]>
  getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy?: BatchPolicy, options?: GetManyOrSetOptions): Promise<(V | null)[]>
  getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy?: BatchPolicy, options?: GetManyOrSetOptions): Promise<(V | null | undefined)[]> {
    return this.inner.getManyOrSet(keys, loadMany, policy, options)
  }

  set<V>(key: string, value: V | null | undefined, policy?: Partial<Policy>): Promise<void> {
    return this.inner.set(key, value, policy)
  }

  write<V>(key: string, value: V, persist: (value: V) => unknown, policy?: Partial<Policy>): Promise<void> {
    return this.inner.write(key, value, persist, policy)
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key)
  }

  expire(key: string): Promise<void> {
    return this.inner.expire(key)
  }

  invalidateTags(tags: readonly string[], options?: InvalidateOptions): Promise<void> {
    return this.inner.invalidateTags(tags, options)
  }

  stats(): CacheStats {
    return this.inner.stats()
  }

  cacheControl(policy?: Partial<Policy>, options?: CacheControlOptions): string {
    return this.inner.cacheControl(policy, options)
  }

  idle(): Promise<void> {
    return this.inner.idle()
  }

  subscribe(listener: (event: CacheEvent) => void): () => void {
    return this.inner.subscribe(listener)
  }

  resolvePolicy(policy?: Partial<Policy>): ResolvedPolicy {
    return this.inner.resolvePolicy(policy)
  }

  hotKeys(n: number): HotKey[] {
    return this.inner.hotKeys(n)
  }
}
