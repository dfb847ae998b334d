import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import { describe, expect, it } from 'vitest'
import { isKeyguardError, type KeyguardError } from '../errors/keyguard-error'
import { createKeyguard } from '../guard/create-keyguard'
import { createOpenAIProxy } from '../http/create-openai-proxy'
import { createKeyRing } from '../keys/create-key-ring'
import { parseApiKey } from '../keys/parse-api-key'
import { verifyApiKey } from '../keys/verify-api-key'
import { autoRecharger } from '../limits/auto-recharger'
import { concurrencyLimit } from '../limits/concurrency-limit'
import { credits } from '../limits/credits'
import { memoryStore } from '../limits/memory-store'
import { requestLimit } from '../limits/request-limit'
import { spendLimit } from '../limits/spend-limit'
import { tokenLimit } from '../limits/token-limit'
import { checkOptions } from './check-options'

const key = exampleMockKey
const recharge = () => {}

async function refusalOf(build: () => unknown): Promise<KeyguardError> {
  const error = await (async () => build())().then(
    () => undefined,
    (rejection: unknown) => rejection,
  )
  if (!isKeyguardError(error)) throw new Error(`expected a KeyguardError, got ${String(error)}`)
  return error
}

// Every factory of core and @keyguard/testing, each with one misspelt option and the key it meant.
const typos: [factory: string, build: () => unknown, typo: string, meant: string][] = [
  ['createKeyguard', () => createKeyguard({ key, limit: [] } as never), 'limit', 'limits'],
  [
    'createKeyguard',
    () => createKeyguard({ key, estimate: { countCache: { maxEntrys: 10 } } } as never),
    'estimate.countCache.maxEntrys',
    'estimate.countCache.maxEntries',
  ],
  [
    'createKeyguard',
    () => createKeyguard({ key, upstream: { circuitBreaker: { cooldown: 10 } } } as never),
    'upstream.circuitBreaker.cooldown',
    'upstream.circuitBreaker.cooldownMs',
  ],
  [
    'createKeyguard',
    () => createKeyguard({ key, output: { default: { maxTokens: 1, enfroce: 'forward' } } } as never),
    'output.default.enfroce',
    'output.default.enforce',
  ],
  [
    'spendLimit',
    () => spendLimit({ scope: 'tenant', limit: 1, period: 'month', softat: [0.5] } as never),
    'softat',
    'softAt',
  ],
  [
    'requestLimit',
    () => requestLimit({ scope: 'user', limit: 1, windowMs: 1000, whenMising: 'skip' } as never),
    'whenMising',
    'whenMissing',
  ],
  [
    'tokenLimit',
    () => tokenLimit({ scope: 'user', capacity: 1, refilPerSecond: 1 } as never),
    'refilPerSecond',
    'refillPerSecond',
  ],
  [
    'concurrencyLimit',
    () => concurrencyLimit({ scope: 'key', limit: 1, nmae: 'x' } as never),
    'nmae',
    'name',
  ],
  ['credits', () => credits({ scope: 'tenant', lowBalence: 1 } as never), 'lowBalence', 'lowBalance'],
  [
    'credits',
    () =>
      credits({
        scope: 'tenant',
        autoRecharge: { threshold: 1, amount: 1, maxPerPeriods: 1, recharge },
      } as never),
    'autoRecharge.maxPerPeriods',
    'autoRecharge.maxPerPeriod',
  ],
  ['memoryStore', () => memoryStore({ maxkeys: 10 } as never), 'maxkeys', 'maxKeys'],
  [
    'autoRecharger',
    () => autoRecharger({ store: memoryStore(), policies: [], emit() {}, nowe: Date.now } as never),
    'nowe',
    'now',
  ],
  [
    'openaiProxy',
    () => createOpenAIProxy({ keys: {}, maxBodyByte: 10 } as never),
    'maxBodyByte',
    'maxBodyBytes',
  ],
  [
    'openaiProxy',
    () => createOpenAIProxy({ keys: {}, costHeader: true } as never),
    'costHeader',
    'costHeaders',
  ],
  ['verifyApiKey', () => verifyApiKey(key, { timeout: 10 } as never), 'timeout', 'timeoutMs'],
  ['parseApiKey', () => parseApiKey(key, { allowUnkown: true } as never), 'allowUnkown', 'allowUnknown'],
  [
    'createKeyRing',
    () => createKeyRing({ default: key }, { defaultLable: 'x' } as never),
    'defaultLable',
    'defaultLabel',
  ],
  ['createMockOpenAI', () => createMockOpenAI({ validKey: [key] } as never), 'validKey', 'validKeys'],
]

