import type { ChargeState, ReleaseResult, ReserveResult, SettleResult, StoreEvent } from '@keyguard/core'
import { type LuaStore, type LuaStoreOptions, luaStore } from './lua-store'
import type { RedisClock } from './replay-guard'
import { type ShardOf, shardBase, shardOfScope } from './shard-keys'

// The Lua store over Redis Cluster shards. A reservation's charges are grouped by shard (one key
// base, so one slot); a group is one run of the same per-operation script as on a single Redis,
// with its own reservation record in its own slot. One group: exactly one script, as before. Several:
// reserved one after another in a fixed order (tenant shards sorted, the app-wide shard last), and a
// denial cancels the groups already held before it answers — each group is atomic, so no limit is
// ever overspent, only briefly held by a reservation that is then denied. Settle, release, cancel
// and renew go to every group at once; each group's record makes them idempotent per slot.

/** Options of {@link shardedLuaStore}: the Lua store's, plus where each scope lives. */
export interface ShardedLuaStoreOptions extends Omit<LuaStoreOptions, 'base'> {
  shardBy?: ShardOf | undefined
}

/** Where one reservation's groups are: their key bases in reserve order, and each group's charge indexes. */
interface Route {
  bases: string[]
  order: number[][]
  /** Set by a cancel: a reserve still walking its groups stops (a cancel's tombstones stop the rest). */
  cancelled?: boolean
}

/** Most routes remembered (live reservations, then finished ones for a repeated settle); oldest go first. */
const ROUTES_MAX = 100_000

// The status a reservation's groups add up to: the one that says the most about what was charged.
const settleRank: SettleResult['status'][] = ['expired', 'settled', 'already-settled', 'released', 'unknown']
const releaseRank: ReleaseResult['status'][] = [
  'expired',
  'settled',
  'released',
  'already-released',
  'unknown',
]
const strongest = <T extends string>(rank: readonly T[], statuses: readonly T[]): T =>
  rank.find((status) => statuses.includes(status)) ?? (statuses[0] as T)

/**
 * A {@link LuaStore} whose states live on Cluster shards chosen by `shardBy` (see shard-keys.ts).
 * Settle, release, cancel and renew find a reservation's shards in this process's memory of its
 * routes (the process that reserves is the one that settles); an id it does not know is looked up
 * on the app-wide shard only.
 */
