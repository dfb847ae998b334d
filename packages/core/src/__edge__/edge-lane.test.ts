import { describe, expect, it } from 'vitest'

// This file proves the edge lane bites: the same fixtures load on Node and fail in the edge lane.
const lane = globalThis.EdgeRuntime === undefined ? 'node' : 'edge'

// A computed path keeps the type checker (which runs with no Node types) out of the Node-only fixtures.
const fixture = (name: string): Promise<Record<string, (...args: string[]) => unknown>> =>
  import(`./__fixtures__/${name}.ts`)

declare global {
  var EdgeRuntime: string | undefined
}

describe('edge lane', () => {
  it('runs in the lane its project names', () => {
    expect(['node', 'edge']).toContain(lane)
    expect(typeof fetch).toBe('function')
    expect(typeof crypto.subtle.digest).toBe('function')
  })

  it('rejects a Node built-in import inside core', async () => {
    const load = fixture('imports-node-crypto')
    if (lane === 'edge') await expect(load).rejects.toThrow(/Node-only module "node:crypto"/)
    else expect((await load).digest?.('a')).toHaveLength(64)
  })

  it('leaves process undefined inside core', async () => {
    const { readKey } = await fixture('reads-process-env')
    if (lane === 'edge') expect(() => readKey?.()).toThrow(TypeError)
    else expect(typeof readKey?.()).toBe('string')
  })

  it('makes feature detection see an edge runtime', async () => {
    const { hasProcess, hasBuffer } = await fixture('detects-runtime')
    expect(hasProcess?.()).toBe(lane === 'node')
    expect(hasBuffer?.()).toBe(lane === 'node')
  })
})
