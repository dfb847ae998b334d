import type { ScopeKey } from '@keyguard/core'
import type { Queryable } from '../client/pool-like'
import { replayCredits } from './replay-credits'

/** A column spend can be grouped by: a scope value (`tenant`, `user`, `key`…), `model`, `endpoint`, or a period. */
export type SpendGroup = 'model' | 'endpoint' | 'day' | 'month' | (string & {})

/** Options for {@link LedgerQueries.spend}. */
export interface SpendQuery {
  /** Settled at or after, epoch ms. @default the beginning */
  from?: number
  /** Settled before, epoch ms. @default now */
  to?: number
  /** Group by these, in order. @default [] (one total) */
  groupBy?: readonly SpendGroup[]
  /** Only calls whose scope has these values, such as `{ tenant: 't1' }`. @default {} */
  where?: Readonly<Record<string, string>>
}

/** One group of {@link LedgerQueries.spend}: its group values, what it cost and how many calls. */
export interface SpendRow {
  group: Record<string, string | null>
  costNanos: number
  calls: number
}

/** One credit movement, as {@link LedgerQueries.statement} lists it. */
export interface CreditMovement {
  id: string
  kind: 'grant' | 'consume' | 'recharge' | 'expiry'
  amountNanos: number
  at: number
  expiresAt: number | null
  reservationId: string | null
}

/** A tenant's credits statement: what came in, what went out, and the balance. */
export interface CreditStatement {
  scope: ScopeKey
  policy: string
  /** Grants and recharges. */
  inNanos: number
  /** Consumed by calls and expired. */
  outNanos: number
  /** `inNanos - outNanos`: negative when calls ran into debt. */
  balanceNanos: number
  movements: CreditMovement[]
}

/** What the ledger answers from its tables. */
export interface LedgerQueries {
  /** Spend of settled calls, grouped. */
  spend(query?: SpendQuery): Promise<SpendRow[]>
  /** What calls charged to one spend state: its scope, policy and period (by the period's end, epoch ms). */
  spentIn(target: { scope: ScopeKey; policy: string; periodEndsAt: number }): Promise<number>
  /**
   * The credits statement of one scope and credits policy, movements in order. Expiries are derived from
   * the grants (what was left of a grant when its `expiresAt` passed) and recorded as `expiry` rows the
   * first time a statement finds them.
   */
  statement(target: { scope: ScopeKey; policy: string; from?: number; to?: number }): Promise<CreditStatement>
}

const NAME = /^[a-z_][a-z0-9_]{0,62}$/i
const nanos = (value: unknown): number => {
  const n = Number(value ?? 0)
  if (!Number.isSafeInteger(n)) throw new RangeError(`ledger sum ${String(value)} is beyond 2^53 nanos`)
  return n
}
const ms = (value: unknown): number | null =>
  value == null ? null : ((value as Date).getTime?.() ?? Number(value))

const groupExpression = (group: SpendGroup): string => {
  switch (group) {
    case 'model':
      return 'model'
    case 'endpoint':
      return 'endpoint'
    case 'day':
    case 'month':
      return `to_char(settled_at AT TIME ZONE 'UTC', '${group === 'day' ? 'YYYY-MM-DD' : 'YYYY-MM'}')`
    default:
      if (!NAME.test(group))
        throw new RangeError(`spend: cannot group by ${JSON.stringify(group).slice(0, 80)}`)
      return `scope->>'${group}'`
  }
}

