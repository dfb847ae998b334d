import { isKeyguardError } from '@keyguard/core'
import { describe, expect, it } from 'vitest'
import type { PoolLike } from './client/pool-like'
import { postgresLedger } from './ledger/postgres-ledger'
import { migrate } from './migrations/migrate'
import { rebuildStore } from './rebuild/rebuild-store'
import { postgresStore } from './store/postgres-store'

// No database is reached: the options are refused before the pool is used.
const pool = {
  query: () => Promise.reject(new Error('no query expected')),
  connect: () => Promise.reject(new Error('no connection expected')),
} as unknown as PoolLike

const refusalOf = async (build: () => unknown) => {
  const error = await (async () => build())().then(
    () => undefined,
    (rejection: unknown) => rejection,
  )
  if (!isKeyguardError(error)) throw new Error(`expected a KeyguardError, got ${String(error)}`)
  return error
}

describe('@keyguard/postgres factories', () => {
  it.each([
    ['postgresLedger', () => postgresLedger({ pool, schem: 'tenant_a' } as never), 'schem', 'schema'],
    ['postgresStore', () => postgresStore({ pool, schemaa: 'tenant_a' } as never), 'schemaa', 'schema'],
    ['migrate', () => migrate({ pool, shema: 'tenant_a' } as never), 'shema', 'schema'],
    ['rebuildStore', () => rebuildStore({ ledger: {}, store: {}, target: [] } as never), 'target', 'targets'],
  ] as const)(
    '%s rejects an unknown option with config.invalid, naming the closest known one',
    async (_, build, typo, meant) => {
      const error = await refusalOf(build)
      expect(error.code).toBe('config.invalid')
      expect(error.message).toContain(`unknown option \`${typo}\`; did you mean \`${meant}\`?`)
    },
  )

  it.each([
    ['postgresLedger', 'batchSize', () => postgresLedger({ pool, batchSize: 0 }), 'batchSize is not above 0'],
    [
      'postgresLedger',
      'concurrency',
      () => postgresLedger({ pool, concurrency: 1.5 }),
      'concurrency is not an integer',
    ],
    [
      'postgresLedger',
      'pool',
      () => postgresLedger({ pool: {} as PoolLike }),
      'pool is not a pool with query(text, values)',
    ],
    [
      'postgresStore',
      'schema',
      () => postgresStore({ pool, schema: 'Tenant-A' }),
      'schema is not a lowercase Postgres identifier',
    ],
    [
      'postgresStore',
      'synchronousCommit',
      () => postgresStore({ pool, synchronousCommit: 'off' as never }),
      'synchronousCommit is not a boolean',
    ],
    [
      'migrate',
      'pool',
      () => migrate({ pool: { query: pool.query } as PoolLike }),
      'pool is not a pool with query() and connect()',
    ],
    [
      'rebuildStore',
      'store',
      () =>
        rebuildStore({
          ledger: { spentIn: async () => 0, statement: async () => [] } as never,
          store: {} as never,
          targets: [{ scope: 'tenant:t', policy: 'rpm', rule: { kind: 'requests' } as never }],
        }),
      'store is not a KeyguardStore',
    ],
  ] as const)(
    '%s refuses a bad %s with config.invalid naming the option and a fix',
    async (_, path, build, message) => {
      const error = await refusalOf(build)
      expect(error.code).toBe('config.invalid')
      expect(error.message).toContain(message)
      expect(error.problems?.some((problem) => problem.path === path && problem.fix.length > 0)).toBe(true)
    },
  )

  it('lists every problem of one call in one error', async () => {
    const error = await refusalOf(() =>
      rebuildStore({
        ledger: {} as never,
        store: {} as never,
        targets: [{ scope: 'tenant:t', policy: 'rpm', rule: { kind: 'requests' } as never }],
      }),
    )
    expect(error.problems?.map((problem) => problem.path)).toEqual(['ledger', 'store', 'targets[0].rule'])
  })
})
