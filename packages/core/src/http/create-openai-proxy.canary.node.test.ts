import { inspect } from 'node:util'
import { createMockOpenAI } from '@keyguard/testing'
import { describe, expect, it } from 'vitest'
import { canaryKey } from '../errors/__fixtures__/openai-error-bodies'
import { createKeyguard } from '../guard/create-keyguard'
import { createOpenAIProxy } from './create-openai-proxy'

const middle = canaryKey.slice(10, -6)

describe('createOpenAIProxy', () => {
  it('keeps the key out of every refusal of an endpoint or a stored object, and out of the guard it reads', async () => {
    const mock = createMockOpenAI({ validKeys: [canaryKey] })
    const guard = createKeyguard({
      key: canaryKey,
      upstream: { fetch: mock.fetch },
      logger: { warn() {}, error() {} },
    })
    const proxy = createOpenAIProxy({
      keys: { 'kg-acme': { tenant: 'acme' } },
      allow: [{ method: 'POST', path: '/v1/images/generations', price: () => ({ costNanos: -1 }) }],
    })
    const send = (method: string, path: string, body?: unknown) =>
      proxy(
        new Request(`http://app.test${path}`, {
          method,
          headers: { authorization: 'Bearer kg-acme', 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
        guard,
      )
    const responses = [
      await send('POST', '/v1/completions', { model: 'gpt-4o-mini', prompt: 'hi' }),
      await send('GET', '/v1/responses/resp_1'),
      await send('POST', '/v1/responses', {
        model: 'gpt-4o-mini',
        input: 'hi',
        previous_response_id: 'resp_1',
      }),
      await send('POST', '/v1/responses', { model: 'gpt-4o-mini', input: 'hi', conversation: 'conv_1' }),
      await send('POST', '/v1/images/generations', { prompt: 'a cat' }),
    ]
    for (const response of responses) {
      expect(response.ok).toBe(false)
      expect(await response.text()).not.toContain(middle)
      expect(JSON.stringify([...response.headers])).not.toContain(middle)
    }
    expect(inspect(guard, { showHidden: true, depth: 10 })).not.toContain(middle)
    expect(mock.requests).toHaveLength(0)
  })
})
