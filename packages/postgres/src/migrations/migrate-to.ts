import type pg from 'pg'
import { migrations } from './migrate'

// Test support for the upgrade tests: kept beside the migrations it replays, so the test client
// (src/client) never imports the migrations folder back.

/** Create `schema` with the shipped migrations up to `version` only, as an older release left it. */
export async function migrateTo(pool: pg.Pool, schema: string, version: number): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query(`CREATE SCHEMA "${schema}"`)
    await client.query(`SET LOCAL search_path TO "${schema}"`)
    await client.query(
      'CREATE TABLE keyguard_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    )
    for (const migration of migrations.filter((m) => m.version <= version)) {
      await client.query(migration.sql)
      await client.query('INSERT INTO keyguard_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ])
    }
    await client.query('COMMIT')
  } finally {
    client.release()
  }
}
