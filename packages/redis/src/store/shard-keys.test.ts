import { describe, expect, it } from 'vitest'
import { defaultShardOf, isClusterClient, shardBase, shardOfScope } from './shard-keys'

describe('defaultShardOf', () => {
  it('puts a tenant on its own shard, app-wide scopes on the app-wide one, other scopes on their own', () => {
    expect(defaultShardOf('tenant:t1')).toBe('tenant:t1')
    expect(defaultShardOf('global')).toBe('')
    expect(defaultShardOf('key:default')).toBe('')
    expect(defaultShardOf('model:gpt-4o')).toBe('')
    expect(defaultShardOf('user:u9')).toBe('user:u9')
    expect(defaultShardOf('globalx')).toBe('globalx')
  })
})

describe('shardOfScope', () => {
  it("takes shardBy's answer, and the default where it answers undefined", () => {
    const shardBy = (scope: string) =>
      scope.startsWith('user:') ? `tenant:${scope.split('/')[0]?.slice(5)}` : undefined
    expect(shardOfScope(shardBy, 'user:t1/u9')).toBe('tenant:t1')
    expect(shardOfScope(shardBy, 'tenant:t1')).toBe('tenant:t1')
    expect(shardOfScope(shardBy, 'global')).toBe('')
    expect(shardOfScope(() => '', 'tenant:t1')).toBe('')
  })

  it('throws RangeError (a caller bug, not an outage) when shardBy throws or answers a non-string', () => {
    expect(() =>
      shardOfScope(() => {
        throw new Error('no tenant')
      }, 'user:u1'),
    ).toThrow(RangeError)
    expect(() => shardOfScope(() => 7 as never, 'user:u1')).toThrow(RangeError)
  })
})

describe('shardBase', () => {
  it("keeps the app-wide base and extends the prefix's hash tag per shard, length-prefixed", () => {
    expect(shardBase('keyguard', '')).toBe('{keyguard}:')
    expect(shardBase('keyguard', 'tenant:a')).toBe('{keyguard|8.tenant:a}:')
    expect(shardBase('app{kg}', 'tenant:a')).toBe('app{kg|8.tenant:a}:')
    expect(shardBase('app:{kg}:x', 'tenant:a')).toBe('app:{kg|8.tenant:a}:x:')
  })

  it('never lets two shards share a base, whatever their ids contain', () => {
    expect(shardBase('kg', 'a}:q')).not.toBe(shardBase('kg', 'a'))
    expect(shardBase('kg', '1.a')).not.toBe(shardBase('kg', 'a'))
  })
})

describe('isClusterClient', () => {
  it('knows an ioredis Cluster and a node-redis cluster from a single-server client', () => {
    const evalsha = async () => null
    expect(isClusterClient({ evalsha, eval: evalsha, isCluster: true } as never)).toBe(true)
    expect(isClusterClient({ evalsha, eval: evalsha, isCluster: false } as never)).toBe(false)
    expect(isClusterClient({ evalSha: evalsha, eval: evalsha, masters: [] } as never)).toBe(true)
    expect(isClusterClient({ evalSha: evalsha, eval: evalsha } as never)).toBe(false)
  })
})
