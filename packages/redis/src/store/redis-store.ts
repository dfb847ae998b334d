import {
  type Charge,
  type ChargeState,
  KeyguardError,
  type KeyguardStore,
  type LimitKind,
  type LimitRule,
  type Logger,
  memoryStore,
  type ReleaseResult,
  type ReserveResult,
  type SettleResult,
} from '@keyguard/core'
import { type CircuitState, circuitBreaker, parseOptions } from '@keyguard/core/adapter'
import * as z from 'zod/mini'
import type { RedisClientLike } from '../client/redis-client'
import { checkServer, describeProblems, type ServerCheck } from './check-server'
import { checkId, prefixProblem } from './key-checks'
import { leaseKeeper } from './lease-keeper'
import { luaStore } from './lua-store'
import { misconfiguration, misconfigured } from './redis-errors'
import { redisClock, retryQueue } from './replay-guard'
import { isClusterClient } from './shard-keys'
import { shardedLuaStore } from './sharded-store'

/** The store operations, as reported to `onStoreError`. */
export type StoreOperation = 'reserve' | 'settle' | 'release' | 'peek' | 'adjust' | 'claim' | 'ownerOf'

/** What keyguard did about a failed Redis call. */
export interface StoreErrorContext {
  operation: StoreOperation
  /** `denied`: spend or credits were involved and failed closed. `fallback`: the local store answered. */
  outcome: 'denied' | 'fallback'
  /** Whether the circuit breaker refused the call without trying Redis. */
  circuitOpen: boolean
}

/**
 * Where the store reports an outage and a recovery: core's {@link Logger} (`console` fits; so do pino
 * and winston).
 *
 * @deprecated use `Logger` from `@keyguard/core`; this alias goes in the next minor release.
 */
export type StoreLogger = Logger

/** Options for {@link redisStore}. */
export interface RedisStoreOptions {
  /** A connected ioredis (`Redis` or `Cluster`) or node-redis v5 client. keyguard never connects or quits it. */
  client: RedisClientLike
  /**
   * Key prefix and hash tag: keys are `{prefix}:…`, all in one slot, so a reserve over several scopes
   * is one atomic script. On a Cluster, tenants' keys extend the tag (`{prefix|…}:…`, see `shardBy`).
   * Pass a prefix that already contains `{…}` to choose the tag yourself.
   * @default 'keyguard'
   */
  prefix?: string
  /**
   * Redis Cluster: which shard (hash slot) a scope's state lives on. Scopes of one shard share a slot;
   * `''` is the app-wide slot (`{prefix}`). Answer `undefined` for the default: `tenant:<id>` on its
   * tenant's slot, `global`/`key:…`/`model:…` app-wide, any other scope on a slot of its own. A
   * reservation over several shards reserves them one by one (README, "Redis Cluster"). Given, it
   * applies on any client; without it, a Cluster client gets the default and any other client keeps
   * every key in one slot.
   * @default by tenant on a Cluster client, none otherwise
   */
  shardBy?: (scope: string) => string | undefined
  /**
   * Per-call timeout. A call that takes longer counts as a failure: spend and credits deny with
   * `store.unavailable`, rate limits use the fallback.
   * @default 250
   */
  timeoutMs?: number
  /**
   * How many app instances share the Redis limits. While Redis is unreachable each instance enforces
   * rate limits locally with the limit divided by this number (never below 1). A number for every
   * policy, or a function of the policy for per-policy values.
   * @default 1
   */
  expectedInstances?: number | ((policy: { scope: string; policy: string; kind: LimitKind }) => number)
  /**
   * What answers request, token and concurrency limits while Redis is unreachable: `'memory'` (a
   * local `memoryStore()`), `'deny'` (fail closed like spend), or your own store. Spend and credits
   * always fail closed.
   * @default 'memory'
   */
  fallback?: 'memory' | 'deny' | KeyguardStore
  /** Circuit breaker: after `failureThreshold` failures in a row Redis is left alone for `cooldownMs`. */
  breaker?: {
    /** @default 3 */
    failureThreshold?: number
    /** @default 1000 */
    cooldownMs?: number
  }
  /** Called for every failed or refused Redis call (after the store decided what to do). Must not throw. */
  onStoreError?: (error: unknown, context: StoreErrorContext) => void
  /**
   * Receives one loud warning when Redis becomes unreachable and one when it is back.
   * @default console
   */
  logger?: Logger
  /**
   * The lease a reservation is written with while this process has it open: renewed every third of
   * it until settle or release, up to the `leaseMs` the guard asked for. A process that dies stops
   * renewing, so its holds (concurrency slots, spend held) end within `liveLeaseMs` instead of the
   * guard's whole lease. A process stalled longer than this loses its lease as a crash would
   * (spend and credits reclaimed as spent, so never under-charged).
   * @default 30_000
   */
  liveLeaseMs?: number
  /**
   * At first contact the store reads Redis's persistence and eviction settings (README, "What Redis
   * keyguard needs") and warns once through `logger` about each one that loses money. With `strict`
   * it refuses every call with `store.misconfigured` instead, until Redis is configured right.
   * @default false
   */
  strict?: boolean
}

