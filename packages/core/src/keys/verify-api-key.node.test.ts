import { createMockOpenAI, mockErrors } from '@keyguard/testing'
import { describe, expect, it } from 'vitest'
import { verifyApiKey } from './verify-api-key'

const key = 'sk-proj-CANARYnodehttp0123456789abcdefghijklmnWq8A'

describe('verifyApiKey', () => {
  it('checks a key against a real local HTTP server answering as OpenAI does', async () => {
    const mock = createMockOpenAI({ validKeys: ['sk-proj-the-good-one-0123456789'] })
    const server = await mock.listen()
    try {
      const good = await verifyApiKey('sk-proj-the-good-one-0123456789', { baseUrl: server.url })
      expect(good.status).toBe('ok')
      const bad = await verifyApiKey(key, { baseUrl: server.url })
      expect(bad.status).toBe('invalid')
      expect(bad.error?.message).toContain('Incorrect API key provided')
      expect(JSON.stringify(bad)).not.toContain('CANARY')
      mock.enqueue(mockErrors.insufficientQuota())
      expect((await verifyApiKey('sk-proj-the-good-one-0123456789', { baseUrl: server.url })).status).toBe(
        'no-quota',
      )
    } finally {
      await server.close()
    }
  })
})
