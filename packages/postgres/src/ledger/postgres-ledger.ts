import type { KeyguardLedger, LedgerEntry } from '@keyguard/core'
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

const row = (entry: Extract<LedgerEntry, { type: 'call' }>) => ({
  reservation_id: entry.reservationId,
  scope: entry.scope,
  key_name: entry.keyName,
  key_fingerprint: entry.fingerprint,
  model: entry.model ?? null,
  endpoint: entry.endpoint,
  input_tokens: entry.tokens.input ?? 0,
  cached_input_tokens: entry.tokens.cachedInput ?? 0,
  output_tokens: entry.tokens.output ?? 0,
  reasoning_tokens: entry.tokens.reasoning ?? 0,
  total_tokens: entry.tokens.total ?? 0,
  cost_nanos: entry.costNanos,
  ending: entry.ending,
  estimated: entry.estimated,
  charges: entry.charges,
  started_at: entry.startedAt,
  settled_at: entry.settledAt,
  upstream_request_id: entry.upstreamRequestId ?? null,
})

const creditRow = (entry: Extract<LedgerEntry, { type: 'credit' }>) => ({
  id: entry.id,
  kind: entry.kind,
  scope: entry.scope,
  policy: entry.policy,
  amount_nanos: entry.amountNanos,
  expires_at: entry.expiresAt ?? null,
  reservation_id: entry.reservationId ?? null,
  at: entry.at,
})

/**
 * Create the Postgres ledger: an append-only record of every settled call and credit movement, for
 * `createKeyguard({ ledger })`. `record` only queues (never blocks a call); batches are written with one
 * multi-row `INSERT … ON CONFLICT DO NOTHING` (idempotent on the reservation id and the movement id).
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
export function postgresLedger({
  pool,
  schema = 'keyguard',
  batchSize = 500,
  flushIntervalMs = 50,
  maxBuffered = 100_000,
  retryMs = 100,
  maxRetryMs = 30_000,
  lagWarningMs = 10_000,
  onEvent = () => {},
  now = Date.now,
}: PostgresLedgerOptions): PostgresLedger {
  const quoted = quoteSchema(schema)
  const insert = `WITH calls AS (
      INSERT INTO ${quoted}.keyguard_calls (reservation_id, scope, key_name, key_fingerprint, model, endpoint,
        input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, total_tokens, cost_nanos, ending,
        estimated, charges, started_at, settled_at, upstream_request_id)
      SELECT reservation_id, scope, key_name, key_fingerprint, model, endpoint, input_tokens, cached_input_tokens,
        output_tokens, reasoning_tokens, total_tokens, cost_nanos, ending, estimated, charges,
        to_timestamp(started_at / 1000.0), to_timestamp(settled_at / 1000.0), upstream_request_id
      FROM jsonb_to_recordset($1::jsonb) AS x(reservation_id text, scope jsonb, key_name text, key_fingerprint text,
        model text, endpoint text, input_tokens bigint, cached_input_tokens bigint, output_tokens bigint,
        reasoning_tokens bigint, total_tokens bigint, cost_nanos bigint, ending text, estimated boolean,
        charges jsonb, started_at bigint, settled_at bigint, upstream_request_id text)
      ON CONFLICT (reservation_id) DO NOTHING RETURNING 1),
    credits AS (
      INSERT INTO ${quoted}.keyguard_credit_movements (id, kind, scope, policy, amount_nanos, expires_at, reservation_id, at)
      SELECT id, kind, scope, policy, amount_nanos, to_timestamp(expires_at / 1000.0), reservation_id, to_timestamp(at / 1000.0)
      FROM jsonb_to_recordset($2::jsonb) AS x(id text, kind text, scope text, policy text, amount_nanos bigint,
        expires_at bigint, reservation_id text, at bigint)
      ON CONFLICT (id) DO NOTHING RETURNING 1)
    SELECT (SELECT count(*) FROM calls)::int + (SELECT count(*) FROM credits)::int AS written`

  const buffer: { entry: LedgerEntry; at: number }[] = []
  let timer: ReturnType<typeof setTimeout> | undefined
  let writing: Promise<void> | undefined
  let failures = 0
  let lagReported = false
  // every write goes through this chain: a flush and a timed drain never take the same batch twice
  let lock: Promise<unknown> = Promise.resolve()
  const locked = (): Promise<void> => {
    const run = lock.then(writeBatch)
    lock = run.catch(() => {})
    return run
  }

  const writeBatch = async (): Promise<void> => {
    if (buffer.length === 0) return
    const batch = buffer.slice(0, batchSize)
    const calls = batch.flatMap(({ entry }) => (entry.type === 'call' ? [row(entry)] : []))
    const credits = batch.flatMap(({ entry }) => (entry.type === 'credit' ? [creditRow(entry)] : []))
    const { rows } = await pool.query(insert, [JSON.stringify(calls), JSON.stringify(credits)])
    // only now: a batch that failed stays at the head of the buffer, in order
    buffer.splice(0, batch.length)
    failures = 0
    lagReported = false
    onEvent({ type: 'written', entries: batch.length, written: Number(rows[0]?.written ?? 0) })
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
      if (buffer.length >= maxBuffered) {
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
      return buffer.length
    },

    ...ledgerQueries(pool, quoted),
  }
}