const maxTimer = 2 ** 31 - 1
const positiveInt = /* @__PURE__ */ (() => z.int().check(z.positive()))()
const fn = (what: string) =>
  z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', {
    message: `must be ${what}`,
  })
const optionsSchema = /* @__PURE__ */ (() =>
  z.strictObject({
    client: z.custom<RedisClientLike>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        (typeof (value as { evalsha?: unknown }).evalsha === 'function' ||
          typeof (value as { evalSha?: unknown }).evalSha === 'function'),
      { message: 'must be a connected ioredis or node-redis v5 client (an object with evalsha or evalSha)' },
    ),
    prefix: z.optional(
      z.string().check(
        z.minLength(1),
        z.regex(/^[^\s]+$/, { message: 'must contain no whitespace' }),
        z.refine((prefix) => prefixProblem(prefix) === undefined, {
          error: (issue) => `is not a usable hash tag: ${prefixProblem(String(issue.input))}`,
        }),
      ),
    ),
    shardBy: z.optional(fn('a function (scope) => shard | undefined')),
    timeoutMs: z.optional(positiveInt.check(z.maximum(maxTimer))),
    expectedInstances: z.optional(
      z.union([positiveInt, fn('a function ({ scope, policy, kind }) => number')]),
    ),
    fallback: z.optional(
      z.union([
        z.enum(['memory', 'deny']),
        z.custom<KeyguardStore>(
          (value) =>
            typeof value === 'object' &&
            value !== null &&
            typeof (value as KeyguardStore).reserve === 'function',
          { message: "must be 'memory', 'deny' or a KeyguardStore" },
        ),
      ]),
    ),
    breaker: z.optional(
      z.strictObject({
        failureThreshold: z.optional(positiveInt),
        cooldownMs: z.optional(positiveInt.check(z.maximum(maxTimer))),
      }),
    ),
    onStoreError: z.optional(fn('a function (error, context) => void')),
    logger: z.optional(
      z.custom<Logger>(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          typeof (value as Logger).warn === 'function' &&
          typeof (value as Logger).error === 'function',
        { message: 'must have warn() and error() methods (console works)' },
      ),
    ),
    liveLeaseMs: z.optional(positiveInt.check(z.minimum(1000), z.maximum(maxTimer))),
    strict: z.optional(z.boolean()),
  }))()

const fixes: Record<string, string> = {
  client: 'pass a connected client: new Redis(url) from ioredis, or createClient() from redis (v5)',
  prefix: 'use a non-empty prefix without whitespace, e.g. `keyguard` or `app{kg}`',
  fallback: "use 'memory' (the default), 'deny' or a KeyguardStore such as memoryStore()",
}

/**
 * What the store keeps and how much work a script does. Internal: docs/store-semantics.md fixes
 * `rememberMs`; tests build a lua store with their own values instead.
 */
const tunables = {
  /** How long finished reservation ids are remembered after they end, and period state outlives its period. */
  rememberMs: 600_000,
  /** Most expired holds one call reclaims in each state it loads (bounds a script's work). */
  reclaimPerReserve: 100,
  /** How long a credits balance is kept after its last write and past its latest grant expiry: five years. */
  creditsTtlMs: 157_680_000_000,
} as const