export function shardedLuaStore({ shardBy, ...options }: ShardedLuaStoreOptions): LuaStore {
  const appWide = shardBase(options.prefix, '')
  const routes = new Map<string, Route>()
  const on = (base: string, clock: RedisClock | undefined = options.clock) =>
    luaStore({ ...options, base, clock })
  const baseOf = (scope: string) => shardBase(options.prefix, shardOfScope(shardBy, scope))
  const remember = (id: string, route: Route) => {
    routes.delete(id)
    routes.set(id, route)
    if (routes.size > ROUTES_MAX) routes.delete(routes.keys().next().value as string)
  }
  const routeOf = (id: string): Route => routes.get(id) ?? { bases: [appWide], order: [] }
  const inOrder = <T>(route: Route, parts: T[][]): T[] => {
    if (route.bases.length === 1) return parts[0] ?? []
    const all: T[] = []
    parts.forEach((part, group) => {
      part.forEach((item, j) => {
        all[(route.order[group] as number[])[j] as number] = item
      })
    })
    // a shard that forgot the reservation (past rememberMs) answers no states: leave no holes
    return all.filter((item) => item !== undefined)
  }

  const cancelAll = (bases: readonly string[], id: string) =>
    Promise.all(bases.map((base) => on(base).cancel(id)))
  const reserveAcross = async (
    input: Parameters<LuaStore['reserve']>[0],
    route: Route,
  ): Promise<ReserveResult> => {
    const { clock } = options
    // every group carries the first group's deadline: the whole reservation is late or none of it
    const sentAt = performance.now()
    const sameDeadline: RedisClock | undefined = clock && {
      deadline: () => clock.deadline(sentAt),
      observe: (at, redisNow) => clock.observe(at, redisNow),
      now: () => clock.now(),
    }
    const held: string[] = []
    const states: ChargeState[][] = []
    const events: StoreEvent[] = []
    let replayed = true
    for (const [group, base] of route.bases.entries()) {
      if (route.cancelled)
        throw new Error(`reserve ${input.id} was cancelled while it reserved shard by shard`)
      const charges = (route.order[group] as number[]).map(
        (i) => input.charges[i] as (typeof input.charges)[number],
      )
      const result = await Promise.resolve(on(base, sameDeadline).reserve({ ...input, charges })).catch(
        async (error: unknown) => {
          // a bad charge on a later shard (RangeError) is the caller's bug: nothing may stay held for it.
          // Any other failure is cancelled on every shard by the caller (redisStore), as a single reserve is.
          if (error instanceof RangeError) await cancelAll(held, input.id).catch(() => {})
          throw error
        },
      )
      events.push(...result.events)
      if (!result.ok) {
        // what this reservation newly holds goes back before the denial is answered
        await cancelAll(held, input.id)
        return { ok: false, denial: result.denial, events }
      }
      if (!result.replayed) held.push(base)
      replayed &&= result.replayed
      states.push(result.states)
    }
    return { ok: true, replayed, states: inOrder(route, states), events }
  }

  return {
    async reserve(input) {
      const groups = new Map<string, number[]>()
      input.charges.forEach((charge, i) => {
        const base = baseOf(charge.scope)
        const group = groups.get(base)
        if (group) group.push(i)
        else groups.set(base, [i])
      })
      // a fixed order, so every instance takes shards alike: tenants first, the shared app-wide shard last
      const bases = [...groups.keys()].sort((a, b) =>
        a === appWide ? 1 : b === appWide ? -1 : a < b ? -1 : a > b ? 1 : 0,
      )
      const route: Route = { bases, order: bases.map((base) => groups.get(base) as number[]) }
      remember(input.id, route)
      if (bases.length <= 1) return on(bases[0] ?? appWide).reserve(input)
      return reserveAcross(input, route)
    },

    async settle(input) {
      const route = routeOf(input.id)
      const parts = await Promise.all(route.bases.map((base) => on(base).settle(input)))
      return {
        status: strongest(
          settleRank,
          parts.map((part) => part.status),
        ),
        states: inOrder(
          route,
          parts.map((part) => part.states),
        ),
        events: parts.flatMap((part) => part.events),
      }
    },

    async release(id) {
      const parts = await Promise.all(routeOf(id).bases.map((base) => on(base).release(id)))
      return {
        status: strongest(
          releaseRank,
          parts.map((part) => part.status),
        ),
      }
    },

    async cancel(id) {
      const route = routeOf(id)
      route.cancelled = true
      const parts = await cancelAll(route.bases, id)
      return parts.includes('released') ? 'released' : (parts[0] ?? 'tombstone')
    },

    async renew(leases, leaseMs) {
      const byBase = new Map<string, (typeof leases)[number][]>()
      for (const lease of leases) {
        for (const base of routeOf(lease.id).bases) {
          const list = byBase.get(base)
          if (list) list.push(lease)
          else byBase.set(base, [lease])
        }
      }
      const counts = await Promise.all([...byBase].map(([base, list]) => on(base).renew(list, leaseMs)))
      // a reservation counts once however many shards it has: the most any one shard renewed
      return Math.max(0, ...counts)
    },

    peek: (input) => on(baseOf(input.scope)).peek(input),
    adjust: (input) => on(baseOf(input.scope)).adjust(input),
    // objects are not scopes: their claims stay on the app-wide shard, where they have always been
    claim: (input) => on(appWide).claim(input),
    ownerOf: (objectId) => on(appWide).ownerOf(objectId),
  }
}
