import type { UpstreamRateLimits } from '../errors/parse-rate-limit-headers'
import type { autoRecharger } from '../limits/auto-recharger'
import type { StoreEvent } from '../limits/store'
import type { KeyCircuits } from './key-circuits'
import type { createEmitter } from './keyguard-events'
import type { ResolvedOptions } from './keyguard-options'

/** What every guard bound from one `createKeyguard` call shares: options, listeners, breakers. */
export interface Shared {
  options: ResolvedOptions
  emitter: ReturnType<typeof createEmitter>
  recharger: ReturnType<typeof autoRecharger>
  /** The circuit breaker of each key. */
  circuits: KeyCircuits
  /** The last upstream rate-limit headers by key name. */
  rateLimits: Map<string, { limits: UpstreamRateLimits; seenAt: number }>
}

/** Pass what a store reported to the guard's listeners, and the due recharges to the recharger. */
export function handleStoreEvents(shared: Shared, events: readonly StoreEvent[]): void {
  if (events.length === 0) return
  for (const event of events) {
    if (event.type === 'recharge-due') continue // the recharger turns it into recharge-* events
    shared.emitter.emit(event)
  }
  shared.recharger.handle(events)
}
