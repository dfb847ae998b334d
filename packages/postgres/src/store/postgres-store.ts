import type {
  AdjustInput,
  ChargeState,
  ClaimInput,
  KeyguardStore,
  LimitRule,
  PeekInput,
  ReleaseResult,
  ReserveInput,
  ReserveResult,
  ScopeKey,
  SettleInput,
  SettleResult,
} from '@keyguard/core'
import { parseOptions } from '@keyguard/core/adapter'
import * as z from 'zod/mini'
import { queryableOption, schemaOption, sharedFixes } from '../client/options'
import { type Queryable, type QueryResultLike, quoteSchema } from '../client/pool-like'
import { postgresOwners } from './owners'
import { TYPED_RESERVE_ARGS, typedReserve, typedStates } from './typed-reserve'

/** Options for {@link postgresStore}. */
export interface PostgresStoreOptions {
  /** Anything with `query(text, values)` (`pg.Pool` fits): each operation is one statement, its own transaction. */
  pool: Queryable
  /** The schema `migrate()` created the tables in. @default 'keyguard' */
  schema?: string
  /**
   * Wait for each operation's commit to reach disk. `false` sets `synchronous_commit = off` for the
   * store's transactions only: several times faster where fsync is slow, and a database crash may then
   * lose the last fraction of a second of counts (never corrupt them; the ledger stays synchronous).
   * @default true
   */
  synchronousCommit?: boolean
  /**
   * Send each operation as a named prepared statement (`{ name, text, values }`, the form `pg.Pool`,
   * `pg.Client` and `pg.PoolClient` take): Postgres parses and plans it once per connection instead of on
   * every call. Set `false` for a client whose `query` takes only `(text, values)`.
   * @default true
   */
  namedStatements?: boolean
}

const PURGE_EVERY = 500

/** A query as `pg` takes it to run a named prepared statement. */
interface NamedQueryable {
  query(query: { name: string; text: string; values: unknown[] }): Promise<QueryResultLike>
}

const storeOptions = /* @__PURE__ */ (() =>
  z.strictObject({
    pool: queryableOption,
    schema: schemaOption,
    synchronousCommit: z.optional(z.boolean()),
    namedStatements: z.optional(z.boolean()),
  }))()
const isAmount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0

function validateReserve(input: ReserveInput): void {
  if (typeof input.id !== 'string' || input.id === '')
    throw new RangeError('reserve: id must be a non-empty string')
  if (!isAmount(input.leaseMs) || input.leaseMs < 1)
    throw new RangeError('reserve: leaseMs must be a safe integer ≥ 1')
  for (const { scope, policy, amount, rule } of input.charges) {
    if (!isAmount(amount))
      throw new RangeError(`reserve: amount of ${scope}/${policy} must be a safe integer ≥ 0`)
    const bad =
      (rule.kind === 'requests' &&
        (!isAmount(rule.limit) || !isAmount(rule.windowMs) || rule.windowMs < 1)) ||
      (rule.kind === 'tokens' &&
        (!isAmount(rule.capacity) || !Number.isFinite(rule.refillPerSecond) || rule.refillPerSecond < 0)) ||
      (rule.kind === 'spend' && rule.limitNanos !== null && !isAmount(rule.limitNanos)) ||
      (rule.kind === 'concurrency' && !isAmount(rule.limit))
    if (bad) throw new RangeError(`reserve: the ${rule.kind} rule of ${scope}/${policy} is invalid`)
  }
}

/** The row key of a charge's state: a spend state per period, the others per `(scope, policy)`. */
const stateKey = (scope: ScopeKey, policy: string, rule: LimitRule): string =>
  JSON.stringify(rule.kind === 'spend' ? [scope, policy, rule.period.id] : [scope, policy])

/** How long a store calls `keyguard_reserve` alone after finding no typed reserve (a schema not yet migrated). */
const UNMIGRATED_RETRY_MS = 60_000

/** A statement name per operation and schema, within Postgres' 63 bytes (a hash of a long schema name). */
function statementName(operation: string, schema: string): string {
  const name = `keyguard_${operation}:${schema}`
  if (name.length <= 63) return name
  let hash = 0x811c9dc5
  for (let i = 0; i < schema.length; i++) hash = Math.imul(hash ^ schema.charCodeAt(i), 0x01000193)
  return `keyguard_${operation}:${(hash >>> 0).toString(16)}`
}

/** Postgres aborts one side of a deadlock (a reclaim reaching a state outside key order) or a serialization failure: rerun it. */
const isRetryable = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code
  return code === '40P01' || code === '40001'
}

/**
 * Create a {@link KeyguardStore} on Postgres: limits and credits shared by every process that uses the
 * database, durable across restarts, on the database's clock (`clock_timestamp()`, read once per
 * operation). Each operation is one statement: a plpgsql function (`keyguard_reserve`, `keyguard_settle`,
 * … from migrations 5, 6 and 8) that locks the rows it names in key order, applies the store rules and writes them
 * back, so concurrent reserves never overspend and never deadlock each other. Run {@link migrate} first.
 *
 * @param options - the pool and the schema.
 * @example
 * ```ts
 * import pg from 'pg'
 * import { createKeyguard } from '@keyguard/core'
 * import { migrate, postgresStore } from '@keyguard/postgres'
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * await migrate({ pool })
 * const store = postgresStore({ pool })
 * ```
 */
