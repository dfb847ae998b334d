import type { LimitRule, ScopeKey, StoreEvent } from '@keyguard/core'
import type { Queryable } from '../client/pool-like'
import { afterMoney, docFor, endHold, expiredIds, removeHoldOf, type StateDoc } from './state-doc'

/** How long a finished reservation is remembered, for idempotent replays and settle answers. */
export const RETAIN_MS = 600_000

/** One charge of a reservation, as its record keeps it. */
export interface RecordCharge {
  scope: ScopeKey
  policy: string
  rule: LimitRule
  amount: number
  key: string
}

/** A reservation row's `doc`. */
export interface ReservationDoc {
  id: string
  status: 'live' | 'settled' | 'released' | 'expired'
  leaseEnd: number
  finishedAt: number
  charges: RecordCharge[]
}

/**
 * One store operation inside one transaction: the rows it has locked, changed in memory, and written
 * back by `commit()`. State rows are locked in key order (`ORDER BY key ... FOR UPDATE`), so two
 * operations naming the same states never wait on each other in a cycle; a reclaim that reaches a
 * state outside that order may, and Postgres then aborts one side, which `inTransaction` reruns.
 */
export class Work {
  readonly states = new Map<string, StateDoc | null>()
  readonly records = new Map<string, ReservationDoc | null>()
  private readonly dirtyStates = new Set<string>()
  private readonly dirtyRecords = new Set<string>()
  /** A reserve's own id, when its row was made by this operation: a denial leaves it to be purged. */
  private created: string | undefined

  constructor(
    private readonly client: Queryable,
    private readonly tables: { states: string; reservations: string },
    readonly now: number,
  ) {}

  /** Lock the state rows of `keys` (creating empty ones), in key order, and load them. */
  async lock(keys: readonly string[]): Promise<void> {
    const missing = [...new Set(keys)].filter((key) => !this.states.has(key)).sort()
    if (missing.length === 0) return
    // INSERT ... ON CONFLICT DO UPDATE locks an existing row as FOR UPDATE would, and creates a
    // missing one (a lock on a row that does not exist yet would not hold off a concurrent insert)
    const { rows } = await this.client.query(
      `INSERT INTO ${this.tables.states} AS s (key) SELECT k FROM unnest($1::text[]) AS k ORDER BY k
       ON CONFLICT (key) DO UPDATE SET updated_at = s.updated_at RETURNING key, doc`,
      [missing],
    )
    for (const row of rows) this.states.set(row.key as string, (row.doc as StateDoc | null) ?? null)
  }

  /** Read state rows without locking them (peek, replays). */
  async read(keys: readonly string[]): Promise<void> {
    const missing = [...new Set(keys)].filter((key) => !this.states.has(key))
    if (missing.length === 0) return
    const { rows } = await this.client.query(
      `SELECT key, doc FROM ${this.tables.states} WHERE key = ANY($1::text[])`,
      [missing],
    )
    for (const key of missing) this.states.set(key, null)
    for (const row of rows) this.states.set(row.key as string, (row.doc as StateDoc | null) ?? null)
  }

  /** The loaded state for `key` as `rule` reads it, with time applied; marked to be written. */
  use(key: string, rule: LimitRule): StateDoc {
    const doc = docFor(this.states.get(key), rule, this.now)
    this.states.set(key, doc)
    this.dirtyStates.add(key)
    return doc
  }

  /** A copy of the state as `peek` shows it: time applied, expired holds as if reclaimed. */
  view(key: string, rule: LimitRule): StateDoc {
    const stored = this.states.get(key)
    const doc = docFor(stored ? structuredClone(stored) : null, rule, this.now)
    for (const id of expiredIds(doc, this.now)) endHold(doc, id, rule, 'reclaim', 0)
    return doc
  }

