import { createMockOpenAI, mockErrors } from '@keyguard/testing'
import { describe, expect, it } from 'vitest'
import { Secret } from '../secrets/secret'
import { verifyApiKey } from './verify-api-key'

const key = 'sk-proj-CANARYverify0123456789abcdefghijklmnopWq8A'
const baseUrl = 'https://api.openai.com/v1'

describe('verifyApiKey', () => {
  it('reports ok with the rate limits and model count OpenAI answers with', async () => {
    const mock = createMockOpenAI({ models: ['gpt-4o', 'gpt-4o-mini'], rateLimits: { limitRequests: 500 } })
    const result = await verifyApiKey(key, {
      fetch: mock.fetch,
      baseUrl,
      project: 'proj_1',
      organization: 'org-1',
    })
    expect(result).toMatchObject({
      ok: true,
      status: 'ok',
      fingerprint: 'sk-proj…Wq8A',
      kind: 'project',
      modelCount: 2,
    })
    expect(result.rateLimits).toMatchObject({
      limitRequests: 500,
      remainingRequests: 499,
      resetRequestsMs: 6,
    })
    expect(mock.requests[0]).toMatchObject({ method: 'GET', path: '/v1/models', key })
    expect(mock.requests[0]?.headers).toMatchObject({
      'openai-project': 'proj_1',
      'openai-organization': 'org-1',
    })
  })

  const outcomes = [
    ['invalid', mockErrors.invalidKey(), 'auth.invalid_key'],
    ['mismatch', mockErrors.mismatchedProject(), 'auth.mismatched_project'],
    ['mismatch', mockErrors.noOrganization(), 'auth.no_organization'],
    ['region', mockErrors.regionUnsupported(), 'auth.region_unsupported'],
    ['ip', mockErrors.ipNotAllowed(), 'auth.ip_not_allowed'],
    ['no-quota', mockErrors.insufficientQuota(), 'quota.insufficient'],
    ['error', mockErrors.serverError(), 'upstream.server_error'],
  ] as const
  for (const [status, response, code] of outcomes) {
    it(`reports ${status} for ${code} without throwing`, async () => {
      const mock = createMockOpenAI()
      mock.enqueue(response)
      const result = await verifyApiKey(Secret.from(key), { fetch: mock.fetch, baseUrl })
      expect(result).toMatchObject({ ok: false, status })
      expect(result.error?.code).toBe(code)
      expect(result.error?.operatorHint.length).toBeGreaterThan(20)
      expect(JSON.stringify(result)).not.toContain('CANARY')
      expect(result.error?.message).not.toContain('CANARY')
    })
  }

  it('finds missing quota only with the one-token probe, since listing models needs no credits', async () => {
    const mock = createMockOpenAI()
    mock.enqueue({ ...mockErrors.insufficientQuota(), path: '/v1/embeddings' })
    expect((await verifyApiKey(key, { fetch: mock.fetch, baseUrl })).status).toBe('ok')
    const result = await verifyApiKey(key, { fetch: mock.fetch, baseUrl, checkQuota: true })
    expect(result.status).toBe('no-quota')
    expect(mock.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1/embeddings' })
  })

  it('reports an admin key as invalid for inference without calling OpenAI', async () => {
    const mock = createMockOpenAI()
    const result = await verifyApiKey('sk-admin-abcdefghijklmnopqrstuvwxyz0123', {
      fetch: mock.fetch,
      baseUrl,
    })
    expect(result).toMatchObject({ ok: false, status: 'invalid', kind: 'admin' })
    expect(result.error?.code).toBe('auth.admin_key_for_inference')
    expect(mock.requests).toHaveLength(0)
  })

  it('reports unreachable on a network failure and on a timeout', async () => {
    const failing = (async () => {
      throw new TypeError('fetch failed')
    }) as typeof fetch
    const down = await verifyApiKey(key, { fetch: failing, baseUrl })
    expect(down).toMatchObject({ ok: false, status: 'unreachable' })
    expect(down.error?.code).toBe('upstream.connection')

    const mock = createMockOpenAI({ latencyMs: 5_000 })
    const slow = await verifyApiKey(key, { fetch: mock.fetch, baseUrl, timeoutMs: 5 })
    expect(slow).toMatchObject({ ok: false, status: 'unreachable' })
    expect(slow.error?.code).toBe('upstream.timeout')
  })
})
