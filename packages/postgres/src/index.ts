export type { PoolClientLike, PoolLike, Queryable, QueryResultLike } from './client/pool-like'
export type {
  CreditMovement,
  CreditStatement,
  LedgerQueries,
  SpendGroup,
  SpendQuery,
  SpendRow,
} from './ledger/ledger-queries'
export type { LedgerEvent, PostgresLedger, PostgresLedgerOptions } from './ledger/postgres-ledger'
export { postgresLedger } from './ledger/postgres-ledger'
export type { MigrateOptions, MigrateResult, Migration } from './migrations/migrate'
export { migrate, migrations } from './migrations/migrate'
export type { RebuildResult, RebuildStoreOptions, RebuildTarget } from './rebuild/rebuild-store'
export { rebuildStore } from './rebuild/rebuild-store'
export type { PostgresStoreOptions } from './store/postgres-store'
export { postgresStore } from './store/postgres-store'
