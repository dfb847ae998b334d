import { describe, expect, it } from 'vitest'
import { bufferedResponse, takeBufferedBody } from './buffered-response'

const json = '{"id":"chatcmpl-1","usage":{"prompt_tokens":1}}'
const make = () =>
  bufferedResponse(new TextEncoder().encode(json), {
    status: 201,
    statusText: 'Created',
    headers: { 'content-type': 'application/json', 'x-one': '1' },
  })

describe('bufferedResponse', () => {
  it('is a Response with the status, headers and body it was given', async () => {
    const response = make()
    expect(response).toBeInstanceOf(Response)
    expect(response.status).toBe(201)
    expect(response.statusText).toBe('Created')
    expect(response.ok).toBe(true)
    expect(response.headers.get('x-one')).toBe('1')
    expect(response.bodyUsed).toBe(false)
    expect(await response.json()).toEqual(JSON.parse(json))
    expect(response.bodyUsed).toBe(true)
  })

  it('reads once, like any Response: a second read and a clone after it fail', async () => {
    const response = make()
    expect(await response.text()).toBe(json)
    await expect(response.arrayBuffer()).rejects.toThrow(TypeError)
    await expect(response.text()).rejects.toThrow(TypeError)
    expect(() => response.clone()).toThrow(TypeError)
    expect(takeBufferedBody(response)).toBeUndefined()
  })

  it('gives a readable stream as its body, and the body is used once read', async () => {
    const response = make()
    const body = response.body
    expect(body).toBeInstanceOf(ReadableStream)
    expect(response.body).toBe(body)
    expect(await new Response(body).text()).toBe(json)
    expect(response.bodyUsed).toBe(true)
    await expect(response.text()).rejects.toThrow(TypeError)
    expect(takeBufferedBody(response)).toBeUndefined()
  })

  it('a locked body cannot be read or cloned', async () => {
    const response = make()
    const reader = response.body?.getReader()
    expect(reader).toBeDefined()
    expect(() => response.clone()).toThrow(TypeError)
    await expect(response.text()).rejects.toThrow(TypeError)
  })

  it('clones into an independent copy', async () => {
    const response = make()
    const copy = response.clone()
    const bytes = new Uint8Array(await copy.arrayBuffer())
    bytes.fill(0)
    expect(copy.status).toBe(201)
    expect(copy.headers.get('content-type')).toBe('application/json')
    expect(await response.text()).toBe(json)
  })

  it('answers blob, bytes and a body read after the bytes were taken as used', async () => {
    const blob = await make().blob()
    expect(blob.type).toBe('application/json')
    expect(await blob.text()).toBe(json)
    const taken = make()
    expect(new TextDecoder().decode(takeBufferedBody(taken))).toBe(json)
    expect(taken.bodyUsed).toBe(true)
    expect(takeBufferedBody(taken)).toBeUndefined()
    await expect(taken.arrayBuffer()).rejects.toThrow(TypeError)
    expect(takeBufferedBody(new Response(json))).toBeUndefined()
  })
})
