import { KeyguardError } from '@keyguard/core'

// Redis answers some calls with an error that is not an outage: the server is up, and will answer
// every call the same way until an operator changes something. Those are reported by name with the
// fix (`store.misconfigured`), and never count toward the circuit breaker: one tenant's bad call, or
// a full Redis, must not turn every other tenant's rate limits over to the local fallback.

/** A Redis error that is a configuration problem, by name, with what fixes it. */
export interface Misconfiguration {
  /** The Redis error code (`CROSSSLOT`, `OOM`, …) or `script` for an error inside keyguard's Lua. */
  name: string
  /** What is wrong, in words. */
  problem: string
  /** What the operator does about it. */
  fix: string
}

const known: [RegExp, Omit<Misconfiguration, 'name'>][] = [
  [
    /^OOM\b/,
    {
      problem: 'Redis is out of memory (used memory > maxmemory under maxmemory-policy noeviction)',
      fix: 'raise maxmemory or give Redis more memory; keep maxmemory-policy noeviction (an evicting policy deletes spend state and hands budget out again)',
    },
  ],
  [
    /^CROSSSLOT\b/,
    {
      problem:
        "the keys of one call hash to different Redis Cluster slots: the prefix's hash tag is not what keyguard expects",
      fix: 'use a prefix whose first `{…}` is non-empty (e.g. `app{kg}`) or one without braces (keyguard adds `{prefix}`)',
    },
  ],
  [
    /^WRONGTYPE\b/,
    {
      problem:
        "a key under keyguard's prefix holds a value of another type: something else writes under that prefix",
      fix: 'give keyguard a prefix of its own (the `prefix` option), or delete the foreign keys',
    },
  ],
  [
    /^NOSCRIPT\b/,
    {
      problem: "Redis refused keyguard's scripts even after EVAL (NOSCRIPT after retry)",
      fix: 'allow EVAL and EVALSHA for the keyguard user (a proxy or managed Redis may disable scripting)',
    },
  ],
  [
    /^NOPERM\b/,
    {
      problem: 'the Redis user is not allowed a command or key keyguard needs',
      fix: "grant the ACL user +fcall +function|load (or +eval +evalsha) +info and the key pattern of keyguard's prefix",
    },
  ],
  [
    /^MISCONF\b/,
    {
      problem: 'Redis refuses writes because it cannot persist (a failed RDB snapshot)',
      fix: "fix the disk or permissions of Redis's `dir`, see the Redis log",
    },
  ],
  [
    /^ERR .*(user_script|user_function|Error running script|Error compiling script)|^ERR user_(script|function)/,
    {
      problem: "keyguard's Lua script failed on this input",
      fix: 'report it to keyguard with the message; other calls are unaffected',
    },
  ],
]

/** The configuration problem `error` reports, or undefined when it is connectivity (or unknown). */
export function misconfiguration(error: unknown): Misconfiguration | undefined {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : ''
  for (const [pattern, about] of known) {
    if (pattern.test(message)) return { name: message.match(/^[A-Z]+/)?.[0] ?? 'ERR', ...about }
  }
  return undefined
}

/** The `store.misconfigured` error for one failed store operation. */
export function misconfigured(operation: string, found: Misconfiguration, cause: unknown): KeyguardError {
  return new KeyguardError({
    code: 'store.misconfigured',
    message: `The Redis store could not ${operation}: ${found.name}: ${found.problem}.`,
    operatorHint: `Redis answered ${found.name}, a configuration problem, not an outage: ${found.fix}.`,
    details: { operation, redisError: found.name },
    cause,
  })
}
