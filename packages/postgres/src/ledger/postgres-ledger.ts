import type { KeyguardLedger, LedgerEntry } from '@keyguard/core'
import { parseOptions } from '@keyguard/core/adapter'
import * as z from 'zod/mini'
import { positiveInt, queryableOption, schemaOption, sharedFixes } from '../client/options'
import { type Queryable, quoteSchema } from '../client/pool-like'
import { type LedgerQueries, ledgerQueries } from './ledger-queries'

/** What a {@link PostgresLedger} reports about its writes. */
export type LedgerEvent =
  /** A batch could not be written; it stays buffered and is retried after `retryInMs`. */
  | { type: 'write-failed'; error: unknown; buffered: number; retryInMs: number }
  /** Entries are waiting longer than `lagWarningMs` (the database is slow or down). */
  | { type: 'lag'; buffered: number; oldestMs: number }
  /** The buffer was full: these entries were not kept. Persist them elsewhere, or they are lost. */
  | { type: 'dropped'; entries: LedgerEntry[] }
  /** A batch was written (`written` rows new; the rest were already there). */
  | { type: 'written'; entries: number; written: number }

/** Options for {@link postgresLedger}. */
export interface PostgresLedgerOptions {
  /** Anything with `query(text, values)`: a `pg.Pool` fits. */
  pool: Queryable
  /** The schema `migrate()` created the tables in. @default 'keyguard' */
  schema?: string
  /** Most entries written in one INSERT. @default 500 */
  batchSize?: number
  /** Most batches on the wire at once, each on its own connection of the pool; a writer takes the next batch as soon as its last one is in. @default 4 */
  concurrency?: number
  /** How long an entry may wait for companions before its batch is written. @default 50 */
  flushIntervalMs?: number
  /** Most entries kept while the database cannot take them; beyond it new entries are dropped, with a `dropped` event. @default 100_000 */
  maxBuffered?: number
  /** First wait after a failed write; it doubles up to `maxRetryMs`. @default 100 */
  retryMs?: number
  /** @default 30_000 */
  maxRetryMs?: number
  /** Emit `lag` when the oldest buffered entry is older than this. @default 10_000 */
  lagWarningMs?: number
  /** Receives every {@link LedgerEvent}. @default none */
  onEvent?: (event: LedgerEvent) => void
  /** The clock, for lag. @default Date.now */
  now?: () => number
}

/** A {@link KeyguardLedger} on Postgres, with its queries. */
export interface PostgresLedger extends KeyguardLedger, LedgerQueries {
  /** Entries handed over and not yet written. */
  readonly buffered: number
}

type CallEntry = Extract<LedgerEntry, { type: 'call' }>
type CreditEntry = Extract<LedgerEntry, { type: 'credit' }>

// Each column travels as one typed array and `unnest` turns them back into rows: Postgres parses
// arrays of plain values far faster than a JSON document of objects (jsonb_to_recordset).
const callColumns: [name: string, type: string, value: (entry: CallEntry) => unknown][] = [
  ['reservation_id', 'text', (e) => e.reservationId],
  ['scope', 'jsonb', (e) => JSON.stringify(e.scope)],
  ['key_name', 'text', (e) => e.keyName],
  ['key_fingerprint', 'text', (e) => e.fingerprint],
  ['model', 'text', (e) => e.model ?? null],
  ['endpoint', 'text', (e) => e.endpoint],
  ['input_tokens', 'bigint', (e) => e.tokens.input ?? 0],
  ['cached_input_tokens', 'bigint', (e) => e.tokens.cachedInput ?? 0],
  ['output_tokens', 'bigint', (e) => e.tokens.output ?? 0],
  ['reasoning_tokens', 'bigint', (e) => e.tokens.reasoning ?? 0],
  ['total_tokens', 'bigint', (e) => e.tokens.total ?? 0],
  ['cost_nanos', 'bigint', (e) => e.costNanos],
  ['ending', 'text', (e) => e.ending],
  ['estimated', 'boolean', (e) => e.estimated],
  ['charges', 'jsonb', (e) => JSON.stringify(e.charges)],
  ['started_at', 'timestamptz', (e) => e.startedAt],
  ['settled_at', 'timestamptz', (e) => e.settledAt],
  ['upstream_request_id', 'text', (e) => e.upstreamRequestId ?? null],
]
const creditColumns: [name: string, type: string, value: (entry: CreditEntry) => unknown][] = [
  ['id', 'text', (e) => e.id],
  ['kind', 'text', (e) => e.kind],
  ['scope', 'text', (e) => e.scope],
  ['policy', 'text', (e) => e.policy],
  ['amount_nanos', 'bigint', (e) => e.amountNanos],
  ['expires_at', 'timestamptz', (e) => e.expiresAt ?? null],
  ['reservation_id', 'text', (e) => e.reservationId ?? null],
  ['at', 'timestamptz', (e) => e.at],
]

