import type { ClaimInput } from '@keyguard/core'
import type { Queryable } from '../client/pool-like'

/** Object ownership on Postgres (store-semantics §9): the `claim` and `ownerOf` of {@link postgresStore}. */
export interface PostgresOwners {
  claim(input: ClaimInput): Promise<{ owner: string }>
  ownerOf(objectId: string): Promise<string | null>
  /** Delete up to 1000 expired claims (they already read as unknown); errors are ignored. */
  purge(): void
}

const isId = (value: unknown): value is string => typeof value === 'string' && value !== ''

/**
 * Claims in `table` (`keyguard_owners`, migration 3), on the database's clock. A claim is one
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING`: the conflicting row is locked, so the statement itself
 * decides between a live claim (kept as it is, TTL included) and an expired one (taken over), and always
 * answers the owner after it, with no window between a write and a read. Both `CASE`s compare against
 * the same instant (`EXCLUDED.expires_at - ttl`), so owner and expiry never disagree.
 *
 * @param db - the pool (one statement each, no transaction).
 * @param table - the quoted, schema-qualified table.
 * @example
 * ```ts
 * const owners = postgresOwners(pool, '"keyguard".keyguard_owners')
 * await owners.claim({ objectId: 'resp_1', owner: 'tenant=acme', ttlMs: 86_400_000 }) // { owner: 'tenant=acme' }
 * ```
 */
export function postgresOwners(db: Queryable, table: string): PostgresOwners {
  const ttl = `($3::bigint * interval '1 millisecond')`
  const expired = `o.expires_at <= EXCLUDED.expires_at - ${ttl}`
  const claimSql = `INSERT INTO ${table} AS o (object_id, owner, expires_at)
    VALUES ($1, $2, clock_timestamp() + ${ttl})
    ON CONFLICT (object_id) DO UPDATE SET
      owner = CASE WHEN ${expired} THEN EXCLUDED.owner ELSE o.owner END,
      expires_at = CASE WHEN ${expired} THEN EXCLUDED.expires_at ELSE o.expires_at END
    RETURNING owner`
  return {
    async claim({ objectId, owner, ttlMs }: ClaimInput): Promise<{ owner: string }> {
      if (!isId(objectId)) throw new RangeError('claim: objectId must be a non-empty string')
      if (!isId(owner)) throw new RangeError('claim: owner must be a non-empty string')
      if (!Number.isSafeInteger(ttlMs) || ttlMs < 1)
        throw new RangeError('claim: ttlMs must be a safe integer ≥ 1')
      const { rows } = await db.query(claimSql, [objectId, owner, ttlMs])
      return { owner: String(rows[0]?.owner) }
    },

    async ownerOf(objectId: string): Promise<string | null> {
      if (!isId(objectId)) return null
      const { rows } = await db.query(
        `SELECT owner FROM ${table} WHERE object_id = $1 AND expires_at > clock_timestamp()`,
        [objectId],
      )
      return rows.length === 0 ? null : String(rows[0]?.owner)
    },

    purge(): void {
      db.query(
        `DELETE FROM ${table} WHERE object_id IN (SELECT object_id FROM ${table}
           WHERE expires_at <= clock_timestamp() LIMIT 1000 FOR UPDATE SKIP LOCKED)`,
      ).catch(() => {})
    },
  }
}
