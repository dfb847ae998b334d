import { parseOptions } from '@keyguard/core/adapter'
import * as z from 'zod/mini'
import { poolOption, schemaOption, sharedFixes } from '../client/options'
import { inTransaction, type PoolLike, quoteSchema } from '../client/pool-like'
import store from './001-store.sql'
import ledger from './002-ledger.sql'
import owners from './003-owners.sql'
import storeRules from './004-store-rules.sql'
import storeOperations from './005-store-operations.sql'
import storeFastPath from './006-store-fast-path.sql'
import ledgerTimeIndex from './007-ledger-time-index.sql'
import requestLog from './008-request-log.sql'
import storePlainPath from './009-store-plain-path.sql'
import storeLeanPath from './010-store-lean-path.sql'
import storeTypedReserve from './011-store-typed-reserve.sql'

/** One migration: a version, a name, and the SQL it runs (tables unqualified: it runs in the schema). */
export interface Migration {
  version: number
  name: string
  sql: string
}

/** The migrations this package ships, in order. Each runs once per schema. */
export const migrations: readonly Migration[] = Object.freeze([
  { version: 1, name: 'store', sql: store },
  { version: 2, name: 'ledger', sql: ledger },
  { version: 3, name: 'owners', sql: owners },
  { version: 4, name: 'store-rules', sql: storeRules },
  { version: 5, name: 'store-operations', sql: storeOperations },
  { version: 6, name: 'store-fast-path', sql: storeFastPath },
  { version: 7, name: 'ledger-time-index', sql: ledgerTimeIndex },
  { version: 8, name: 'request-log', sql: requestLog },
  { version: 9, name: 'store-plain-path', sql: storePlainPath },
  { version: 10, name: 'store-lean-path', sql: storeLeanPath },
  { version: 11, name: 'store-typed-reserve', sql: storeTypedReserve },
])

/** Options for {@link migrate}. */
export interface MigrateOptions {
  /** The pool; `connect()` is used for one transaction. */
  pool: PoolLike
  /** The schema keyguard's tables live in; created when missing. @default 'keyguard' */
  schema?: string
}

/** What {@link migrate} did. */
export interface MigrateResult {
  /** Versions applied by this call, ascending (empty when the schema was up to date). */
  applied: number[]
}

const migrateOptions = /* @__PURE__ */ (() => z.strictObject({ pool: poolOption, schema: schemaOption }))()

/**
 * Create or update keyguard's tables: applies every shipped migration the schema has not seen, in
 * one transaction, recorded in `keyguard_migrations`. Idempotent, and safe when several processes
 * migrate at once: a transaction-scoped advisory lock on the schema makes them take turns.
 *
 * @param options - the pool and the schema.
 * @example
 * ```ts
 * import pg from 'pg'
 * import { migrate } from '@keyguard/postgres'
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * await migrate({ pool })
 * ```
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  parseOptions(migrateOptions, options, 'migrate', { fixes: sharedFixes })
  const { pool, schema = 'keyguard' } = options
  const quoted = quoteSchema(schema)
  return inTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('keyguard.migrate:' || $1, 0))", [
      schema,
    ])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`)
    await client.query(`SET LOCAL search_path TO ${quoted}`)
    await client.query(
      `CREATE TABLE IF NOT EXISTS keyguard_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    )
    const { rows } = await client.query('SELECT version FROM keyguard_migrations')
    const done = new Set(rows.map((row) => Number(row.version)))
    const applied: number[] = []
    for (const migration of migrations) {
      if (done.has(migration.version)) continue
      await client.query(migration.sql)
      await client.query('INSERT INTO keyguard_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ])
      applied.push(migration.version)
    }
    return { applied }
  })
}
