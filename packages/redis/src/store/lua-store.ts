import type {
  AdjustInput,
  Charge,
  ChargeState,
  ClaimInput,
  KeyguardStore,
  LimitKind,
  LimitRule,
  PeriodRef,
  ReleaseResult,
  ReserveResult,
  SettleResult,
  StoreEvent,
} from '@keyguard/core'
import { periodSpanOf } from '@keyguard/core/adapter'
import { luaLibrary, luaScript, type RedisClientLike } from '../client/redis-client'
import type { RedisClock } from './replay-guard'
import { storeLua } from './scripts'

const scripts = {
  // first claim wins; the answer is the owner after the call
  claim: luaScript(
    "redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) return redis.call('GET', KEYS[1])",
  ),
  ownerOf: luaScript("return redis.call('GET', KEYS[1])"),
}
// every store operation: one FCALL (or EVALSHA where Redis has no Functions)
const library = luaLibrary('keyguard', storeLua.library, storeLua.operations)
type Operation = (typeof storeLua.operations)[number]

/** Options of the bare Lua store: no timeout, no fallback (that is {@link redisStore}'s job). */
export interface LuaStoreOptions {
  client: RedisClientLike
  /** Key prefix; becomes the Cluster hash tag `{prefix}` unless it already holds one. */
  prefix: string
  /** How long finished reservation ids and idempotency keys are remembered. */
  rememberMs: number
  /** How many expired holds one call reclaims in each state it loads. */
  reclaimPerReserve: number
  /** How long a credits balance is kept after its last write (and past its latest grant expiry). */
  creditsTtlMs: number
  /** Redis's clock, to give each reserve a deadline (see replay-guard.ts); without it reserves have none. */
  clock?: RedisClock | undefined
  /** The key base (`{tag}:`) to use instead of `prefix`'s own: one Cluster shard's (see sharded-store.ts). */
  base?: string | undefined
}

/** Thrown when Redis ran a reserve after its deadline or after its cancel: it wrote nothing. */
export class StaleReserveError extends Error {
  constructor(id: string) {
    super(`reserve ${id} reached Redis after it was given up; it wrote nothing`)
    this.name = 'StaleReserveError'
  }
}

/** The Lua store: a {@link KeyguardStore} plus the cancel of a reserve its sender gave up on. */
export type LuaStore = KeyguardStore &
  Required<Pick<KeyguardStore, 'claim' | 'ownerOf'>> & {
    /** Release `id`'s hold whatever its lease says, or leave a tombstone that stops a later reserve of it. */
    cancel(id: string): Promise<'released' | 'tombstone' | string>
    /**
     * Move the lease end of each live reservation to `leaseMs` from Redis's now, but never past its
     * `until` (Redis ms); answers how many were renewed (an ended or expired one is not).
     */
    renew(leases: readonly { id: string; until: number }[], leaseMs: number): Promise<number>
  }

/** `{prefix}:` — every key shares the hash tag, so a multi-scope reserve stays in one Cluster slot. */
export function keyBase(prefix: string): string {
  return /\{[^}]+\}/.test(prefix) ? `${prefix}:` : `{${prefix}}:`
}

// Scope and policy are user-chosen strings; a length prefix keeps `a:b` + `c` apart from `a` + `b:c`.
const part = (value: string) => `${value.length}.${value}`

/** A charge as the scripts read it (decode_charges): the rule travels as JSON text, stored as is. */
interface LuaCharge {
  s: string
  p: string
  a: number
  k: string
  rj: string
}

const kindCode: Record<LimitKind, string> = {
  requests: 'q',
  tokens: 't',
  spend: 's',
  concurrency: 'c',
  credits: 'm',
}

/** The key of one state's aggregates hash; its other keys add `:holds`, `:log` and (credits) `:exp`. */
function stateKey(base: string, scope: string, policy: string, rule: LimitRule): string {
  const period = rule.kind === 'spend' ? `:${part(rule.period.id)}` : ''
  return `${base}${kindCode[rule.kind]}:${part(scope)}:${part(policy)}${period}`
}

const keysOf = (k: string, kind: LimitKind) =>
  kind === 'credits' ? [k, `${k}:holds`, `${k}:log`, `${k}:exp`] : [k, `${k}:holds`, `${k}:log`]

