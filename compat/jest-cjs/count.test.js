// Jest runs CommonJS without dynamic import(): @keyguard/core's CJS build must still count exactly.
const { createKeyguard, estimateRequest } = require('@keyguard/core')

const body = {
  model: 'gpt-4o-mini',
  max_tokens: 10,
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Say hello' },
  ],
}

test('runs on the Node the compat run asked for', () => {
  if (process.env.KEYGUARD_COMPAT_NODE) expect(process.version).toBe(process.env.KEYGUARD_COMPAT_NODE)
})

test('estimates count exactly from the CommonJS build, with no fallback warning', async () => {
  const warnings = []
  const logger = { warn: (message) => warnings.push(message), error: () => {} }
  // The standard tier, named: a request naming none is held at priority (14,250 nanos here).
  const estimate = await estimateRequest('/v1/chat/completions', body, {
    logger,
    defaultServiceTier: 'default',
  })
  expect(warnings).toEqual([])
  expect(estimate).toMatchObject({ exact: true, inputTokens: 17, maxCostNanos: 8550 })
})

test('a guard built from the CommonJS build holds the exact estimate', async () => {
  const warnings = []
  const guard = createKeyguard({
    key: 'sk-proj-JestCompatKey0123456789abcdefghijklmnopqrstuvwxyzAB',
    logger: { warn: (message) => warnings.push(message), error: () => {} },
  })
  const estimate = await guard.estimate({ endpoint: '/v1/chat/completions', body })
  expect(warnings).toEqual([])
  expect(estimate?.inputTokens).toBe(17)
})
