import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type TappedUsage, tapUsage } from './tap-usage'

const encoder = new TextEncoder()

function streamOf(chunks: readonly string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
      controller.close()
    },
  })
}

async function run(format: 'json' | 'sse' | 'pass', chunks: readonly string[]) {
  let tapped: TappedUsage | undefined
  let calls = 0
  const out = await new Response(
    tapUsage(streamOf(chunks), format, (result) => {
      tapped = result
      calls++
    }),
  ).text()
  return { out, tapped: tapped as TappedUsage, calls }
}

const chatStream = [
  'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hel"}}],"usage":null}\n\n',
  'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"lo"}}],"usage":null}\n\n',
  'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}\n\n',
  'data: [DONE]\n\n',
]

describe('tapUsage', () => {
  it('passes an SSE stream through unchanged and reads the final usage chunk', async () => {
    const { out, tapped, calls } = await run('sse', chatStream)
    expect(out).toBe(chatStream.join(''))
    expect(tapped.usage).toEqual({ prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 })
    expect(tapped.deltas).toBe(2)
    expect(tapped.ending).toBe('complete')
    expect(calls).toBe(1)
  })

  it('reads a usage object written with spaces, and counts only delta events that carry no usage', async () => {
    const stream = [
      'event: message\n',
      'data: {"type":"response.output_text.delta","delta":"a \\"usage\\": {"}\n\n',
      'data: {"type":"response.created","response":{"usage":null}}\n\n',
      'data:  {"type":"response.completed","response":{"usage" : {"input_tokens":3,"output_tokens":1}}}  \r\n\n',
    ]
    const { out, tapped } = await run('sse', stream)
    expect(out).toBe(stream.join(''))
    expect(tapped.usage).toEqual({ input_tokens: 3, output_tokens: 1 })
    expect(tapped.deltas).toBe(1)
    expect(tapped.ending).toBe('complete')
  })

  it('counts delta events exactly as a string search would, whatever the bytes around the keys', async () => {
    // The reference: the string rules, on decoded text (a usage object, else "delta", per data line).
    const usageObject = /"usage" *: *\{/
    const piece = fc.constantFrom(
      '"usage"',
      '"delta"',
      '"error"',
      ':',
      '{',
      ' ',
      '"',
      'x',
      '\\"',
      'é',
      'null',
    )
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(piece, { maxLength: 12 }), { maxLength: 6 }), async (events) => {
        const lines = events.map((parts) => `data: ${parts.join('')}\n\n`)
        const { tapped } = await run('sse', lines)
        const expected = events
          .map((parts) => parts.join('').trim())
          .filter((data) => !usageObject.test(data) && data.includes('"delta"')).length
        expect(tapped.deltas).toBe(expected)
      }),
      { numRuns: 300 },
    )
  })

  it('reads usage split across chunk boundaries, even inside a multi-byte character', async () => {
    const whole = `data: {"choices":[{"delta":{"content":"é€"}}]}\r\n\r\n${chatStream[2]}data: [DONE]\n\n`
    const bytes = encoder.encode(whole)
    const chunks: Uint8Array[] = []
    for (let index = 0; index < bytes.length; index += 3) chunks.push(bytes.slice(index, index + 3))
    let tapped: TappedUsage | undefined
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk)
        controller.close()
      },
    })
    const out = await new Response(tapUsage(stream, 'sse', (result) => (tapped = result))).text()
    expect(out).toBe(whole)
    expect(tapped?.usage).toEqual({ prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 })
    expect(tapped?.deltas).toBe(1)
  })

  it('reads usage and service tier from the responses API response.completed event', async () => {
    const { tapped } = await run('sse', [
      'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"Hi"}\n\n',
      'event: response.completed\ndata: {"type":"response.completed","response":{"id":"r1","service_tier":"flex","usage":{"input_tokens":5,"output_tokens":1,"total_tokens":6}}}\n\n',
    ])
    expect(tapped.usage).toEqual({ input_tokens: 5, output_tokens: 1, total_tokens: 6 })
    expect(tapped.serviceTier).toBe('flex')
  })

  it('reads usage from a JSON body', async () => {
    const { tapped } = await run('json', [
      '{"id":"c1","usage":{"prompt_',
      'tokens":3,"completion_tokens":4,"total_tokens":7}}',
    ])
    expect(tapped.usage).toEqual({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 })
  })

  it('only reports the end of a body it is told to pass', async () => {
    const { out, tapped, calls } = await run('pass', ['{"usage":{"prompt_tokens":3}}'])
    expect(out).toBe('{"usage":{"prompt_tokens":3}}')
    expect(tapped).toMatchObject({ ending: 'complete', usage: undefined })
    expect(calls).toBe(1)
  })

  it('records a mid-stream error event', async () => {
    const { tapped } = await run('sse', [
      'data: {"error":{"message":"boom","type":"server_error","code":null}}\n\n',
    ])
    expect(tapped.streamError).toEqual({ error: { message: 'boom', type: 'server_error', code: null } })
    expect(tapped.usage).toBeUndefined()
  })

  it('reports a cancelled stream once, with the deltas seen so far', async () => {
    let tapped: TappedUsage | undefined
    let calls = 0
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(chatStream[0] as string))
        controller.enqueue(encoder.encode(chatStream[1] as string))
      },
    })
    const reader = tapUsage(source, 'sse', (result) => {
      tapped = result
      calls++
    }).getReader()
    await reader.read()
    await reader.read()
    await reader.cancel()
    expect(calls).toBe(1)
    expect(tapped?.ending).toBe('cancelled')
    expect(tapped?.deltas).toBe(2)
  })

  it('reports a source that fails as errored', async () => {
    let tapped: TappedUsage | undefined
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(chatStream[0] as string))
      },
      pull(controller) {
        controller.error(new TypeError('terminated'))
      },
    })
    await expect(new Response(tapUsage(source, 'sse', (result) => (tapped = result))).text()).rejects.toThrow(
      'terminated',
    )
    expect(tapped?.ending).toBe('errored')
    expect(tapped?.deltas).toBe(1)
  })
})
