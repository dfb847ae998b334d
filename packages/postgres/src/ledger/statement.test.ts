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

const newTenant = () =>
  `t-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`

/** A guard with a spend limit and credits per tenant, on the Postgres store and ledger. */
function guardWithLedger(tenant: string) {
  const ledger = postgresLedger({ pool, schema })
  const guard = createKeyguard({
    key: canary,
    upstream: { fetch: createMockOpenAI().fetch },
    store: postgresStore({ pool, schema }),
    scope: { tenant },
    limits: [
      spendLimit({ scope: 'tenant', limit: 1_000_000_000, period: 'month' }),
      credits({ scope: 'tenant' }),
    ],
    ledger,
  })
  return { guard, ledger }
}

/** One chat call through the guard; answers what it cost. */
async function chat(guard: ReturnType<typeof createKeyguard>, content: string): Promise<number> {
  const response = await guard.fetch('https://api.openai.com/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], max_tokens: 20 }),
  })
  expect(response.status).toBe(200)
  await response.arrayBuffer()
  return (await keyguardResult(response)?.settled)?.costNanos ?? Number.NaN
}

describe('LedgerQueries.statement', () => {
  it('agrees with the store counters to the nano', async () => {
    const tenant = newTenant()
    const { guard, ledger } = guardWithLedger(tenant)
    await guard.credits.grant({ tenant }, 3_000_000, { idempotencyKey: `${tenant}-purchase-1` })
    await guard.credits.grant({ tenant }, 3_000_000, { idempotencyKey: `${tenant}-purchase-1` })
    await guard.credits.grant({ tenant }, 1_234_567)
    const costs: number[] = []
    for (let i = 0; i < 6; i++) costs.push(await chat(guard, `call ${i}`))
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

  it('records what expired unused as an expiry row, once, and still agrees with the store', async () => {
    const tenant = newTenant()
    const { guard, ledger } = guardWithLedger(tenant)
    const scope = `tenant:${tenant}`
    // the first grant (oldest, consumed first) expires soon; the second never does
    await guard.credits.grant({ tenant }, 2_000_000, { expiresAt: Date.now() + 3_000 })
    await guard.credits.grant({ tenant }, 5_000_000)
    const cost = await chat(guard, 'before the expiry')
    await ledger.flush()
    const policy = (await guard.usage()).find((state) => state.kind === 'credits')?.policy as string

    // the store drops the grant on its own clock; the statement derives the same from the ledger
    await expect
      .poll(async () => (await ledger.statement({ scope, policy })).movements.map((m) => m.kind), {
        timeout: 30_000,
        interval: 250,
      })
      .toEqual(['grant', 'grant', 'consume', 'expiry'])
    const statement = await ledger.statement({ scope, policy })
    const balance = (await guard.usage()).find((state) => state.kind === 'credits') as ChargeState
    expect(statement.movements.at(-1)?.amountNanos).toBe(2_000_000 - cost)
    expect(statement.outNanos).toBe(2_000_000)
    expect(statement.balanceNanos).toBe(balance.remaining)
    expect(statement.balanceNanos).toBe(5_000_000)
    const { rows } = await pool.query(
      `SELECT id, amount_nanos::text AS amount FROM "${schema}".keyguard_credit_movements
       WHERE scope = $1 AND kind = 'expiry'`,
      [scope],
    )
    expect(rows).toEqual([{ id: expect.stringMatching(/^expiry:/), amount: String(2_000_000 - cost) }])
  }, 120_000)
})