/**
 * A period as of Redis's clock: a rule's period that says how it was cut (`of`) is cut again at
 * `redisNow`, with `startsAt`, so the script can check that its own TIME is inside it (one clock for
 * a whole fleet, whatever each host's clock says). A period without `of` is the caller's, as given.
 */
function periodAt(period: PeriodRef, redisNow: number) {
  return period.of ? periodSpanOf(redisNow, period.of) : { id: period.id, endsAt: period.endsAt }
}

function ruleAt(rule: LimitRule, redisNow: number): LimitRule {
  if (rule.kind === 'spend') return { ...rule, period: periodAt(rule.period, redisNow) }
  if (rule.kind === 'credits' && rule.autoRecharge)
    return {
      ...rule,
      autoRecharge: { ...rule.autoRecharge, period: periodAt(rule.autoRecharge.period, redisNow) },
    }
  return rule
}

/** Reply code of a script that found a period (cut at the sender's estimate of Redis's time) not holding its TIME. */
const PERIOD_MOVED = 3

const nullable = (value: unknown): number | null => (value === '' || value === null ? null : Number(value))

function toState(row: unknown[]): ChargeState {
  const [scope, policy, kind, limit, used, held, remaining, resetAt] = row
  return {
    scope: String(scope),
    policy: String(policy),
    kind: String(kind) as LimitKind,
    limit: nullable(limit),
    used: Number(used),
    held: Number(held),
    remaining: nullable(remaining),
    resetAt: nullable(resetAt),
  }
}

function toEvent(row: unknown[]): StoreEvent {
  const [type, scope, policy] = row.map(String)
  switch (type) {
    case 'soft-limit':
      return {
        type,
        scope: scope as string,
        policy: policy as string,
        thresholdNanos: Number(row[3]),
        usedNanos: Number(row[4]),
        limitNanos: nullable(row[5]),
        periodId: String(row[6]),
      }
    case 'credits-low':
      return { type, scope: scope as string, policy: policy as string, balanceNanos: Number(row[3]) }
    case 'recharge-due':
      return {
        type,
        scope: scope as string,
        policy: policy as string,
        amountNanos: Number(row[3]),
        idempotencyKey: String(row[4]),
      }
    default:
      return {
        type: 'lease-expired',
        scope: scope as string,
        policy: policy as string,
        reservationId: String(row[3]),
        reclaimedAs: String(row[4]) as 'spent' | 'released',
      }
  }
}

const rows = (value: unknown) => (value as unknown[][]).map((row) => row)

const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0

/** Spec §0: throw RangeError on bad input before touching state. */
function checkRule(rule: LimitRule, where: string) {
  const bad = (what: string) => {
    throw new RangeError(`${where}: ${what}`)
  }
  switch (rule.kind) {
    case 'requests':
      if (!isCount(rule.limit)) bad('limit must be a safe integer >= 0')
      if (!isCount(rule.windowMs) || rule.windowMs < 1) bad('windowMs must be a safe integer >= 1')
      break
    case 'tokens':
      if (!isCount(rule.capacity)) bad('capacity must be a safe integer >= 0')
      if (!Number.isFinite(rule.refillPerSecond) || rule.refillPerSecond < 0)
        bad('refillPerSecond must be finite and >= 0')
      break
    case 'spend':
      if (rule.limitNanos !== null && !isCount(rule.limitNanos))
        bad('limitNanos must be null or a safe integer >= 0')
      if (!rule.softNanos.every(isCount)) bad('softNanos must be safe integers >= 0')
      if (!Number.isFinite(rule.period.endsAt)) bad('period.endsAt must be a finite epoch ms')
      break
    case 'concurrency':
      if (!isCount(rule.limit)) bad('limit must be a safe integer >= 0')
      break
    case 'credits':
      if (rule.lowBalanceNanos !== undefined && !isCount(rule.lowBalanceNanos))
        bad('lowBalanceNanos must be a safe integer >= 0')
      if (
        rule.autoRecharge &&
        !(
          isCount(rule.autoRecharge.thresholdNanos) &&
          isCount(rule.autoRecharge.amountNanos) &&
          isCount(rule.autoRecharge.maxPerPeriod)
        )
      ) {
        bad('autoRecharge amounts must be safe integers >= 0')
      }
      break
    default:
      bad(`unknown rule kind ${(rule as { kind: unknown }).kind}`)
  }
}

