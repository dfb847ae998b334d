import { type ChargeState, createKeyguard, credits, keyguardResult, spendLimit } from '@keyguard/core'
import { createMockOpenAI } from '@keyguard/testing'
import type pg from 'pg'
import { describe, expect, it } from 'vitest'
import { migratedSchema } from '../client/migrated-schema'
import { postgresStore } from '../store/postgres-store'
import { postgresLedger } from './postgres-ledger'

let pool: pg.Pool
const schema = migratedSchema('statement', (opened) => {
  pool = opened
})

const canary = `sk-proj-${'St4t3m3nt'.repeat(5)}T3stW8q8A`

describe('LedgerQueries.statement', () => {
  it('agrees with the store counters to the nano', async () => {
    const tenant = `t-${process.pid}-${Date.now().toString(36)}`
    const ledger = postgresLedger({ pool, schema })
    const guard = createKeyguard({
      key: canary,
      fetch: createMockOpenAI().fetch,
      store: postgresStore({ pool, schema }),
      scope: { tenant },
      limits: [
        spendLimit({ scope: 'tenant', limit: 1_000_000_000, period: 'month' }),
        credits({ scope: 'tenant' }),
      ],
      ledger,
    })
    await guard.credits.grant({ tenant }, 3_000_000, { idempotencyKey: `${tenant}-purchase-1` })
    await guard.credits.grant({ tenant }, 3_000_000, { idempotencyKey: `${tenant}-purchase-1` })
    await guard.credits.grant({ tenant }, 1_234_567)
    const costs: number[] = []
    for (let i = 0; i < 6; i++) {
      const response = await guard.fetch('https://api.openai.com/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: `call ${i}` }],
          max_tokens: 20,
        }),
      })
      expect(response.status).toBe(200)
      await response.arrayBuffer()
      costs.push((await keyguardResult(response)?.settled)?.costNanos ?? Number.NaN)
    }
    await ledger.flush()

    const states = await guard.usage()
    const spend = states.find((state) => state.kind === 'spend') as ChargeState
    const balance = states.find((state) => state.kind === 'credits') as ChargeState
    const spent = costs.reduce((sum, cost) => sum + cost, 0)
    expect(spent).toBeGreaterThan(0)

    const statement = await ledger.statement({ scope: `tenant:${tenant}`, policy: balance.policy })
    expect(statement.inNanos).toBe(4_234_567)
    expect(statement.outNanos).toBe(balance.used)
    expect(statement.balanceNanos).toBe(balance.remaining)
    expect(statement.balanceNanos).toBe(4_234_567 - spent)
    expect(statement.movements.map((m) => m.kind)).toEqual(['grant', 'grant', ...costs.map(() => 'consume')])

    expect(
      await ledger.spentIn({
        scope: `tenant:${tenant}`,
        policy: spend.policy,
        periodEndsAt: spend.resetAt as number,
      }),
    ).toBe(spend.used)
    const [total] = await ledger.spend({ where: { tenant } })
    expect(total).toEqual({ group: {}, costNanos: spent, calls: 6 })
    const { rows } = await pool.query(
      `SELECT * FROM "${schema}".keyguard_calls WHERE scope->>'tenant' = $1`,
      [tenant],
    )
    expect(JSON.stringify(rows)).not.toContain(canary)
  }, 120_000)
})
