import { IDENTIFIER } from './options'

/** What keyguard reads from a query result: the rows, as objects keyed by column name. */
export interface QueryResultLike {
  rows: Record<string, unknown>[]
}

/**
 * The narrowest client keyguard needs: one parameterized query. A `pg.Pool`, a `pg.Client` and a
 * `pg.PoolClient` all fit.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * const queryable: Queryable = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * ```
 */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<QueryResultLike>
}

/** A connection checked out of a pool, given back with `release()`. */
export interface PoolClientLike extends Queryable {
  release(error?: Error | boolean): void
}

/**
 * A pool: queries, plus `connect()` to check out one connection for a transaction. `pg.Pool` fits as is.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * const pool: PoolLike = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * ```
 */
export interface PoolLike extends Queryable {
  connect(): Promise<PoolClientLike>
}

/** The schema name, checked, as a quoted identifier (it goes into SQL text, never as a value). */
export function quoteSchema(schema: string): string {
  if (!IDENTIFIER.test(schema)) {
    throw new RangeError(
      `schema must be a lowercase Postgres identifier (letters, digits, _; at most 63), got ${JSON.stringify(schema).slice(0, 80)}`,
    )
  }
  return `"${schema}"`
}

/**
 * Run `work` in one transaction (opened by the statements in `begin`; `work` gets the rows the last
 * of them answered) on one connection; a deadlock or serialization failure (Postgres
 * aborts one side) reruns it, so callers never see one.
 */
export async function inTransaction<T>(
  pool: PoolLike,
  work: (client: Queryable, begun: QueryResultLike['rows']) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect()
    let broken: Error | undefined
    try {
      // `begin` may be several statements (simple protocol, no values): pg then answers one result each
      const answer: QueryResultLike | QueryResultLike[] = await client.query(begin)
      const result = await work(client, (Array.isArray(answer) ? answer.at(-1) : answer)?.rows ?? [])
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: Error) => {
        broken = rollback
      })
      const code = (error as { code?: unknown }).code
      if ((code !== '40P01' && code !== '40001') || attempt >= 20) throw error
    } finally {
      client.release(broken)
    }
  }
}