/** Whether a column's elements travel quoted: text and JSON do, numbers, booleans and times do not. */
const travelsQuoted = (type: string): boolean => type === 'text' || type === 'jsonb'

const SPECIAL = /[\\"]/
const SPECIALS = /[\\"]/g

/**
 * A column's values as one Postgres array literal (`{1,2,NULL}`, `{"a","b\\"c"}`), built here rather
 * than by pg, which quotes every element and runs two regex replaces on each: the ledger's client CPU
 * went mostly to that and to the garbage it left. Text is quoted, and escaped only when it holds `\`
 * or `"`; a number, boolean or epoch time is written bare, as `String()` gives it (what pg sent).
 */
function arrayLiteral(values: readonly unknown[], quote: boolean): string {
  let literal = '{'
  for (let i = 0; i < values.length; i++) {
    if (i > 0) literal += ','
    const value = values[i]
    if (value === null || value === undefined) literal += 'NULL'
    else if (!quote) literal += String(value)
    else {
      const text = String(value)
      literal += SPECIAL.test(text) ? `"${text.replace(SPECIALS, '\\$&')}"` : `"${text}"`
    }
  }
  return `${literal}}`
}

/**
 * `INSERT … SELECT … FROM unnest($first::t[], …)`: times travel as epoch ms, JSON as text. A time is
 * divided as a double, not a numeric: cheaper per row, and exact, since to_timestamp rounds to the
 * microsecond.
 */
function insertFrom(
  table: string,
  columns: readonly [string, string, unknown][],
  first: number,
  key: string,
) {
  const names = columns.map(([name]) => name)
  const arrays = columns.map(([, type], i) => {
    const travels = type === 'timestamptz' ? 'bigint' : type === 'jsonb' ? 'text' : type
    return `$${first + i}::${travels}[]`
  })
  const values = columns.map(([name, type]) =>
    type === 'timestamptz'
      ? `to_timestamp(${name}::float8 / 1000)`
      : type === 'jsonb'
        ? `${name}::jsonb`
        : name,
  )
  return `INSERT INTO ${table} (${names.join(', ')})
      SELECT ${values.join(', ')} FROM unnest(${arrays.join(', ')}) AS x(${names.join(', ')})
      ON CONFLICT (${key}) DO NOTHING RETURNING 1`
}

const fn = (what: string) =>
  z.optional(
    z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', {
      message: `is not ${what}`,
    }),
  )

const ledgerOptions = /* @__PURE__ */ (() =>
  z.strictObject({
    pool: queryableOption,
    schema: schemaOption,
    batchSize: positiveInt,
    concurrency: positiveInt,
    flushIntervalMs: positiveInt,
    maxBuffered: positiveInt,
    retryMs: positiveInt,
    maxRetryMs: positiveInt,
    lagWarningMs: positiveInt,
    onEvent: fn('a function receiving ledger events'),
    now: fn('a function returning epoch ms'),
  }))()

/**
 * Create the Postgres ledger: an append-only record of every settled call and credit movement, for
 * `createKeyguard({ ledger })`. `record` only queues (never blocks a call); batches are written with one
 * multi-row `INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING`, several at once (idempotent on the reservation id and the movement id).
 * When the database fails, entries stay buffered and are retried with backoff, with `write-failed` and
 * `lag` events; nothing is dropped unless the buffer is full, and then with a `dropped` event that
 * carries the entries. Call `flush()` at shutdown. Run `migrate()` first.
 *
 * @param options - the pool, the schema, batching and retry.
 * @example
 * ```ts
 * import pg from 'pg'
 * import { createKeyguard } from '@keyguard/core'
 * import { migrate, postgresLedger } from '@keyguard/postgres'
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * await migrate({ pool })
 * const ledger = postgresLedger({ pool, onEvent: (event) => event.type === 'dropped' && alert(event) })
 * const guard = createKeyguard({ key: process.env.OPENAI_API_KEY, ledger })
 * process.on('SIGTERM', () => void ledger.flush())
 * ```
 */