  /** Lock and load a reservation row; `create` makes a missing row (a reserve's own id). */
  async record(id: string, create = false): Promise<ReservationDoc | null> {
    if (this.records.has(id)) return this.records.get(id) ?? null
    const { rows } = create
      ? await this.client.query(
          `INSERT INTO ${this.tables.reservations} AS r (id) VALUES ($1)
           ON CONFLICT (id) DO UPDATE SET id = r.id RETURNING doc, forget_at`,
          [id],
        )
      : await this.client.query(
          `SELECT doc, forget_at FROM ${this.tables.reservations} WHERE id = $1 FOR UPDATE`,
          [id],
        )
    const row = rows[0]
    if (create) this.created = id
    const forgotten = row?.forget_at != null && Number(row.forget_at) <= this.now
    const doc = row && !forgotten ? ((row.doc as ReservationDoc | null) ?? null) : null
    this.records.set(id, doc)
    return doc
  }

  /** Keep a reservation (new or changed) to be written. */
  put(record: ReservationDoc): void {
    this.records.set(record.id, record)
    this.dirtyRecords.add(record.id)
  }

  /** Reclaim every expired hold in the state of `key` (spec §4): its reservation ends as `expired`. */
  async reclaimIn(key: string, rule: LimitRule, events: StoreEvent[]): Promise<void> {
    for (const id of expiredIds(this.use(key, rule), this.now)) {
      const record = await this.record(id)
      if (record && record.status === 'live') await this.reclaim(record, events)
      else removeHoldOf(this.use(key, rule), id)
    }
  }

  /** End a live reservation whose lease has passed: spend and credits as spent, rates as released. */
  async reclaim(record: ReservationDoc, events: StoreEvent[]): Promise<void> {
    if (record.status !== 'live') return
    record.status = 'expired'
    record.finishedAt = this.now
    this.put(record)
    await this.lock(record.charges.map((charge) => charge.key))
    for (const charge of record.charges) {
      const doc = this.use(charge.key, charge.rule)
      if (!endHold(doc, record.id, charge.rule, 'reclaim', 0)) continue
      const kind = charge.rule.kind
      events.push({
        type: 'lease-expired',
        scope: charge.scope,
        policy: charge.policy,
        reservationId: record.id,
        reclaimedAs: kind === 'spend' || kind === 'credits' ? 'spent' : 'released',
      })
      afterMoney(doc, charge.scope, charge.policy, charge.rule, events)
    }
  }

  /** Write every changed state and reservation back, in one statement each. */
  async commit(): Promise<void> {
    if (
      this.created !== undefined &&
      !this.dirtyRecords.has(this.created) &&
      this.records.get(this.created) == null
    ) {
      // a denied reserve records nothing: its placeholder row is due for the purge now
      await this.client.query(
        `UPDATE ${this.tables.reservations} SET forget_at = $2 WHERE id = $1 AND doc IS NULL`,
        [this.created, this.now],
      )
    }
    if (this.dirtyStates.size > 0) {
      const keys = [...this.dirtyStates]
      await this.client.query(
        `UPDATE ${this.tables.states} AS s SET doc = v.doc, updated_at = now()
         FROM unnest($1::text[], $2::jsonb[]) AS v(key, doc) WHERE s.key = v.key`,
        [keys, keys.map((key) => JSON.stringify(this.states.get(key)))],
      )
    }
    if (this.dirtyRecords.size > 0) {
      const records = [...this.dirtyRecords].map((id) => this.records.get(id) as ReservationDoc)
      await this.client.query(
        `INSERT INTO ${this.tables.reservations} AS r (id, doc, forget_at)
         SELECT * FROM unnest($1::text[], $2::jsonb[], $3::bigint[])
         ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, forget_at = EXCLUDED.forget_at`,
        [
          records.map((record) => record.id),
          records.map((record) => JSON.stringify(record)),
          records.map((record) =>
            record.status === 'live' ? null : Math.max(record.leaseEnd, record.finishedAt) + RETAIN_MS,
          ),
        ],
      )
    }
  }
}