/**
 * The store as Lua scripts, one round trip each, with no timeout or fallback. {@link redisStore}
 * wraps it; the bench and the fleet test also use it bare.
 */
export function luaStore({
  client,
  prefix,
  rememberMs,
  reclaimPerReserve,
  creditsTtlMs,
  clock,
  base = keyBase(prefix),
}: LuaStoreOptions): LuaStore {
  const head = [base, rememberMs, creditsTtlMs, reclaimPerReserve]
  const record = (id: string) => `${base}r:${id}`
  const run = (operation: Operation, keys: string[], args: (string | number)[]) =>
    library.run(client, operation, keys, [...head, ...args])
  type ChargeLike = Pick<Charge, 'scope' | 'policy' | 'rule'> & { amount: number }
  const toLua = (charge: ChargeLike, redisNow: number): LuaCharge => {
    const rule = ruleAt(charge.rule, redisNow)
    return {
      s: charge.scope,
      p: charge.policy,
      a: charge.amount,
      k: stateKey(base, charge.scope, charge.policy, rule),
      rj: JSON.stringify(rule),
    }
  }
  // five arguments a charge, in decode_charges's order
  const chargeArgs = (lua: LuaCharge[]) => lua.flatMap((c) => [c.s, c.p, c.a, c.k, c.rj])
  const stateKeyList = (charges: readonly ChargeLike[], lua: LuaCharge[]) =>
    lua.flatMap((c, i) => keysOf(c.k, (charges[i] as ChargeLike).rule.kind))
  // Runs a script that takes charges; when a period cut at this host's estimate of Redis's time does
  // not hold the script's TIME (the first call, or a period's edge), it runs once more cut at that TIME.
  const withPeriods = async (
    charges: readonly ChargeLike[],
    call: (lua: LuaCharge[], keys: string[]) => Promise<unknown[]>,
    codeAt: number,
  ): Promise<unknown[]> => {
    let redisNow = clock?.now() ?? Date.now()
    for (let attempt = 0; ; attempt++) {
      const lua = charges.map((charge) => toLua(charge, redisNow))
      const reply = await call(lua, stateKeyList(charges, lua))
      if (Number(reply[codeAt]) !== PERIOD_MOVED) return reply
      redisNow = Number(reply[reply.length - 1])
      if (attempt === 2) throw new Error(`Redis time ${redisNow} is in no period keyguard can cut`)
    }
  }

  return {
    async reserve({ id, charges, leaseMs }): Promise<ReserveResult> {
      if (typeof id !== 'string' || id === '') throw new RangeError('reserve: id must be a non-empty string')
      if (!isCount(leaseMs) || leaseMs < 1)
        throw new RangeError('reserve: leaseMs must be a safe integer >= 1')
      for (const charge of charges) {
        checkRule(charge.rule, `reserve ${charge.scope}/${charge.policy}`)
        if (!isCount(charge.amount))
          throw new RangeError(`reserve ${charge.scope}/${charge.policy}: amount must be a safe integer >= 0`)
      }
      const sentAt = performance.now()
      const reply = await withPeriods(
        charges,
        (lua, keys) =>
          run(
            'reserve',
            [record(id), ...keys],
            [id, leaseMs, clock?.deadline(sentAt) ?? '', ...chargeArgs(lua)],
          ) as Promise<unknown[]>,
        1,
      )
      const [ok, replayed, states, events, denial, redisNow] = reply
      if (Number(replayed) === 2) throw new StaleReserveError(id)
      clock?.observe(sentAt, Number(redisNow))
      const storeEvents = rows(events).map(toEvent)
      if (Number(ok) === 1) {
        return {
          ok: true,
          replayed: Number(replayed) === 1,
          states: rows(states).map(toState),
          events: storeEvents,
        }
      }
      const [scope, policy, kind, limit, remaining, requested, retryAfterMs, used] = denial as unknown[]
      return {
        ok: false,
        denial: {
          scope: String(scope),
          policy: String(policy),
          kind: String(kind) as LimitKind,
          limit: nullable(limit),
          remaining: Number(remaining),
          requested: Number(requested),
          retryAfterMs: nullable(retryAfterMs),
          used: Number(used),
        },
        events: storeEvents,
      }
    },

    async settle({ id, actual }): Promise<SettleResult> {
      if (!isCount(actual.costNanos) || !isCount(actual.tokens)) {
        throw new RangeError('settle: actual.costNanos and actual.tokens must be safe integers >= 0')
      }
      const [status, states, events] = (await run(
        'settle',
        [record(id)],
        [id, actual.costNanos, actual.tokens],
      )) as unknown[]
      return {
        status: String(status) as SettleResult['status'],
        states: rows(states).map(toState),
        events: rows(events).map(toEvent),
      }
    },

    async release(id): Promise<ReleaseResult> {
      const status = await run('release', [record(id)], [id])
      return { status: String(status) as ReleaseResult['status'] }
    },

    async cancel(id) {
      return String(await run('cancel', [record(id)], [id]))
    },

    async renew(leases, leaseMs) {
      if (leases.length === 0) return 0
      const keys = leases.map(({ id }) => record(id))
      const args = leases.flatMap(({ id, until }) => [id, Math.floor(until)])
      return Number(await run('renew', keys, [leaseMs, ...args]))
    },

    async peek({ scope, policies }): Promise<ChargeState[]> {
      for (const policy of policies) checkRule(policy.rule, `peek ${scope}/${policy.policy}`)
      const charges = policies.map(({ policy, rule }) => ({ scope, policy, rule, amount: 0 }))
      const [, states] = await withPeriods(
        charges,
        (lua, keys) => run('peek', keys, chargeArgs(lua)) as Promise<unknown[]>,
        0,
      )
      return rows(states).map(toState)
    },

    async adjust({
      scope,
      policy,
      rule,
      delta,
      expiresAt,
      idempotencyKey,
    }: AdjustInput): Promise<ChargeState> {
      checkRule(rule, `adjust ${scope}/${policy}`)
      if (!Number.isSafeInteger(delta)) throw new RangeError('adjust: delta must be a safe integer')
      if (rule.kind === 'requests' || rule.kind === 'concurrency') {
        throw new RangeError(`adjust: ${rule.kind} limits have nothing to adjust`)
      }
      if (expiresAt !== undefined && !Number.isFinite(expiresAt))
        throw new RangeError('adjust: expiresAt must be epoch ms')
      const idem = `${base}idem:${part(scope)}:${part(policy)}:${idempotencyKey ?? ''}`
      const [, state] = await withPeriods(
        [{ scope, policy, rule, amount: 0 }],
        (lua) =>
          run(
            'adjust',
            [...keysOf((lua[0] as LuaCharge).k, 'credits'), idem],
            [
              delta,
              expiresAt === undefined ? '' : Math.floor(expiresAt),
              idempotencyKey ?? '',
              IDEMPOTENCY_MS,
              ...chargeArgs(lua),
            ],
          ) as Promise<unknown[]>,
        0,
      )
      return toState(state as unknown[])
    },

    async claim({ objectId, owner, ttlMs }: ClaimInput): Promise<{ owner: string }> {
      if (typeof objectId !== 'string' || objectId === '' || typeof owner !== 'string' || owner === '')
        throw new RangeError('claim: objectId and owner must be non-empty strings')
      if (!isCount(ttlMs) || ttlMs < 1) throw new RangeError('claim: ttlMs must be a safe integer >= 1')
      const reply = await scripts.claim.run(client, [`${base}o:${objectId}`], [owner, ttlMs])
      return { owner: String(reply) }
    },

    async ownerOf(objectId: string): Promise<string | null> {
      if (typeof objectId !== 'string' || objectId === '')
        throw new RangeError('ownerOf: objectId must be a non-empty string')
      const reply = await scripts.ownerOf.run(client, [`${base}o:${objectId}`], [])
      return reply === null || reply === undefined ? null : String(reply)
    },
  }
}

/** Applied adjust idempotency keys are remembered this long (spec §8: at least 7 days). */
const IDEMPOTENCY_MS = 7 * 86_400_000