export function postgresStore(options: PostgresStoreOptions): KeyguardStore {
  // A misspelt `schema` would share the default schema's limits, unnoticed.
  parseOptions(storeOptions, options, 'postgresStore', { fixes: sharedFixes })
  const { pool, schema = 'keyguard', synchronousCommit = true, namedStatements = true } = options
  const quoted = quoteSchema(schema)
  const owners = postgresOwners(pool, `${quoted}.keyguard_owners`)
  const sync = synchronousCommit

  // Forgotten reservation rows (finished over 10 minutes ago) and expired claims are
  // deleted in small batches every PURGE_EVERY operations of this process, outside any operation.
  let operations = 0
  const purge = (): void => {
    pool
      .query(
        `DELETE FROM ${quoted}.keyguard_reservations WHERE id IN (SELECT id FROM ${quoted}.keyguard_reservations
           WHERE forget_at <= ${quoted}.keyguard_now() LIMIT 1000 FOR UPDATE SKIP LOCKED)`,
      )
      .catch(() => {})
    owners.purge()
  }

  const statements = new Map<string, { name: string; text: string }>()
  const statement = (operation: string, args: string) => {
    let found = statements.get(operation)
    if (!found) {
      found = {
        name: statementName(operation, schema),
        text: `SELECT ${quoted}.keyguard_${operation}(${args}) AS result`,
      }
      statements.set(operation, found)
    }
    return found
  }
  const send = (operation: string, args: string, values: unknown[]) => {
    const { name, text } = statement(operation, args)
    return namedStatements
      ? (pool as unknown as NamedQueryable).query({ name, text, values })
      : pool.query(text, values)
  }
  /** One operation: one call of its function, one round trip (rerun when Postgres aborted it). */
  const call = async <T>(operation: string, values: unknown[], args = '$1::jsonb'): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const { rows } = await send(operation, args, values)
        if (++operations % PURGE_EVERY === 0) purge()
        return rows[0]?.result as T
      } catch (error) {
        if (!isRetryable(error) || attempt >= 20) throw error
      }
    }
  }
  const callJson = <T>(operation: string, input: unknown): Promise<T> =>
    call<T>(operation, [JSON.stringify(input)])

  // A reserve whose charges are all requests, spend or concurrency, each on its own state, goes to
  // keyguard_reserve_one or keyguard_reserve_typed; until the schema has migration 11, to keyguard_reserve.
  let untypedUntil = 0
  const reserveTyped = async (
    input: ReserveInput,
    charges: { key: string }[],
  ): Promise<ReserveResult | undefined> => {
    if (untypedUntil !== 0 && untypedUntil > Date.now()) return undefined
    const keys = charges.map(({ key }) => key)
    const typed = typedReserve(input, keys, JSON.stringify(charges), sync)
    if (!typed) return undefined
    let answer: ReserveResult | (number | null)[]
    try {
      answer = await call(typed.operation, typed.values, TYPED_RESERVE_ARGS)
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code !== '42883') throw error // undefined_function
      untypedUntil = Date.now() + UNMIGRATED_RETRY_MS
      return undefined
    }
    if (Array.isArray(answer))
      return { ok: true, replayed: false, events: [], states: typedStates(input.charges, answer) }
    // never undefined here: that would send the reserve down the other path as well
    if (answer === null || typeof answer !== 'object')
      throw new Error(`keyguard_${typed.operation} answered ${String(answer)} for reserve ${input.id}`)
    return answer
  }

  return {
    reserve(input: ReserveInput): Promise<ReserveResult> {
      validateReserve(input)
      const charges = input.charges.map(({ scope, policy, rule, amount }) => ({
        scope,
        policy,
        rule,
        amount,
        key: stateKey(scope, policy, rule),
      }))
      return reserveTyped(input, charges).then(
        (typed) => typed ?? callJson('reserve', { id: input.id, leaseMs: input.leaseMs, charges, sync }),
      )
    },

    settle(input: SettleInput): Promise<SettleResult> {
      const { costNanos, tokens } = input.actual
      if (!isAmount(costNanos) || !isAmount(tokens))
        throw new RangeError('settle: actual costNanos and tokens must be safe integers ≥ 0')
      return callJson('settle', { id: input.id, costNanos, tokens, sync })
    },

    release(id: string): Promise<ReleaseResult> {
      return callJson('release', { id, sync })
    },

    peek(input: PeekInput): Promise<ChargeState[]> {
      const policies = input.policies.map(({ policy, rule }) => ({
        policy,
        rule,
        key: stateKey(input.scope, policy, rule),
      }))
      return callJson('peek', { scope: input.scope, policies })
    },

    adjust(input: AdjustInput): Promise<ChargeState> {
      const { scope, policy, rule, delta, idempotencyKey } = input
      if (!Number.isSafeInteger(delta)) throw new RangeError('adjust: delta must be a safe integer')
      if (rule.kind === 'requests' || rule.kind === 'concurrency') {
        throw new RangeError(
          `adjust: a ${rule.kind} limit has nothing to adjust; adjust tokens, spend or credits`,
        )
      }
      const key = stateKey(scope, policy, rule)
      return callJson('adjust', {
        scope,
        policy,
        rule,
        key,
        delta,
        expiresAt: input.expiresAt ?? null,
        idempotencyKey: idempotencyKey ?? null,
        sync,
      })
    },

    claim(input: ClaimInput): Promise<{ owner: string }> {
      return owners.claim(input)
    },

    ownerOf(objectId: string): Promise<string | null> {
      return owners.ownerOf(objectId)
    },
  }
}
