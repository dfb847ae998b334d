import { inspect } from 'node:util'
import { createMockOpenAI, mockErrors } from '@keyguard/testing'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { createKeyguard } from '../guard/create-keyguard'
import { keyguardErrorBehind } from '../http/keyguard-error-behind'
import { canaryKey } from './__fixtures__/openai-error-bodies'
import { classifyOpenAIError } from './classify-openai-error'
import type { KeyguardError } from './keyguard-error'
import { toProblemJson } from './problem-json'
import { toOpenAIErrorBody } from './to-openai-error-body'

// The key's middle: present in the key, absent from OpenAI's masked echo and from any fingerprint.
const middle = canaryKey.slice(10, -6)

function expectNoKey(error: KeyguardError) {
  const views = [
    error.message,
    error.operatorHint,
    error.userMessage,
    String(error),
    error.stack ?? '',
    JSON.stringify(error),
    inspect(error, { depth: 10, showHidden: true }),
    JSON.stringify(toProblemJson(error)),
    JSON.stringify(toOpenAIErrorBody(error)),
  ]
  for (const view of views) {
    expect(view).not.toContain(middle)
    expect(view).not.toMatch(/sk-proj-\*{4}/)
  }
}

const presets = Object.entries(mockErrors).filter(
  ([name]) => !['midStreamError', 'disconnect', 'missingUsage'].includes(name),
)

describe('classifyOpenAIError', () => {
  for (const [name, preset] of presets) {
    it(`keeps the key out of every view of ${name}, from openai-node and from a Response`, async () => {
      const mock = createMockOpenAI({ validKeys: [] })
      const client = new OpenAI({ apiKey: canaryKey, fetch: mock.fetch, maxRetries: 0 })
      mock.enqueue((preset as () => never)())
      const apiError = await client.models.list().then(
        () => expect.fail('the scripted error was not raised'),
        (caught: unknown) => caught as Error,
      )
      for (const keyOwner of ['operator', 'user'] as const)
        expectNoKey(classifyOpenAIError(apiError, { keyOwner }))
      mock.enqueue((preset as () => never)())
      const response = await mock.fetch('https://api.openai.com/v1/models', {
        headers: { authorization: `Bearer ${canaryKey}` },
      })
      expectNoKey(await classifyOpenAIError(response))
    })
  }

  it('keeps the key out of a mid-stream error', async () => {
    const mock = createMockOpenAI()
    mock.enqueue(mockErrors.midStreamError({ afterChunks: 1 }))
    const client = new OpenAI({ apiKey: canaryKey, fetch: mock.fetch, maxRetries: 0 })
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [], stream: true })
    const error = await (async () => {
      for await (const _ of stream) {
      }
    })().catch((caught: unknown) => caught as Error)
    const classified = classifyOpenAIError(error as Error)
    expect(classified.code).toBe('upstream.server_error')
    expectNoKey(classified)
  })
})

describe('keyguardErrorBehind', () => {
  it('keeps the key out of the answer to an unreachable upstream, through openai-node', async () => {
    const unreachable = async (): Promise<Response> => {
      throw new TypeError(`fetch failed (Authorization: Bearer ${canaryKey})`)
    }
    const guard = createKeyguard({
      key: canaryKey,
      upstream: { fetch: unreachable },
      logger: { warn() {}, error() {} },
    })
    const client = new OpenAI({ apiKey: 'unused', fetch: guard.fetch, maxRetries: 0 })
    const error = await client.models.list().then(
      () => expect.fail('the call succeeded'),
      (caught: unknown) => caught,
    )
    const behind = keyguardErrorBehind(error)
    expect(behind?.code).toBe('upstream.connection')
    if (behind) expectNoKey(behind)
  })
})
