import { migrate, type PostgresLedger, postgresLedger } from '@keyguard/postgres'
import pg from 'pg'

/**
 * The ledger on the Postgres at `url`: tables created or updated by `migrate()`, every settled call and
 * credit movement recorded off the request path, whatever is still buffered written at shutdown.
 */
export async function openLedger(
  url: string,
  log: (line: string) => void = console.error,
): Promise<PostgresLedger> {
  const pool = new pg.Pool({ connectionString: url })
  await migrate({ pool })
  const ledger = postgresLedger({
    pool,
    onEvent: (event) => {
      if (event.type === 'dropped') log(`ledger: ${event.entries.length} entries dropped (buffer full)`)
      if (event.type === 'lag') log(`ledger: ${event.buffered} entries waiting for ${event.oldestMs} ms`)
    },
  })
  process.once('SIGTERM', () => {
    void ledger.flush().finally(() => pool.end().finally(() => process.exit(0)))
  })
  return ledger
}