/** @internal The queries of a ledger whose tables live in `quoted` (an already quoted schema). */
export function ledgerQueries(pool: Queryable, quoted: string): LedgerQueries {
  const recordExpiries = (scope: ScopeKey, policy: string, expiries: CreditMovement[]) =>
    pool.query(
      `INSERT INTO ${quoted}.keyguard_credit_movements (id, kind, scope, policy, amount_nanos, at)
       SELECT id, 'expiry', $1, $2, amount, to_timestamp(at / 1000.0)
       FROM unnest($3::text[], $4::bigint[], $5::bigint[]) AS x(id, amount, at)
       ON CONFLICT (id) DO NOTHING`,
      [
        scope,
        policy,
        expiries.map((e) => e.id),
        expiries.map((e) => e.amountNanos),
        expiries.map((e) => e.at),
      ],
    )
  return {
    async spend({ from, to, groupBy = [], where = {} } = {}) {
      const values: unknown[] = []
      const conditions: string[] = []
      if (from !== undefined) conditions.push(`settled_at >= to_timestamp($${values.push(from / 1000)})`)
      if (to !== undefined) conditions.push(`settled_at < to_timestamp($${values.push(to / 1000)})`)
      for (const [name, value] of Object.entries(where)) {
        if (!NAME.test(name))
          throw new RangeError(`spend: cannot filter by ${JSON.stringify(name).slice(0, 80)}`)
        conditions.push(`scope->>'${name}' = $${values.push(value)}`)
      }
      const groups = groupBy.map((group, i) => `${groupExpression(group)} AS g${i}`)
      const { rows } = await pool.query(
        `SELECT ${[...groups, 'sum(cost_nanos)::text AS cost', 'count(*)::int AS calls'].join(', ')}
         FROM ${quoted}.keyguard_calls
         ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
         ${groups.length > 0 ? `GROUP BY ${groupBy.map((_, i) => i + 1).join(', ')} ORDER BY ${groupBy.map((_, i) => i + 1).join(', ')}` : ''}`,
        values,
      )
      return rows.map((row) => ({
        group: Object.fromEntries(
          groupBy.map((group, i) => [group, (row[`g${i}`] as string | null) ?? null]),
        ),
        costNanos: nanos(row.cost),
        calls: Number(row.calls),
      }))
    },

    async spentIn({ scope, policy, periodEndsAt }) {
      const { rows } = await pool.query(
        `SELECT coalesce(sum(cost_nanos), 0)::text AS cost FROM ${quoted}.keyguard_calls WHERE charges @> $1::jsonb`,
        [JSON.stringify([{ scope, policy, kind: 'spend', resetAt: periodEndsAt }])],
      )
      return nanos(rows[0]?.cost)
    },

    async statement({ scope, policy, from, to }) {
      // the whole history: expiries depend on every movement before them
      const { rows } = await pool.query(
        `SELECT id, kind, amount_nanos::text AS amount, at, expires_at, reservation_id,
           ${quoted}.keyguard_now() AS now
         FROM ${quoted}.keyguard_credit_movements WHERE scope = $1 AND policy = $2
         ORDER BY at, recorded_at, id`,
        [scope, policy],
      )
      const recorded = rows.map((row) => ({
        id: row.id as string,
        kind: row.kind as CreditMovement['kind'],
        amountNanos: nanos(row.amount),
        at: ms(row.at) as number,
        expiresAt: ms(row.expires_at),
        reservationId: (row.reservation_id as string | null) ?? null,
      }))
      const now = rows.length > 0 ? Number(rows[0]?.now) : 0
      const { expiries } = replayCredits(recorded, now)
      const known = new Set(recorded.map((movement) => movement.id))
      const unrecorded = expiries.filter((expiry) => !known.has(expiry.id))
      // the ledger keeps what it derives: an expiry becomes a row the first time a statement sees it
      if (unrecorded.length > 0) await recordExpiries(scope, policy, unrecorded)
      const movements = [...recorded.filter((m) => m.kind !== 'expiry'), ...expiries]
        .sort((a, b) => a.at - b.at)
        .filter((m) => (from === undefined || m.at >= from) && (to === undefined || m.at < to))
      const sum = (kinds: readonly string[]) =>
        movements.filter((m) => kinds.includes(m.kind)).reduce((total, m) => total + m.amountNanos, 0)
      const inNanos = sum(['grant', 'recharge'])
      const outNanos = sum(['consume', 'expiry'])
      return { scope, policy, inNanos, outNanos, balanceNanos: inNanos - outNanos, movements }
    },
  }
}
