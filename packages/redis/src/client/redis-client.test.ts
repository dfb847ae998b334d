import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { luaLibrary, luaScript, type RedisClientLike } from './redis-client'
import { redisUrl } from './test-redis'

const ioredis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
const nodeRedis = createClient({ url: redisUrl })

beforeAll(async () => {
  await ioredis.connect()
  await nodeRedis.connect()
})
afterAll(async () => {
  await ioredis.quit()
  await nodeRedis.quit()
})

const clients: [string, () => RedisClientLike][] = [
  ['ioredis', () => ioredis],
  ['node-redis', () => nodeRedis],
]

describe.each(clients)('luaScript with %s', (name, client) => {
  const key = `{kg-test}:lua:${name}:${Date.now()}`
  // A source of its own (a unique comment), so Redis has never seen it: no SCRIPT FLUSH of the shared
  // server, which would make other test files running beside this one load their scripts again.
  const incr = luaScript(
    `-- ${name} ${process.pid} ${Date.now()} ${Math.random()}\nredis.call('PEXPIRE', KEYS[1], 60000); return redis.call('INCRBY', KEYS[1], ARGV[1])`,
  )

  it('loads the script with EVAL after NOSCRIPT, then runs it by its sha', async () => {
    expect(await ioredis.script('EXISTS', incr.sha)).toEqual([0])
    expect(await incr.run(client(), [key], [2])).toBe(2)
    expect(await ioredis.script('EXISTS', incr.sha)).toEqual([1])
    expect(await incr.run(client(), [key], [3])).toBe(5)
    expect(await ioredis.pttl(key)).toBeGreaterThan(0)
  })

  it('surfaces script errors instead of retrying them', async () => {
    const broken = luaScript("return redis.call('NOT_A_COMMAND')")
    await expect(broken.run(client(), [key], [])).rejects.toThrow(/Unknown Redis command|unknown command/i)
  })
})

describe.each(clients)('luaLibrary with %s', (name, client) => {
  const key = `{kg-test}:lib:${name}:${Date.now()}`
  // a library of its own (its name has a unique prefix): deleting it touches no other test's library
  const tag = `kgtest${process.pid}${name.replace('-', '')}${Math.floor(Math.random() * 1e9)}`
  const library = luaLibrary(
    tag,
    `local KEYS, ARGV
local function begin(keys, args) KEYS, ARGV = keys, args end
local OPS = {}
OPS.incr = function() redis.call('PEXPIRE', KEYS[1], 60000) return redis.call('INCRBY', KEYS[1], ARGV[1]) end`,
    ['incr'],
  )
  const loaded = async () =>
    ((await ioredis.call('FUNCTION', 'LIST', 'LIBRARYNAME', library.name)) as []).length
  afterAll(async () => {
    await ioredis.call('FUNCTION', 'DELETE', library.name).catch(() => {})
  })

  it('loads itself as Redis Functions at the first call, and again after the server lost it (a restart)', async () => {
    expect(await loaded()).toBe(0)
    expect(await library.run(client(), 'incr', [key], [2])).toBe(2)
    expect(await loaded()).toBe(1)
    await ioredis.call('FUNCTION', 'DELETE', library.name)
    expect(await library.run(client(), 'incr', [key], [3])).toBe(5)
    expect(await loaded()).toBe(1)
  })

  it('runs by EVALSHA on a client without Functions', async () => {
    const real = client() as unknown as Record<string, (...args: unknown[]) => unknown>
    const commands = name === 'ioredis' ? ['evalsha', 'eval'] : ['evalSha', 'eval']
    const bare = Object.fromEntries(
      commands.map((command) => [
        command,
        (...args: unknown[]) => (real[command] as (...a: unknown[]) => unknown).apply(real, args),
      ]),
    ) as unknown as RedisClientLike
    expect(await library.run(bare, 'incr', [key], [4])).toBe(9)
  })
})
