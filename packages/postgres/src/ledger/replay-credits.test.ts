import { describe, expect, it } from 'vitest'
import type { CreditMovement } from './ledger-queries'
import { replayCredits } from './replay-credits'

const move = (
  id: string,
  kind: CreditMovement['kind'],
  amountNanos: number,
  at: number,
  expiresAt: number | null = null,
): CreditMovement => ({ id, kind, amountNanos, at, expiresAt, reservationId: null })

describe('replayCredits', () => {
  it('consumes oldest first, expires what is left of a grant at its expiry, and lets a grant pay debt', () => {
    const replayed = replayCredits(
      [
        move('a', 'grant', 100, 1, 50),
        move('b', 'grant', 40, 2),
        move('c1', 'consume', 30, 10), // from a: 70 left of it
        move('c2', 'consume', 60, 60), // a expired at 50 with 70; b pays 40, 20 becomes debt
        move('r', 'recharge', 25, 70), // pays the 20 of debt first
        move('expiry:a', 'expiry', 70, 50), // recorded before: derived again, not counted twice
      ],
      100,
    )
    expect(replayed).toEqual({
      grants: [{ id: 'r', amountNanos: 5, expiresAt: null }],
      debtNanos: 0,
      consumedNanos: 90,
      expiries: [move('expiry:a', 'expiry', 70, 50)],
    })
  })

  it('expires a grant by now even when nothing moved after it', () => {
    const replayed = replayCredits([move('a', 'grant', 100, 1, 50)], 49)
    expect(replayed.expiries).toEqual([])
    expect(replayCredits([move('a', 'grant', 100, 1, 50)], 50).expiries).toEqual([
      move('expiry:a', 'expiry', 100, 50),
    ])
  })
})
