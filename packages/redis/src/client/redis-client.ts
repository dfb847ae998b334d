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

/** A Lua library whose operations each run in one round trip (see {@link luaLibrary}). */
export interface LuaLibrary {
  /** The library's name in Redis (`FUNCTION LIST`), with the hash of its code. */
  readonly name: string
  run(
    client: RedisClientLike,
    operation: string,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown>
}

// What a client offers beyond the two commands: Redis Functions (ioredis `fcall` and `call`, node-redis
// `fCall` and `functionLoad`), and a Cluster's masters (ioredis `nodes`, node-redis `masters`).
interface FunctionsClient {
  fcall?(name: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>
  call?(command: string, ...args: (string | number)[]): Promise<unknown>
  nodes?(role: 'master'): FunctionsClient[]
  fCall?(name: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
  functionLoad?(code: string, options: { REPLACE: boolean }): Promise<unknown>
  masters?: unknown[]
  nodeClient?(node: unknown): Promise<FunctionsClient>
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))
const isFunctionMissing = (error: unknown) => /^ERR Function not found/i.test(message(error))
// Redis before 7 (no FCALL), or an ACL user without FCALL/FUNCTION: the scripts then run by EVALSHA
const lacksFunctions = (error: unknown) =>
  /unknown command|NOPERM/i.test(message(error)) && /fcall|function/i.test(message(error))

/** Load `source` on every master a client writes to (one for a plain client), replacing an older copy. */
async function loadEverywhere(client: FunctionsClient, source: string): Promise<void> {
  if (typeof client.fCall === 'function') {
    if (Array.isArray(client.masters) && typeof client.nodeClient === 'function') {
      const nodeClient = client.nodeClient.bind(client)
      await Promise.all(
        client.masters.map(async (master) => loadEverywhere(await nodeClient(master), source)),
      )
      return
    }
    await (client.functionLoad as NonNullable<FunctionsClient['functionLoad']>)(source, { REPLACE: true })
    return
  }
  const masters = typeof client.nodes === 'function' ? client.nodes('master') : [client]
  await Promise.all(
    masters.map((node) =>
      (node.call as NonNullable<FunctionsClient['call']>)('FUNCTION', 'LOAD', 'REPLACE', source),
    ),
  )
}

/**
 * Prepare a Lua library: `library` defines `OPS.<operation>` functions and a `begin(keys, args)` that
 * every call runs first. On Redis 7 and later it is loaded once as a Redis Functions library (on every
 * master of a Cluster) and each operation is one `FCALL`, so the library's code is not run again on
 * every call; a server that lost it (a restart, `FUNCTION FLUSH`) gets it again at the first
 * `Function not found`. A client or server without Functions runs each operation as its own script
 * (`EVALSHA`, the library and one line that calls the operation).
 */
export function luaLibrary(prefix: string, library: string, operations: readonly string[]): LuaLibrary {
  const hash = createHash('sha1').update(library).digest('hex').slice(0, 12)
  const name = `${prefix}_${hash}`
  const functionName = (operation: string) => `${name}_${operation}`
  const registrations = operations
    .map(
      (operation) =>
        `redis.register_function('${functionName(operation)}', function(keys, args) begin(keys, args) return OPS.${operation}() end)`,
    )
    .join('\n')
  const source = `#!lua name=${name}\n${library}\n${registrations}\n`
  const scripts = new Map(
    operations.map((operation) => [
      operation,
      luaScript(
        `local G_KEYS, G_ARGV = KEYS, ARGV\n${library}\nbegin(G_KEYS, G_ARGV) return OPS.${operation}()\n`,
      ),
    ]),
  )
  // clients that run by EVALSHA (no Functions), and loads in flight (one per client at a time)
  const scriptsOnly = new WeakSet<object>()
  const loads = new WeakMap<object, Promise<void>>()
  const load = (client: FunctionsClient) => {
    let loading = loads.get(client)
    if (!loading) {
      loading = loadEverywhere(client, source).finally(() => loads.delete(client))
      loads.set(client, loading)
    }
    return loading
  }
  const fcall = (
    client: FunctionsClient,
    operation: string,
    keys: readonly string[],
    args: readonly (string | number)[],
  ) =>
    typeof client.fCall === 'function'
      ? client.fCall(functionName(operation), { keys: [...keys], arguments: args.map(String) })
      : (client.fcall as NonNullable<FunctionsClient['fcall']>)(
          functionName(operation),
          keys.length,
          ...keys,
          ...args,
        )
  const hasFunctions = (client: FunctionsClient) =>
    typeof client.fCall === 'function'
      ? typeof client.functionLoad === 'function'
      : typeof client.fcall === 'function' && typeof client.call === 'function'
  const byScript = (
    client: RedisClientLike,
    operation: string,
    keys: readonly string[],
    args: readonly (string | number)[],
  ) => {
    const script = scripts.get(operation)
    if (!script) throw new RangeError(`${name} has no operation ${operation}`)
    return script.run(client, keys, args)
  }

  return {
    name,
    async run(client, operation, keys, args) {
      const functions = client as FunctionsClient
      if (scriptsOnly.has(client) || !hasFunctions(functions)) return byScript(client, operation, keys, args)
      try {
        return await fcall(functions, operation, keys, args)
      } catch (error) {
        if (lacksFunctions(error)) {
          scriptsOnly.add(client)
          return byScript(client, operation, keys, args)
        }
        if (!isFunctionMissing(error)) throw error
      }
      try {
        await load(functions)
      } catch (error) {
        if (!lacksFunctions(error)) throw error
        scriptsOnly.add(client)
        return byScript(client, operation, keys, args)
      }
      return fcall(functions, operation, keys, args)
    },
  }
}
