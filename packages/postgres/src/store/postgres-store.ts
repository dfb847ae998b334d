import type {
  AdjustInput,
  ChargeState,
  ClaimInput,
  KeyguardStore,
  PeekInput,
  ReleaseResult,
  ReserveInput,
  ReserveResult,
  SettleInput,
  SettleResult,
  StoreEvent,
} from '@keyguard/core'
import { inTransaction, type PoolLike, type Queryable, quoteSchema } from '../client/pool-like'
import { postgresOwners } from './owners'
import {
  addHold,
  adjustDoc,
  afterMoney,
  creditEvents,
  denialOf,
  describeDoc,
  endHold,
  remainingOf,
  stateKey,
} from './state-doc'
import { type RecordCharge, type ReservationDoc, Work } from './work'

/** Options for {@link postgresStore}. */
export interface PostgresStoreOptions {
  /** A pool (`pg.Pool` fits): each operation checks out one connection for one transaction. */
  pool: PoolLike
  /** The schema `migrate()` created the tables in. @default 'keyguard' */
  schema?: string
  /**
   * Wait for each operation's commit to reach disk. `false` sets `synchronous_commit = off` for the
   * store's transactions only: several times faster where fsync is slow, and a database crash may then
   * lose the last fraction of a second of counts (never corrupt them; the ledger stays synchronous).
   * @default true
   */
  synchronousCommit?: boolean
}

const ADJUST_KEY_MS = 7 * 24 * 3_600_000
const PURGE_EVERY = 500
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

