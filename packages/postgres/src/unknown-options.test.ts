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
})