const moneyKinds: ReadonlySet<LimitKind> = new Set(['spend', 'credits'])

/** Thrown inside the store when a call runs past `timeoutMs`. */
class StoreTimeout extends Error {
  constructor(operation: string, ms: number) {
    super(`Redis did not answer ${operation} within ${ms} ms`)
    this.name = 'StoreTimeout'
  }
}

/**
 * Per-call timeouts without a timer per call: every call has the same `ms`, so deadlines arrive in
 * call order and one timer, armed for the oldest pending deadline, serves them all. A call that
 * settles just leaves the queue; the timer, when it fires, rejects what has run out and re-arms.
 */
function timeoutQueue(ms: number) {
  const pending = new Map<number, { deadline: number; operation: string; reject: (error: Error) => void }>()
  let seq = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  let armedFor = Number.POSITIVE_INFINITY
  const arm = (deadline: number) => {
    timer = setTimeout(fire, Math.max(0, deadline - performance.now()))
    ;(timer as { unref?: () => void }).unref?.()
    armedFor = deadline
  }
  function fire() {
    timer = undefined
    armedFor = Number.POSITIVE_INFINITY
    const now = performance.now()
    for (const [id, entry] of pending) {
      if (entry.deadline > now) return arm(entry.deadline)
      pending.delete(id)
      entry.reject(new StoreTimeout(entry.operation, ms))
    }
  }
  return function withTimeout<T>(promise: Promise<T>, operation: string): Promise<T> {
    // The call may still settle after the timeout; its rejection is nobody's business then.
    promise.catch(() => {})
    const id = seq++
    const deadline = performance.now() + ms
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { deadline, operation, reject })
      if (timer === undefined || deadline < armedFor) {
        if (timer !== undefined) clearTimeout(timer)
        arm(deadline)
      }
      promise.then(
        (value) => {
          pending.delete(id)
          resolve(value)
        },
        (error: unknown) => {
          pending.delete(id)
          reject(error)
        },
      )
    })
  }
}

function unavailable(operation: StoreOperation, cause: unknown, details: Record<string, unknown> = {}) {
  return new KeyguardError({
    code: 'store.unavailable',
    message: `The Redis store could not ${operation}: ${cause instanceof Error ? cause.message : String(cause)}`,
    operatorHint:
      'Redis is unreachable or slower than timeoutMs. Spend and credit limits fail closed until it answers; check the Redis server and the client connection.',
    retryAfterMs: 1000,
    details: { operation, ...details },
    cause,
  })
}

function serverMisconfigured(operation: StoreOperation, problems: ServerCheck['problems']) {
  return new KeyguardError({
    code: 'store.misconfigured',
    message: `The Redis store refused to ${operation} (strict): ${problems.map((p) => `${p.setting} ${p.value}`).join(', ')}`,
    operatorHint: `${describeProblems(problems)}. Change these Redis settings, or drop strict to run with a warning.`,
    details: { operation, settings: problems.map((p) => p.setting) },
  })
}

/** Cap on remembered fallback reservation ids; the oldest are forgotten first (their local leases end them). */
const LOCAL_IDS_MAX = 100_000

/**
 * A keyguard store on Redis: every limit holds across every app instance that shares the server.
 * Each operation is one Lua script (one round trip, server time, integer nanos, TTL on every key).
 * When Redis is slow or down, spend and credits deny with `store.unavailable`, while request, token
 * and concurrency limits fall back to a local store with their limits divided by
 * `expectedInstances`; a circuit breaker spares the dead server, and the store recovers by itself.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * import { createKeyguard } from '@keyguard/core'
 * import { redisStore } from '@keyguard/redis'
 *
 * const store = redisStore({ client: new Redis(process.env.REDIS_URL!), expectedInstances: 4 })
 * const keyguard = createKeyguard({ store, limits })
 * ```
 */
