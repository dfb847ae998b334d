import { describe, expect, it } from 'vitest'
import { matchProxyRoute } from './proxy-routes'

const pathOf = (method: string, url: string) =>
  matchProxyRoute(method, new URL(url, 'http://app.test').pathname, [])

describe('matchProxyRoute', () => {
  it('serves priced endpoints, model reads and stored objects by their canonical path', () => {
    expect(pathOf('POST', '/api/openai/v1/chat/completions')).toEqual({
      kind: 'priced',
      path: '/v1/chat/completions',
    })
    expect(pathOf('POST', '/v1/responses')).toMatchObject({ kind: 'priced' })
    expect(pathOf('POST', '/v1/embeddings')).toMatchObject({ kind: 'priced' })
    expect(pathOf('GET', '/v1/models')).toMatchObject({ kind: 'free' })
    expect(pathOf('GET', '/v1/models/ft:gpt-4o-mini:acme::abc123')).toMatchObject({ kind: 'free' })
    expect(pathOf('GET', '/v1/responses/resp_abc')).toMatchObject({
      kind: 'owned',
      object: 'response',
      id: 'resp_abc',
    })
    expect(pathOf('DELETE', '/v1/responses/resp_abc')).toMatchObject({ kind: 'owned', id: 'resp_abc' })
    expect(pathOf('GET', '/v1/responses/resp_abc/input_items?limit=5')).toMatchObject({
      kind: 'owned',
      id: 'resp_abc',
    })
    expect(pathOf('GET', '/v1/chat/completions/chatcmpl-1/messages')).toMatchObject({
      kind: 'owned',
      object: 'chat.completion',
      id: 'chatcmpl-1',
    })
  })

  it('reads doubled slashes and one trailing slash as the canonical path', () => {
    expect(pathOf('POST', '/v1//chat//completions/')).toEqual({
      kind: 'priced',
      path: '/v1/chat/completions',
    })
  })

  it('refuses every endpoint keyguard does not price, whatever the spelling', () => {
    const refused: [string, string][] = [
      ['POST', '/v1/completions'],
      ['POST', '/v1/images/generations'],
      ['POST', '/v1/audio/speech'],
      ['POST', '/v1/videos'],
      ['POST', '/v1/batches'],
      ['POST', '/v1/fine_tuning/jobs'],
      ['POST', '/v1/responses/compact'],
      ['POST', '/v1/responses/resp_abc/cancel'],
      ['GET', '/v1/files'],
      ['GET', '/v1/files/file-1/content'],
      ['DELETE', '/v1/files/file-1'],
      ['GET', '/v1/chat/completions'],
      ['GET', '/v1/responses'],
      ['GET', '/v1/vector_stores'],
      ['PUT', '/v1/chat/completions'],
      ['HEAD', '/v1/models'],
      ['post', '/v1/chat/completions'],
      ['POST', '/v1/images%2Fgenerations'],
      ['POST', '/v1/chat%2Fcompletions'],
      ['POST', '/v1/chat/completions%2F'],
      ['POST', '/v1/responses%2fcompact'],
      ['POST', '/V1/chat/completions'],
      ['POST', '/v1/Chat/Completions'],
      ['POST', '/v1/chat/completions/../../images/generations'],
      ['POST', '/v1/responses/resp_1/../compact'],
      ['POST', '/v1/%2e%2e/v1/images/generations'],
      ['POST', '/v1/files/v1/chat/completions'],
      ['POST', '/v1/chat/completions;/images'],
      ['GET', '/v1/responses/resp_1%2F..%2F..%2Ffiles'],
      ['GET', '/v1/models/../files'],
      ['POST', '/chat/completions'],
      ['POST', '/v1'],
    ]
    for (const [method, path] of refused)
      expect(() => pathOf(method, path), `${method} ${path}`).toThrow(
        expect.objectContaining({ code: 'proxy.endpoint_not_allowed', clientStatus: 404 }),
      )
  })

  it('serves an opted-in endpoint only by its exact method and path', () => {
    const images = {
      method: 'POST' as const,
      path: '/v1/images/generations',
      price: () => ({ costNanos: 1 }),
    }
    expect(matchProxyRoute('POST', '/v1/images/generations', [images])).toMatchObject({ kind: 'allowed' })
    expect(matchProxyRoute('POST', '/x/v1/images/generations/', [images])).toMatchObject({ kind: 'allowed' })
    expect(() => matchProxyRoute('GET', '/v1/images/generations', [images])).toThrow(/not an endpoint/)
    expect(() => matchProxyRoute('POST', '/v1/images/edits', [images])).toThrow(/not an endpoint/)
  })
})