export function postgresLedger(options: PostgresLedgerOptions): PostgresLedger {
  // A misspelt `schema` would write into the default schema, unnoticed.
  parseOptions(ledgerOptions, options, 'postgresLedger', { fixes: sharedFixes })
  const {
    pool,
    schema = 'keyguard',
    batchSize = 500,
    concurrency = 4,
    flushIntervalMs = 50,
    maxBuffered = 100_000,
    retryMs = 100,
    maxRetryMs = 30_000,
    lagWarningMs = 10_000,
    onEvent = () => {},
    now = Date.now,
  } = options
  const quoted = quoteSchema(schema)
  const insert = `WITH calls AS (${insertFrom(`${quoted}.keyguard_calls`, callColumns, 1, 'reservation_id')}),
    credits AS (${insertFrom(`${quoted}.keyguard_credit_movements`, creditColumns, callColumns.length + 1, 'id')})
    SELECT (SELECT count(*) FROM calls)::int + (SELECT count(*) FROM credits)::int AS written`
  const columnsOf = <E>(entries: E[], columns: [string, string, (entry: E) => unknown][]) =>
    columns.map(([, type, value]) => arrayLiteral(entries.map(value), travelsQuoted(type)))

  type Buffered = { entry: LedgerEntry; at: number }
  const buffer: Buffered[] = []
  let inFlight = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  let writing: Promise<void> | undefined
  let failures = 0
  let lagReported = false
  // every write round goes through this chain: a flush and a timed drain never take the same batch twice
  let lock: Promise<unknown> = Promise.resolve()
  const locked = (): Promise<void> => {
    const run = lock.then(writeRound)
    lock = run.catch(() => {})
    return run
  }

  const writeBatch = async (batch: Buffered[]): Promise<number> => {
    const calls = batch.flatMap(({ entry }) => (entry.type === 'call' ? [entry] : []))
    const credits = batch.flatMap(({ entry }) => (entry.type === 'credit' ? [entry] : []))
    const { rows } = await pool.query(insert, [
      ...columnsOf(calls, callColumns),
      ...columnsOf(credits, creditColumns),
    ])
    return Number(rows[0]?.written ?? 0)
  }

  /**
   * Write the buffer out, `concurrency` batches on the wire at once: each writer takes the next batch
   * as soon as its last one is in, so building a batch overlaps writing the others. After a failure no
   * new batch starts; failed ones go back to the head of the buffer, in the order they were taken.
   */
  const writeRound = async (): Promise<void> => {
    const failed: { order: number; batch: Buffered[] }[] = []
    let failure: { reason: unknown } | undefined
    let taken = 0
    const writer = async (): Promise<void> => {
      while (failure === undefined && buffer.length > 0) {
        const order = taken++
        const batch = buffer.splice(0, batchSize)
        inFlight += batch.length
        try {
          const written = await writeBatch(batch)
          inFlight -= batch.length
          onEvent({ type: 'written', entries: batch.length, written })
        } catch (error) {
          // stays counted in flight until it is back in the buffer, so `maxBuffered` still holds
          failure ??= { reason: error }
          failed.push({ order, batch })
        }
      }
    }
    await Promise.all(Array.from({ length: concurrency }, writer))
    if (failure === undefined) {
      failures = 0
      lagReported = false
      return
    }
    failed.sort((a, b) => a.order - b.order)
    const back = failed.flatMap(({ batch }) => batch)
    inFlight -= back.length
    buffer.unshift(...back)
    throw failure.reason
  }

  const schedule = (ms: number): void => {
    if (timer !== undefined || writing !== undefined) return
    timer = setTimeout(() => {
      timer = undefined
      writing = drain().finally(() => {
        writing = undefined
        if (buffer.length > 0) schedule(failures > 0 ? backoff() : 0)
      })
    }, ms)
    // a pending ledger write never keeps a process alive on its own: flush() at shutdown does that
    ;(timer as { unref?: () => void }).unref?.()
  }

  const backoff = (): number => Math.min(maxRetryMs, retryMs * 2 ** Math.max(0, failures - 1))

  const drain = async (): Promise<void> => {
    while (buffer.length > 0) {
      try {
        await locked()
      } catch (error) {
        failures += 1
        onEvent({ type: 'write-failed', error, buffered: buffer.length, retryInMs: backoff() })
        const oldestMs = now() - (buffer[0]?.at ?? now())
        if (oldestMs >= lagWarningMs && !lagReported) {
          lagReported = true
          onEvent({ type: 'lag', buffered: buffer.length, oldestMs })
        }
        return
      }
    }
  }

  return {
    record(entry: LedgerEntry): void {
      if (buffer.length + inFlight >= maxBuffered) {
        onEvent({ type: 'dropped', entries: [entry] })
        return
      }
      buffer.push({ entry, at: now() })
      schedule(buffer.length >= batchSize ? 0 : flushIntervalMs)
    },

    async flush(): Promise<void> {
      if (timer !== undefined) {
        clearTimeout(timer)
        timer = undefined
      }
      // write everything now, ignoring the backoff; a failure rejects and leaves the entries buffered
      try {
        while (buffer.length > 0) await locked()
        if (writing) await writing
      } finally {
        // a failed flush leaves the retry loop running, so the entries still reach the database
        if (buffer.length > 0) schedule(backoff())
      }
    },

    get buffered() {
      return buffer.length + inFlight
    },

    ...ledgerQueries(pool, quoted),
  }
}
