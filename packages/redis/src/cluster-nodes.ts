import { Circuit, type CircuitBreakerOptions } from '@tiercache/core'
import type { Cluster } from 'ioredis'
import { keySlot } from './key-slot.js'

/** The keys of one batch that one Cluster node serves, by slot (a multi-key command must stay in one slot). */
export interface NodeBatch {
  /** The node's address ("host:port"), or `slot:<n>` while the client has not learnt who serves the slot. */
  node: string
  /** Positions in the batch, per slot. */
  slots: Map<number, number[]>
}

/**
 * Splits a batch of keys by the Cluster node serving them, from the client's own slot table (`cluster.slots`,
 * refreshed by ioredis on MOVED), so that each node gets one pipeline: one round trip per node, in parallel.
 */
export function batchByNode(cluster: Cluster, keys: readonly string[]): NodeBatch[] {
  const batches = new Map<string, NodeBatch>()
  for (let i = 0; i < keys.length; i++) {
    const slot = keySlot(keys[i] as string)
    const node = cluster.slots[slot]?.[0] ?? `slot:${slot}`
    let batch = batches.get(node)
    if (batch === undefined) {
      batch = { node, slots: new Map() }
      batches.set(node, batch)
    }
    const positions = batch.slots.get(slot)
    if (positions === undefined) batch.slots.set(slot, [i])
    else positions.push(i)
  }
  return [...batches.values()]
}

/** The node serving one key. */
export function nodeOf(cluster: Cluster, key: string): string {
  const slot = keySlot(key)
  return cluster.slots[slot]?.[0] ?? `slot:${slot}`
}

/**
 * One circuit per Cluster node, so that a node that is down is skipped at once (its keys are misses) while the
 * others keep answering: a breaker around the whole store would stop them all.
 */
export class NodeCircuits {
  readonly #circuits = new Map<string, Circuit>()
  readonly #name: string
  readonly #options: CircuitBreakerOptions
  readonly #timeout: number | undefined
  #clock: (() => number) | undefined

  constructor(name: string, options: CircuitBreakerOptions, timeout: number | undefined) {
    // Checks the options now, not at the first call.
    new Circuit(name, options, timeout)
    this.#name = name
    this.#options = options
    this.#timeout = timeout
  }

  of(node: string): Circuit {
    let circuit = this.#circuits.get(node)
    if (circuit === undefined) {
      circuit = new Circuit(`${this.#name} node ${node}`, this.#options, this.#timeout)
      if (this.#clock !== undefined) circuit.useClock(this.#clock)
      this.#circuits.set(node, circuit)
    }
    return circuit
  }

  useClock(clock: () => number): void {
    this.#clock = clock
    for (const circuit of this.#circuits.values()) circuit.useClock(clock)
  }

  /** The state of every node met so far. */
  states(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [node, circuit] of this.#circuits) out[node] = circuit.state
    return out
  }
}
