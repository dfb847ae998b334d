import { memoryStore } from '@keyguard/core'
import type pg from 'pg'
import { describe, it } from 'vitest'
import { migratedSchema } from '../client/migrated-schema'
import { postgresLedger } from '../ledger/postgres-ledger'
import { rebuildAndAdmit, spendAndRecord } from './__fixtures__/rebuild-scenario'

let pool: pg.Pool
const schema = migratedSchema('rebuild', (opened) => {
  pool = opened
})

describe('rebuildStore', () => {
  it('restores spend and credits from the ledger so exactly K more calls are admitted', async () => {
    const ledger = postgresLedger({ pool, schema })
    const before = await spendAndRecord(memoryStore(), ledger, 'memory')
    // the cache lost everything: a fresh store would admit 10 more
    await rebuildAndAdmit(memoryStore(), ledger, before)
  })
})
