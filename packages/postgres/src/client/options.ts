import * as z from 'zod/mini'
import type { PoolLike, Queryable } from './pool-like'

// The option schemas the package's factories share: each factory parses its options once with core's
// `parseOptions`, so every problem (a typo, a zero batch, a schema name that cannot be an identifier) is
// one `config.invalid` error naming the option and its fix, in the words every keyguard package uses.

/** A lowercase Postgres identifier: it goes into SQL text, so it is checked, never escaped. */
export const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

/** Whether `value` is an object with a function under each of `names`. */
export const hasMethods = (value: unknown, names: readonly string[]): boolean =>
  typeof value === 'object' &&
  value !== null &&
  names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')

/** Anything with `query(text, values)`. */
export const queryableOption = z.custom<Queryable>((value) => hasMethods(value, ['query']), {
  message: 'is not a pool with query(text, values)',
})

/** A pool with `query()` and `connect()`, as `pg.Pool`. */
export const poolOption = z.custom<PoolLike>((value) => hasMethods(value, ['query', 'connect']), {
  message: 'is not a pool with query() and connect()',
})

/** The schema keyguard's tables live in. */
export const schemaOption = z.optional(
  z
    .string()
    .check(z.regex(IDENTIFIER, 'is not a lowercase Postgres identifier (letters, digits, _; at most 63)')),
)

/** A positive safe integer (a count, a size, a number of ms). */
export const positiveInt = z.optional(z.int().check(z.positive()))

/** The fixes every factory names for the shared options. */
export const sharedFixes = {
  pool: 'pass a pg.Pool: new pg.Pool({ connectionString: process.env.DATABASE_URL })',
  schema: "use a lowercase identifier such as 'keyguard' (the default), the one migrate() was given",
} as const