describe('checkOptions', () => {
  it.each(typos)(
    'makes %s reject the unknown option %s, naming the closest known one',
    async (factory, build, typo, meant) => {
      const error = await refusalOf(build)
      expect(error.code).toBe('config.invalid')
      expect(error.message).toContain(factory)
      expect(error.message).toContain(`unknown option \`${typo}\`; did you mean \`${meant}\`?`)
      expect(error.problems).toContainEqual(expect.objectContaining({ code: 'unknown_option', path: typo }))
    },
  )

  // Every option that was flat before the options were grouped by concern, and its new place.
  const moved: [option: string, value: unknown, now: string][] = [
    ['fetch', () => {}, 'upstream: { fetch }'],
    ['baseUrl', 'https://api.openai.com/v1', 'upstream: { baseUrl }'],
    ['circuitBreaker', false, 'upstream: { circuitBreaker }'],
    ['counter', {}, 'estimate: { counter }'],
    ['countCache', false, 'estimate: { countCache }'],
    ['defaultServiceTier', 'default', 'estimate: { defaultServiceTier }'],
    ['defaultMaxOutputTokens', 1024, 'output: { default: { maxTokens } }'],
    ['forwardOutputBound', true, "output: { default: { maxTokens, enforce: 'forward' } }"],
    ['streamCut', true, "output: { default: { maxTokens, enforce: 'stream-cut' } }"],
    ['onInsufficientBudget', 'clamp', 'output: { onInsufficientBudget }'],
  ]
  it.each(moved)(
    'makes createKeyguard name the new place of the old option %s',
    async (option, value, now) => {
      const error = await refusalOf(() => createKeyguard({ key, [option]: value } as never))
      expect(error.code).toBe('config.invalid')
      expect(error.problems).toEqual([
        {
          code: 'moved_option',
          path: option,
          message: expect.stringContaining(now),
          fix: `write it as ${now}`,
        },
      ])
    },
  )

  it.each([['openaiProxy', () => createOpenAIProxy({ keys: {}, now: Date.now } as never)]])(
    'makes %s send its old clock option to the guard',
    async (_factory, build) => {
      const error = await refusalOf(build)
      expect(error.problems).toEqual([
        expect.objectContaining({
          code: 'moved_option',
          path: 'now',
          fix: expect.stringContaining('createKeyguard({ now })'),
        }),
      ])
    },
  )

  it('lists every problem of the options in one error', async () => {
    const error = await refusalOf(() =>
      createKeyguard({ key, limit: [], leaseMs: 1, sotre: memoryStore() } as never),
    )
    expect(error.problems.map((problem) => problem.path)).toEqual(['limit', 'sotre', 'leaseMs'])
  })

  it('answers a limits object that is not an array with config.invalid, not a TypeError', async () => {
    const error = await refusalOf(() => createKeyguard({ key, limits: {} } as never))
    expect(error.problems).toEqual([expect.objectContaining({ path: 'limits' })])
  })

  it('names no closest option when none is near, and lists the known ones instead', () => {
    expect(() => checkOptions('memoryStore', { flavour: 'x' }, ['now', 'maxKeys'])).toThrow(
      expect.objectContaining({
        message: expect.stringContaining(
          'unknown option `flavour` (fix: remove it; the known options are now, maxKeys)',
        ),
      }),
    )
  })

  it('answers a raw price table given as prices with config.invalid at construction', () => {
    const raw = { asOf: '2026-01-01', models: { m: { contextWindow: 10, maxOutputTokens: 1, prices: [] } } }
    expect(() => createKeyguard({ key, prices: raw } as never)).toThrow(
      expect.objectContaining({ code: 'config.invalid', message: expect.stringContaining('definePrices()') }),
    )
  })

  it('rejects options that are not an object', () => {
    expect(() => checkOptions('memoryStore', 'fast', ['now'])).toThrow(
      expect.objectContaining({
        code: 'config.invalid',
        problems: [expect.objectContaining({ code: 'not_an_object' })],
      }),
    )
    expect(() => checkOptions('memoryStore', undefined, ['now'])).not.toThrow()
  })
})
