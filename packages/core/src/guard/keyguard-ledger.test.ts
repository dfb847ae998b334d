import { createMockOpenAI, fakeClock } from '@keyguard/testing'
import { describe, expect, it } from 'vitest'
import { credits } from '../limits/credits'
import { memoryStore } from '../limits/memory-store'
import { spendLimit } from '../limits/spend-limit'
import { createKeyguard } from './create-keyguard'
import type { KeyguardLedger, LedgerEntry } from './keyguard-ledger'
import { keyguardResult } from './keyguard-result'

const canary = `sk-proj-${'L3dg3rK3y'.repeat(5)}T3stW8q8A`
const chat = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hi' }],
  max_tokens: 50,
})

function setup(ledger: KeyguardLedger, logs: unknown[] = []) {
  const clock = fakeClock('2026-11-28T12:00:00Z')
  const mock = createMockOpenAI()
  const recharged: string[] = []
  const guard = createKeyguard({
    key: canary,
    upstream: { fetch: mock.fetch },
    now: clock.now,
    store: memoryStore({ now: clock.now }),
    scope: { tenant: 't1', user: 'u1' },
    limits: [
      spendLimit({ scope: 'tenant', limit: 1_000_000_000, period: 'month' }),
      credits({
        scope: 'tenant',
        autoRecharge: {
          threshold: 1_000_000_000,
          amount: 2_000_000_000,
          maxPerPeriod: 1,
          recharge: (_scope, _amount, key) => void recharged.push(key),
        },
      }),
    ],
    ledger,
    logger: { warn: (...args) => logs.push(args), error: (...args) => logs.push(args) },
  })
  const post = () =>
    guard.fetch('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chat,
    })
  return { guard, post, recharged }
}

describe('KeyguardLedger', () => {
  it('receives every settled call and credit movement, never the key', async () => {
    const entries: LedgerEntry[] = []
    const { guard, post, recharged } = setup({
      record: (entry) => void entries.push(entry),
      flush: async () => {},
    })
    await guard.credits.grant({ tenant: 't1' }, 1_000_000_100, { idempotencyKey: 'purchase-1' })
    const response = await post()
    await response.arrayBuffer()
    const settled = await keyguardResult(response)?.settled
    await expect.poll(() => recharged.length).toBe(1)

    const call = entries.find((entry) => entry.type === 'call')
    expect(call).toMatchObject({
      reservationId: settled?.reservationId,
      scope: { tenant: 't1', user: 'u1', key: 'default', model: 'gpt-4o-mini' },
      keyName: 'default',
      fingerprint: expect.stringMatching(/^sk-proj…/),
      model: 'gpt-4o-mini',
      endpoint: '/v1/chat/completions',
      costNanos: settled?.costNanos,
      ending: 'complete',
      estimated: false,
      upstreamRequestId: expect.stringMatching(/^req_/),
      charges: [
        { scope: 'tenant:t1', policy: expect.any(String), kind: 'spend', resetAt: expect.any(Number) },
        { scope: 'tenant:t1', policy: expect.any(String), kind: 'credits', resetAt: null },
      ],
    })
    expect(call?.type === 'call' && call.tokens.total).toBeGreaterThan(0)
    const moves = entries
      .filter((entry) => entry.type === 'credit')
      .map((entry) => [entry.kind, entry.amountNanos])
    expect(moves).toEqual([
      ['grant', 1_000_000_100],
      ['consume', settled?.costNanos],
      ['recharge', 2_000_000_000],
    ])
    expect(JSON.stringify(entries)).not.toContain(canary)
  })

  it('never fails a call when the ledger throws', async () => {
    const logs: unknown[] = []
    const ledger = {
      record: () => {
        throw new Error('ledger down')
      },
      flush: async () => {},
    }
    const { post, guard } = setup(ledger, logs)
    expect((await guard.credits.grant({ tenant: 't1' }, 5_000_000_000)).limit).toBe(5_000_000_000)
    const response = await post()
    expect(response.status).toBe(200)
    await response.arrayBuffer()
    expect((await keyguardResult(response)?.settled)?.costNanos).toBeGreaterThan(0)
    expect(logs).toContainEqual(['keyguard: the ledger refused an entry', { error: 'ledger down' }])
  })

  it('is validated with the other options', () => {
    expect(() => createKeyguard({ key: canary, ledger: {} as KeyguardLedger })).toThrow(/ledger/)
  })
})
