import { createHash } from 'node:crypto'

/** The two commands keyguard needs from an ioredis client (`Redis` or `Cluster`). */
export interface IoredisLike {
  evalsha(sha: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>
  eval(script: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>
}

/** The two commands keyguard needs from a node-redis v5 client (`createClient()` or `createCluster()`). */
export interface NodeRedisLike {
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
}

/** Either supported client. Pass your connected client; keyguard never connects or quits it. */
export type RedisClientLike = IoredisLike | NodeRedisLike

const isNodeRedis = (client: RedisClientLike): client is NodeRedisLike =>
  typeof (client as Partial<NodeRedisLike>).evalSha === 'function'

const isNoScript = (error: unknown) => error instanceof Error && /NOSCRIPT/.test(error.message)

/** A Lua script that runs in one round trip: `EVALSHA`, and `EVAL` only when Redis answers `NOSCRIPT`. */
export interface LuaScript {
  readonly sha: string
  run(client: RedisClientLike, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>
}

/**
 * Prepare a Lua script for either client.
 *
 * @example
 * ```ts
 * const incr = luaScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
 * await incr.run(client, ['{kg}:n'], [1])
 * ```
 */
export function luaScript(source: string): LuaScript {
  const sha = createHash('sha1').update(source).digest('hex')
  const call = (
    client: RedisClientLike,
    useSha: boolean,
    keys: readonly string[],
    args: readonly (string | number)[],
  ) => {
    if (isNodeRedis(client)) {
      const options = { keys: [...keys], arguments: args.map(String) }
      return useSha ? client.evalSha(sha, options) : client.eval(source, options)
    }
    return useSha
      ? client.evalsha(sha, keys.length, ...keys, ...args)
      : client.eval(source, keys.length, ...keys, ...args)
  }
  return {
    sha,
    async run(client, keys, args) {
      try {
        return await call(client, true, keys, args)
      } catch (error) {
        if (!isNoScript(error)) throw error
        return call(client, false, keys, args)
      }
    },
  }
}
