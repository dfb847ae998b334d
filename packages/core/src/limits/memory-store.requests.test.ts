import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { memoryStore } from './memory-store'
import type { Charge, LimitRule } from './store'

type Op =
  | { op: 'reserve'; amounts: number[]; leaseMs: number }
  | { op: 'settle'; pick: number }
  | { op: 'release'; pick: number }
  | { op: 'advance'; ms: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('reserve' as const),
    // two amounts: the same policy charged twice in one reservation
    amounts: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 2 }),
    leaseMs: fc.integer({ min: 1, max: 300 }),
  }),
  fc.record({ op: fc.constant('settle' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('release' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 120 }) }),
)

describe('memoryStore requests log', () => {
  it('matches a model of a sliding window whatever calls hold, settle, release, expire and age out', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8 }), fc.array(opArb, { maxLength: 60 }), (limit, ops) => {
        let now = 1_000_000
        const store = memoryStore({ now: () => now })
        const windowMs = 150
        const rule: LimitRule = { kind: 'requests', limit, windowMs }
        const scope = 'tenant:t'
        type Logged = { at: number; amount: number; status: 'pending' | 'settled' | 'removed' }
        const log: Logged[] = []
        const records: { id: string; leaseEnd: number; entries: Logged[]; status: string }[] = []
        // what the store shows: entries in the window, a pending one reclaimed (removed) once its lease ended
        const counted = () => {
          for (const record of records) {
            if (record.status === 'live' && record.leaseEnd <= now) {
              record.status = 'expired'
              for (const entry of record.entries) if (entry.status === 'pending') entry.status = 'removed'
            }
          }
          return log.filter((entry) => entry.at > now - windowMs && entry.status !== 'removed')
        }
        for (const [n, op] of ops.entries()) {
          if (op.op === 'advance') now += op.ms
          else if (op.op === 'reserve') {
            const id = `r${n}`
            const charges: Charge[] = op.amounts.map((amount) => ({ scope, policy: 'rpm', rule, amount }))
            const total = counted().reduce((sum, entry) => sum + entry.amount, 0)
            let taken = 0
            let fits = true
            for (const amount of op.amounts) {
              if (amount > Math.max(0, limit - total - taken)) fits = false
              taken += amount
            }
            const result = store.reserve({ id, leaseMs: op.leaseMs, charges }) as { ok: boolean }
            expect(result.ok).toBe(fits)
            if (fits) {
              const entries = op.amounts.map((amount) => ({ at: now, amount, status: 'pending' as const }))
              log.push(...entries)
              records.push({ id, leaseEnd: now + op.leaseMs, entries, status: 'live' })
            }
          } else if (records.length > 0) {
            const record = records[op.pick % records.length] as (typeof records)[number]
            counted()
            const settle = op.op === 'settle'
            const result = settle
              ? store.settle({ id: record.id, actual: { costNanos: 0, tokens: 0 } })
              : store.release(record.id)
            const status = (result as { status: string }).status
            if (record.status === 'live') {
              expect(status).toBe(settle ? 'settled' : 'released')
              record.status = settle ? 'settled' : 'released'
              for (const entry of record.entries) {
                if (entry.status === 'pending') entry.status = settle ? 'settled' : 'removed'
              }
            } else expect(status).not.toBe(settle ? 'settled' : 'released')
          }
          const shown = counted()
          const used = shown.filter((e) => e.status === 'settled').reduce((sum, e) => sum + e.amount, 0)
          const held = shown.filter((e) => e.status === 'pending').reduce((sum, e) => sum + e.amount, 0)
          const [state] = store.peek({ scope, policies: [{ policy: 'rpm', rule }] }) as unknown as [
            { used: number; held: number; remaining: number; resetAt: number | null },
          ]
          expect(state).toMatchObject({
            used,
            held,
            remaining: Math.max(0, limit - used - held),
            resetAt: shown.length > 0 ? (shown[0] as Logged).at + windowMs : null,
          })
        }
      }),
      { numRuns: 300 },
    )
  })
})
