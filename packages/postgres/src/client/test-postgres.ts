import pg from 'pg'

// Shared by the Postgres tests. In CI a missing server fails the run (.ci/run starts one); tests never skip.
export const postgresUrl = process.env.KEYGUARD_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** A schema name of its own per test run, so parallel runs never share tables. */
export const testSchema = (label: string) =>
  `kgtest_${label}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`

/**
 * A pool on the test database; fails with how to start Postgres when it does not answer. Small and
 * patient: the server's 100 connections are shared by every test file of every package running at once
 * (a pool of 10 per file ran it out of slots in CI), and on a busy machine a connection may take seconds.
 */
export async function testPool(max = 4): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: postgresUrl,
    max,
    connectionTimeoutMillis: 60_000,
    idleTimeoutMillis: 1_000,
  })
  pool.on('error', () => {})
  try {
    await pool.query('SELECT 1')
  } catch (error) {
    await pool.end()
    throw new Error(
      `Postgres is not reachable at ${postgresUrl} (${error instanceof Error ? error.message : String(error)}). ` +
        'The Postgres tests need a server: start it (pg_ctlcluster 15 main start) or set KEYGUARD_POSTGRES_URL.',
    )
  }
  return pool
}

/** Drop a test schema and everything in it. */
export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
}
