import type { RedisClientLike } from '../client/redis-client'
import { keyBase } from './lua-store'

// Where a scope's state lives in a Redis Cluster. Redis runs a script only when all its keys share a
// hash slot, and hashes only a key's `{tag}`: every key of one shard starts with that shard's base
// (`{prefix|<len>.<shard>}:`), so a reservation's charges on one shard are still one atomic script,
// and different shards (tenants) hash to different slots, spread over the masters.

/** Which shard a scope's state lives on: scopes of one shard share a Cluster slot; `''` is the app-wide slot. */
export type ShardOf = (scope: string) => string | undefined

// Scope kinds shared by every tenant (an API key, a model, the whole app): their limits are app-wide.
const APP_WIDE = /^(global$|key:|model:)/

/**
 * The shard a scope lives on by default: `tenant:<id>` on its tenant's slot, app-wide scopes
 * (`global`, `key:…`, `model:…`) on the app-wide slot, and any other scope (`user:…`, your own kinds)
 * on a slot of its own, since a store sees `user:u9` without the tenant it belongs to (a `shardBy`
 * option that names it puts a tenant's users on the tenant's slot).
 */
export function defaultShardOf(scope: string): string {
  return APP_WIDE.test(scope) ? '' : scope
}

/** The shard of `scope` under the store's `shardBy`: its answer, or the default where it has none. */
export function shardOfScope(shardBy: ShardOf | undefined, scope: string): string {
  let shard: unknown
  try {
    shard = shardBy?.(scope)
  } catch (error) {
    // the app's function failed: a caller bug (like a bad argument), never a Redis outage
    throw new RangeError(
      `shardBy threw for scope ${JSON.stringify(scope)}: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
  if (shard === undefined) return defaultShardOf(scope)
  if (typeof shard !== 'string')
    throw new RangeError(`shardBy must answer a string or undefined, not ${typeof shard}`)
  return shard
}

/**
 * The key base of one shard: the prefix's own base (`{prefix}:`) for the app-wide shard `''`, else
 * the prefix's hash tag extended with the shard, length-prefixed so no two shards' keys can meet
 * (`{keyguard|8.tenant:a}:`, or `app{kg|8.tenant:a}:` for a prefix that brings its own tag).
 */
export function shardBase(prefix: string, shard: string): string {
  const base = keyBase(prefix)
  if (shard === '') return base
  const close = base.indexOf('}', base.indexOf('{'))
  return `${base.slice(0, close)}|${shard.length}.${shard}${base.slice(close)}`
}

/** Whether `client` is a Cluster client: ioredis `Cluster` (`isCluster`) or node-redis `createCluster()` (`masters`). */
export function isClusterClient(client: RedisClientLike): boolean {
  const candidate = client as { isCluster?: unknown; masters?: unknown }
  return candidate.isCluster === true || Array.isArray(candidate.masters)
}
