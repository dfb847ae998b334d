import { checkOptions } from '../config/check-options'
import type { LimitEvent } from './limit-event'
import type { LimitPolicy } from './limit-policy'
import type { KeyguardStore, StoreEvent } from './store'

/** Options for {@link autoRecharger}. */
export interface AutoRechargerOptions {
  store: KeyguardStore
  policies: readonly LimitPolicy[]
  emit: (event: LimitEvent) => void
  /** The clock, for the credits rule's period. @default `Date.now` */
  now?: () => number
}

/** Runs recharges the store asks for; see {@link autoRecharger}. */
export interface AutoRecharger {
  /** Pass every store event; `recharge-due` ones start a recharge, others are ignored. */
  handle(events: readonly StoreEvent[]): void
  /** Resolves when every recharge started so far has finished. */
  idle(): Promise<void>
}

/**
 * Turn the store's `recharge-due` events into calls of the credits policy's `recharge`: one at a
 * time per scope and policy, then a grant under the event's idempotency key (or, after a failure,
 * clearing the store's pending mark). Emits `recharge-requested`, `-succeeded`, `-failed`.
 *
 * @param options - the store, the policies (for their `recharge`) and the event sink.
 * @example
 * ```ts
 * const recharger = autoRecharger({ store, policies, emit: (event) => console.log(event.type) })
 * const result = await store.reserve(input)
 * recharger.handle(result.events)
 * ```
 */
export function autoRecharger(options: AutoRechargerOptions): AutoRecharger {
  checkOptions('autoRecharger', options, ['store', 'policies', 'emit', 'now'])
  const { store, policies, emit, now = Date.now } = options
  const running = new Map<string, Promise<void>>()

  const run = async (
    event: Extract<StoreEvent, { type: 'recharge-due' }>,
    policy: LimitPolicy,
  ): Promise<void> => {
    const { scope, amountNanos, idempotencyKey } = event
    const base = { scope, policy: event.policy, amountNanos, idempotencyKey }
    emit({ type: 'recharge-requested', ...base })
    const id = scope === 'global' ? 'global' : scope.slice(scope.indexOf(':') + 1)
    const rule = await policy.ruleFor(id, now())
    try {
      await policy.recharge?.(scope, amountNanos, idempotencyKey)
    } catch (error) {
      await store.adjust({ scope, policy: event.policy, rule, delta: 0, idempotencyKey })
      emit({ type: 'recharge-failed', ...base, error })
      return
    }
    await store.adjust({ scope, policy: event.policy, rule, delta: amountNanos, idempotencyKey })
    emit({ type: 'recharge-succeeded', ...base })
  }

  return {
    handle(events) {
      for (const event of events) {
        if (event.type !== 'recharge-due') continue
        const policy = policies.find((p) => p.kind === 'credits' && p.name === event.policy && p.recharge)
        const key = `${event.scope}\u0000${event.policy}`
        if (!policy || running.has(key)) continue
        const task = run(event, policy)
          .catch((error: unknown) => {
            emit({
              type: 'recharge-failed',
              scope: event.scope,
              policy: event.policy,
              amountNanos: event.amountNanos,
              idempotencyKey: event.idempotencyKey,
              error,
            })
          })
          .finally(() => running.delete(key))
        running.set(key, task)
      }
    },
    async idle() {
      while (running.size > 0) await Promise.all(running.values())
    },
  }
}