/**
 * Create a {@link KeyguardStore} on Postgres: limits and credits shared by every process that uses the
 * database, durable across restarts, on the database's clock (`clock_timestamp()`). Each operation is
 * one transaction that locks the rows it names in key order, so concurrent reserves never overspend
 * and never deadlock each other. Run {@link migrate} first.
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
export function postgresStore({
  pool,
  schema = 'keyguard',
  synchronousCommit = true,
}: PostgresStoreOptions): KeyguardStore {
  const quoted = quoteSchema(schema)
  // BEGIN, the commit mode and the database clock (read once per operation) in one round trip: with
  // no values, pg sends the statements together (simple protocol)
  const begin = `BEGIN;${synchronousCommit ? '' : ' SET LOCAL synchronous_commit = off;'}
    SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now`
  const tables = { states: `${quoted}.keyguard_states`, reservations: `${quoted}.keyguard_reservations` }
  const owners = postgresOwners(pool, `${quoted}.keyguard_owners`)

  // Forgotten reservation rows (finished over 10 minutes ago, denied placeholders) and expired claims are
  // deleted in small batches every PURGE_EVERY operations of this process, outside the operation's
  // transaction.
  let operations = 0
  const purge = (now: number): void => {
    pool
      .query(
        `DELETE FROM ${tables.reservations} WHERE id IN
           (SELECT id FROM ${tables.reservations} WHERE forget_at <= $1 LIMIT 1000 FOR UPDATE SKIP LOCKED)`,
        [now],
      )
      .catch(() => {})
    owners.purge()
  }

  /** Run one operation in a transaction, with the database's time read once. */
  const run = <T>(work: (w: Work) => Promise<T>): Promise<T> =>
    inTransaction(
      pool,
      async (client: Queryable, rows) => {
        const w = new Work(client, tables, Number(rows[0]?.now))
        const result = await work(w)
        await w.commit()
        if (++operations % PURGE_EVERY === 0) purge(w.now)
        return result
      },
      begin,
    )

  const recordStates = (w: Work, record: ReservationDoc): ChargeState[] =>
    record.charges.map((c) => describeDoc(c.scope, c.policy, c.rule, w.view(c.key, c.rule), w.now))

  return {
    reserve(input: ReserveInput): Promise<ReserveResult> {
      validateReserve(input)
      return run(async (w) => {
        const events: StoreEvent[] = []
        const charges = input.charges
        const keys = charges.map((c) => stateKey(c.scope, c.policy, c.rule))
        if (await w.record(input.id, true)) {
          await w.read(keys)
          const states = charges.map((c, i) =>
            describeDoc(c.scope, c.policy, c.rule, w.view(keys[i] as string, c.rule), w.now),
          )
          return { ok: true, replayed: true, states, events }
        }
        await w.lock(keys)
        for (const [i, charge] of charges.entries()) await w.reclaimIn(keys[i] as string, charge.rule, events)
        for (const [i, charge] of charges.entries()) {
          const key = keys[i] as string
          let taken = 0
          for (let j = 0; j < i; j++) if (keys[j] === key) taken += (charges[j] as RecordCharge).amount
          const doc = w.use(key, charge.rule)
          const left = remainingOf(doc, charge.rule, taken)
          if (left !== null && charge.amount > left) {
            return { ok: false, denial: denialOf(charge, doc, taken, left, w.now), events }
          }
        }
        const leaseEnd = w.now + input.leaseMs
        for (const [i, charge] of charges.entries())
          addHold(w.use(keys[i] as string, charge.rule), input.id, charge.amount, leaseEnd, w.now)
        w.put({
          id: input.id,
          status: 'live',
          leaseEnd,
          finishedAt: w.now,
          charges: charges.map(({ scope, policy, rule, amount }, i) => ({
            scope,
            policy,
            rule,
            amount,
            key: keys[i] as string,
          })),
        })
        for (const [i, charge] of charges.entries()) {
          const doc = w.use(keys[i] as string, charge.rule)
          if (doc.kind !== 'credits' || charge.rule.kind !== 'credits' || keys.indexOf(keys[i] as string) < i)
            continue
          creditEvents(doc, charge.rule, charge.scope, charge.policy, events)
        }
        const states = charges.map((c, i) =>
          describeDoc(c.scope, c.policy, c.rule, w.use(keys[i] as string, c.rule), w.now),
        )
        return { ok: true, replayed: false, states, events }
      })
    },

    settle(input: SettleInput): Promise<SettleResult> {
      const { costNanos, tokens } = input.actual
      if (!isAmount(costNanos) || !isAmount(tokens))
        throw new RangeError('settle: actual costNanos and tokens must be safe integers ≥ 0')
      return run(async (w) => {
        const events: StoreEvent[] = []
        const record = await w.record(input.id)
        if (!record) return { status: 'unknown', states: [], events }
        await w.lock(record.charges.map((c) => c.key))
        if (record.status !== 'live') {
          const status = record.status === 'settled' ? 'already-settled' : record.status
          return { status, states: recordStates(w, record), events }
        }
        if (record.leaseEnd <= w.now) {
          await w.reclaim(record, events)
          return { status: 'expired', states: recordStates(w, record), events }
        }
        record.status = 'settled'
        record.finishedAt = w.now
        w.put(record)
        for (const charge of record.charges) await w.reclaimIn(charge.key, charge.rule, events)
        for (const charge of record.charges) {
          const doc = w.use(charge.key, charge.rule)
          const spent = charge.rule.kind === 'tokens' ? tokens : costNanos
          if (endHold(doc, record.id, charge.rule, 'settle', spent))
            afterMoney(doc, charge.scope, charge.policy, charge.rule, events)
        }
        return { status: 'settled', states: recordStates(w, record), events }
      })
    },

    release(id: string): Promise<ReleaseResult> {
      return run(async (w) => {
        const record = await w.record(id)
        if (!record) return { status: 'unknown' }
        if (record.status === 'released') return { status: 'already-released' }
        if (record.status !== 'live') return { status: record.status }
        await w.lock(record.charges.map((c) => c.key))
        if (record.leaseEnd <= w.now) {
          await w.reclaim(record, [])
          return { status: 'expired' }
        }
        record.status = 'released'
        record.finishedAt = w.now
        w.put(record)
        for (const charge of record.charges) await w.reclaimIn(charge.key, charge.rule, [])
        for (const charge of record.charges)
          endHold(w.use(charge.key, charge.rule), id, charge.rule, 'release', 0)
        return { status: 'released' }
      })
    },

    peek(input: PeekInput): Promise<ChargeState[]> {
      return run(async (w) => {
        const keys = input.policies.map(({ policy, rule }) => stateKey(input.scope, policy, rule))
        await w.read(keys)
        return input.policies.map(({ policy, rule }, i) =>
          describeDoc(input.scope, policy, rule, w.view(keys[i] as string, rule), w.now),
        )
      })
    },

    adjust(input: AdjustInput): Promise<ChargeState> {
      const { scope, policy, rule, delta, idempotencyKey } = input
      if (!Number.isSafeInteger(delta)) throw new RangeError('adjust: delta must be a safe integer')
      if (rule.kind === 'requests' || rule.kind === 'concurrency') {
        throw new RangeError(
          `adjust: a ${rule.kind} limit has nothing to adjust; adjust tokens, spend or credits`,
        )
      }
      return run(async (w) => {
        const key = stateKey(scope, policy, rule)
        await w.lock([key])
        await w.reclaimIn(key, rule, [])
        const doc = w.use(key, rule)
        const keys = doc.keys ?? {}
        for (const [applied, until] of Object.entries(keys)) if (until <= w.now) delete keys[applied]
        doc.keys = keys
        if (idempotencyKey === undefined || keys[idempotencyKey] === undefined) {
          adjustDoc(doc, rule, delta, input.expiresAt ?? null, idempotencyKey)
          if (idempotencyKey !== undefined) keys[idempotencyKey] = w.now + ADJUST_KEY_MS
        }
        return describeDoc(scope, policy, rule, doc, w.now)
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