export function redisStore(options: RedisStoreOptions): KeyguardStore {
  const resolved = parseOptions(optionsSchema, options, 'redisStore', { fixes })
  const { timeoutMs = 250, liveLeaseMs = 30_000, strict = false } = resolved
  const prefix = resolved.prefix ?? 'keyguard'
  const fallback = resolved.fallback ?? 'memory'
  const { reclaimPerReserve, rememberMs, creditsTtlMs } = tunables
  const withTimeout = timeoutQueue(timeoutMs)
  const logger: Logger = options.logger ?? console
  const onStoreError = options.onStoreError
  const instances = options.expectedInstances
  // a reserve may run up to twice its timeout after it was sent; later it writes nothing
  const clock = redisClock(2 * timeoutMs)
  const lua = {
    client: resolved.client,
    prefix,
    rememberMs,
    reclaimPerReserve,
    creditsTtlMs,
    clock,
  }
  // a Cluster client (or a shardBy) spreads scopes over slots; any other keeps one script per operation
  const redis =
    options.shardBy || isClusterClient(resolved.client)
      ? shardedLuaStore({ ...lua, shardBy: options.shardBy })
      : luaStore(lua)
  const leases = leaseKeeper({
    liveLeaseMs,
    renew: (open, leaseMs) => withTimeout(redis.renew(open, leaseMs), 'renew'),
    redisNow: () => clock.now(),
  })
  const giveUp = (what: string) => (id: string, error: unknown) =>
    logger.error(`keyguard: could not ${what} in Redis; its hold ends with its lease, as spent`, {
      reservationId: id,
      error: error instanceof Error ? error.message : String(error),
    })
  // every reserve that failed is cancelled in Redis, so a replay of it never holds or charges
  const cancels = retryQueue({
    send: (id) => redis.cancel(id),
    giveUpMs: rememberMs,
    onGiveUp: giveUp('cancel a failed reservation'),
  })
  // a settle Redis did not take is retried with its actual cost, so the hold is charged what is
  // known (not the whole hold at lease end) whenever Redis is back within the lease
  const unsettled = new Map<string, Parameters<KeyguardStore['settle']>[0]>()
  const settles = retryQueue({
    send: async (id) => {
      const input = unsettled.get(id)
      if (input) await redis.settle(input)
      unsettled.delete(id)
      leases.close(id)
    },
    giveUpMs: rememberMs,
    onGiveUp: (id, error) => {
      unsettled.delete(id)
      leases.close(id)
      giveUp('settle a reservation')(id, error)
    },
  })
  const local: KeyguardStore | undefined =
    fallback === 'deny' ? undefined : fallback === 'memory' ? memoryStore() : fallback
  const localIds = new Set<string>()

  let outage = false
  const misconfigurationsLogged = new Set<string>()
  const breaker = circuitBreaker({
    failureThreshold: resolved.breaker?.failureThreshold ?? 3,
    cooldownMs: resolved.breaker?.cooldownMs ?? 1000,
    onChange(state: CircuitState) {
      if (state === 'open' && !outage) announceOutage()
    },
  })
  const announceOutage = (cause?: unknown) => {
    if (outage) return
    outage = true
    logger.warn(
      'keyguard: the Redis store is unreachable. Spend and credit limits now DENY requests with store.unavailable; ' +
        `request, token and concurrency limits are enforced ${local ? 'per instance from a local store with limits divided by expectedInstances' : 'by denying (fallback: deny)'} until Redis answers again.`,
      { prefix, cause: cause instanceof Error ? cause.message : cause },
    )
  }
  const announceRecovery = () => {
    if (!outage) return
    outage = false
    logger.warn('keyguard: the Redis store answers again; every limit is enforced in Redis.', {
      prefix,
    })
  }

  const report = (error: unknown, context: StoreErrorContext) => {
    try {
      onStoreError?.(error, context)
    } catch (listenerError) {
      logger.error('keyguard: onStoreError threw', {
        error: listenerError instanceof Error ? listenerError.message : String(listenerError),
      })
    }
  }

  // the server's settings, read once at first contact (again after a failed read)
  let serverCheck: Promise<ServerCheck> | undefined
  const checkSettings = () => {
    if (!serverCheck) {
      serverCheck = withTimeout(checkServer(resolved.client), 'check')
      serverCheck.then(
        ({ problems }) => {
          if (problems.length === 0) return
          logger.warn(
            `keyguard: this Redis can lose money: ${describeProblems(problems)}.${strict ? ' strict: every call is refused with store.misconfigured.' : ''}`,
            { prefix, settings: problems.map((p) => `${p.setting} ${p.value}`) },
          )
        },
        () => {
          serverCheck = undefined
        },
      )
    }
    return serverCheck
  }
  const strictGate = async (operation: StoreOperation) => {
    if (!strict) {
      void checkSettings().catch(() => {})
      return
    }
    let problems: ServerCheck['problems']
    try {
      ;({ problems } = await checkSettings())
    } catch {
      return // Redis does not answer: the call itself reports the outage
    }
    if (problems.length > 0) throw serverMisconfigured(operation, problems)
  }

  /** Run a Redis call under the breaker and timeout; resolve with the value or with the failure. */
  async function attempt<T>(
    operation: StoreOperation,
    call: () => T | Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; error: unknown; circuitOpen: boolean }> {
    await strictGate(operation)
    const pass = breaker.enter()
    if (!pass) {
      return {
        ok: false,
        error: new Error('circuit open: Redis failed repeatedly, waiting before retrying'),
        circuitOpen: true,
      }
    }
    try {
      const value = await withTimeout(Promise.resolve().then(call), operation)
      pass.success()
      announceRecovery()
      return { ok: true, value }
    } catch (error) {
      // invalid input is the caller's bug, not Redis being down
      if (error instanceof RangeError) {
        pass.abandon()
        throw error
      }
      // Redis answered: a configuration problem, reported by name, never an outage for the others
      const found = misconfiguration(error)
      if (found) {
        pass.success()
        report(error, { operation, outcome: 'denied', circuitOpen: false })
        const wrapped = misconfigured(operation, found, error)
        if (!misconfigurationsLogged.has(found.name)) {
          misconfigurationsLogged.add(found.name)
          logger.error(`keyguard: ${wrapped.message} ${wrapped.operatorHint}`, { prefix })
        }
        throw wrapped
      }
      pass.failure()
      announceOutage(error)
      return { ok: false, error, circuitOpen: false }
    }
  }

  const divisor = (scope: string, policy: string, kind: LimitKind) => {
    const n = typeof instances === 'function' ? instances({ scope, policy, kind }) : (instances ?? 1)
    return Number.isFinite(n) && n >= 1 ? n : 1
  }
  const share = (limit: number, n: number) => (limit <= 0 ? limit : Math.max(1, Math.floor(limit / n)))
  /** The rule a single instance enforces locally while Redis is away. */
  const localRule = (scope: string, policy: string, rule: LimitRule): LimitRule => {
    const n = divisor(scope, policy, rule.kind)
    switch (rule.kind) {
      case 'requests':
      case 'concurrency':
        return { ...rule, limit: share(rule.limit, n) }
      case 'tokens':
        return { ...rule, capacity: share(rule.capacity, n), refillPerSecond: rule.refillPerSecond / n }
      default:
        return rule
    }
  }
  const localCharge = (charge: Charge): Charge => ({
    ...charge,
    rule: localRule(charge.scope, charge.policy, charge.rule),
  })
  const remember = (id: string) => {
    localIds.add(id)
    if (localIds.size > LOCAL_IDS_MAX) localIds.delete(localIds.values().next().value as string)
  }

  return {
    async reserve(input): Promise<ReserveResult> {
      checkId('reservation id', input.id)
      for (const charge of input.charges) {
        checkId('scope', charge.scope)
        checkId('policy', charge.policy)
      }
      if (localIds.has(input.id) && local)
        return local.reserve({ ...input, charges: input.charges.map(localCharge) })
      const result = await attempt('reserve', () =>
        redis.reserve({ ...input, leaseMs: leases.leaseFor(input.leaseMs) }),
      )
      if (result.ok) {
        if (result.value.ok) leases.open(input.id, input.leaseMs)
        return result.value
      }
      // it may still run on Redis (a client replay): cancel it, in order behind it
      if (!result.circuitOpen) cancels.add(input.id)
      const money = input.charges.find((charge) => moneyKinds.has(charge.rule.kind))
      if (money || !local) {
        report(result.error, { operation: 'reserve', outcome: 'denied', circuitOpen: result.circuitOpen })
        throw unavailable('reserve', result.error, money ? { scope: money.scope, policy: money.policy } : {})
      }
      report(result.error, { operation: 'reserve', outcome: 'fallback', circuitOpen: result.circuitOpen })
      const answer = await local.reserve({ ...input, charges: input.charges.map(localCharge) })
      if (answer.ok) remember(input.id)
      return answer
    },

    async settle(input): Promise<SettleResult> {
      if (local && localIds.has(input.id)) {
        const answer = await local.settle(input)
        localIds.delete(input.id)
        return answer
      }
      const result = await attempt('settle', () => redis.settle(input))
      // an unsettled reservation keeps its lease (renewed) while its settle is retried
      if (result.ok) {
        leases.close(input.id)
        return result.value
      }
      unsettled.set(input.id, input)
      settles.add(input.id)
      report(result.error, { operation: 'settle', outcome: 'denied', circuitOpen: result.circuitOpen })
      throw unavailable('settle', result.error, { reservationId: input.id })
    },

    async release(id): Promise<ReleaseResult> {
      if (local && localIds.has(id)) {
        const answer = await local.release(id)
        localIds.delete(id)
        return answer
      }
      leases.close(id)
      const result = await attempt('release', () => redis.release(id))
      if (result.ok) return result.value
      // the call is over and not charged: make sure Redis hears it, not the lease's reclaim
      cancels.add(id)
      report(result.error, { operation: 'release', outcome: 'denied', circuitOpen: result.circuitOpen })
      throw unavailable('release', result.error, { reservationId: id })
    },

    async peek(input): Promise<ChargeState[]> {
      checkId('scope', input.scope)
      for (const policy of input.policies) checkId('policy', policy.policy)
      const result = await attempt('peek', () => redis.peek(input))
      if (result.ok) return result.value
      const money = input.policies.some((policy) => moneyKinds.has(policy.rule.kind))
      if (money || !local) {
        report(result.error, { operation: 'peek', outcome: 'denied', circuitOpen: result.circuitOpen })
        throw unavailable('peek', result.error, { scope: input.scope })
      }
      report(result.error, { operation: 'peek', outcome: 'fallback', circuitOpen: result.circuitOpen })
      return local.peek({
        scope: input.scope,
        policies: input.policies.map((p) => ({
          policy: p.policy,
          rule: localRule(input.scope, p.policy, p.rule),
        })),
      })
    },

    async adjust(input): Promise<ChargeState> {
      checkId('scope', input.scope)
      checkId('policy', input.policy)
      const result = await attempt('adjust', () => redis.adjust(input))
      if (result.ok) return result.value
      if (moneyKinds.has(input.rule.kind) || !local) {
        report(result.error, { operation: 'adjust', outcome: 'denied', circuitOpen: result.circuitOpen })
        throw unavailable('adjust', result.error, { scope: input.scope, policy: input.policy })
      }
      report(result.error, { operation: 'adjust', outcome: 'fallback', circuitOpen: result.circuitOpen })
      return local.adjust({ ...input, rule: localRule(input.scope, input.policy, input.rule) })
    },

    // Ownership keeps other tenants out of stored objects: it fails closed, never locally.
    async claim(input): Promise<{ owner: string }> {
      const result = await attempt('claim', () => redis.claim(input))
      if (result.ok) return result.value
      report(result.error, { operation: 'claim', outcome: 'denied', circuitOpen: result.circuitOpen })
      throw unavailable('claim', result.error, { objectId: input.objectId })
    },

    async ownerOf(objectId): Promise<string | null> {
      const result = await attempt('ownerOf', () => redis.ownerOf(objectId))
      if (result.ok) return result.value
      report(result.error, { operation: 'ownerOf', outcome: 'denied', circuitOpen: result.circuitOpen })
      throw unavailable('ownerOf', result.error, { objectId })
    },
  }
}
