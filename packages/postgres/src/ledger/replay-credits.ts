import type { CreditMovement } from './ledger-queries'

/** A credits balance as the store keeps it, replayed from the ledger's movements. */
export interface ReplayedCredits {
  /** Unexpired grants with what is left of each, oldest first. */
  grants: { id: string; amountNanos: number; expiresAt: number | null }[]
  /** Consumed beyond every grant; the next grant pays it first. */
  debtNanos: number
  /** Everything calls consumed (the store's `used`). */
  consumedNanos: number
  /** What expired unused: one movement per grant (`expiry:<grant id>`), at the grant's expiry. */
  expiries: CreditMovement[]
}

/**
 * Replay grants, recharges and consumptions with the store's rules (docs/store-semantics.md §3.5):
 * a consumption takes from unexpired grants oldest first and leaves the rest as debt, a grant pays
 * debt first, and a grant whose `expiresAt` has passed (by the next movement, or by `now`) is gone
 * with what was left of it. Recorded `expiry` movements are ignored: they are derived here.
 *
 * @param movements - one scope's and policy's movements, in order.
 * @param now - epoch ms: grants expired by then count as expired.
 * @example
 * ```ts
 * const { grants, expiries } = replayCredits(statement.movements, Date.now())
 * ```
 */
export function replayCredits(movements: readonly CreditMovement[], now: number): ReplayedCredits {
  let grants: ReplayedCredits['grants'] = []
  let debtNanos = 0
  let consumedNanos = 0
  const expiries: CreditMovement[] = []
  const expireBy = (at: number) => {
    for (const grant of grants) {
      if (grant.expiresAt === null || grant.expiresAt > at || grant.amountNanos === 0) continue
      expiries.push({
        id: `expiry:${grant.id}`,
        kind: 'expiry',
        amountNanos: grant.amountNanos,
        at: grant.expiresAt,
        expiresAt: null,
        reservationId: null,
      })
      grant.amountNanos = 0
    }
    grants = grants.filter((grant) => grant.amountNanos > 0)
  }
  for (const movement of movements) {
    if (movement.kind === 'expiry') continue
    expireBy(movement.at)
    if (movement.kind === 'consume') {
      let left = movement.amountNanos
      for (const grant of grants) {
        const take = Math.min(grant.amountNanos, left)
        grant.amountNanos -= take
        left -= take
      }
      grants = grants.filter((grant) => grant.amountNanos > 0)
      debtNanos += left
      consumedNanos += movement.amountNanos
      continue
    }
    const paid = Math.min(debtNanos, movement.amountNanos)
    debtNanos -= paid
    if (movement.amountNanos > paid)
      grants.push({
        id: movement.id,
        amountNanos: movement.amountNanos - paid,
        expiresAt: movement.expiresAt,
      })
  }
  expireBy(now)
  return { grants, debtNanos, consumedNanos, expiries }
}
