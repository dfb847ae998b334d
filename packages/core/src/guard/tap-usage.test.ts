import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Timers } from './idle-timer'
import { jsonUsage, readJsonBody, type StreamCut, type TappedUsage, tapUsage } from './tap-usage'

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

  describe('with a cut', () => {
    const budgetError = {
      message: 'The answer was cut short.',
      type: 'insufficient_quota',
      code: 'budget.hard_limit',
      param: null,
    }
    const chatDelta = (content: string) =>
      `data: {"id":"c1","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}],"usage":null}\n\n`
    const chatReply = (words: readonly string[]) => [
      'data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null}}],"usage":null}\n\n',
      ...words.map(chatDelta),
      'data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n',
      `data: {"id":"c1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":${words.length},"total_tokens":${9 + words.length}}}\n\n`,
      'data: [DONE]\n\n',
    ]
    const words = ['one', ' two', ' three', ' four', ' five', ' six']

    /** Streams `chunks` (strings, or bytes already cut) through a cut; records cancels and cuts. */
    async function runCut(
      chunks: readonly (string | Uint8Array)[],
      cut: Partial<StreamCut> & { maxOutputTokens: number },
    ) {
      let tapped: TappedUsage | undefined
      const cuts: number[] = []
      let cancelled = false
      let index = 0
      const source = new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks[index++]
          if (next === undefined) controller.close()
          else controller.enqueue(typeof next === 'string' ? encoder.encode(next) : next)
        },
        cancel() {
          cancelled = true
        },
      })
      const out = await new Response(
        tapUsage(source, 'sse', (result) => (tapped = result), {
          cut: {
            api: 'chat',
            count: undefined,
            onCut: (tokens) => {
              cuts.push(tokens)
              return budgetError
            },
            ...cut,
          },
        }),
      ).text()
      return { out, tapped: tapped as TappedUsage, cuts, cancelled, pulled: index }
    }
    const cutTail = `data: ${JSON.stringify({ error: budgetError })}\n\ndata: [DONE]\n\n`

    it('ends a chat stream with an error event and [DONE] at the first delta past the bound, and cancels upstream', async () => {
      const stream = chatReply(words)
      const { out, tapped, cuts, cancelled } = await runCut(stream, { maxOutputTokens: 3 })
      // The role chunk carries no text; 'one two three' fit, ' four' is the fourth token: not sent.
      expect(out).toBe(stream.slice(0, 4).join('') + cutTail)
      expect(tapped).toMatchObject({ ending: 'cut', outputTokens: 4, usage: undefined })
      expect(cuts).toEqual([4])
      expect(cancelled).toBe(true)
    })

    it('passes a stream that fits its bound unchanged, usage and all', async () => {
      const stream = chatReply(words)
      const { out, tapped, cuts, cancelled } = await runCut(stream, { maxOutputTokens: words.length })
      expect(out).toBe(stream.join(''))
      expect(tapped).toMatchObject({ ending: 'complete', outputTokens: words.length })
      expect(tapped.usage).toMatchObject({ completion_tokens: words.length })
      expect(cuts).toEqual([])
      expect(cancelled).toBe(false)
    })

    it('counts each delta’s text with the counter when one is given', async () => {
      const stream = chatReply(['one two', ' three four', ' five'])
      const wordsIn = (text: string) => text.trim().split(/\s+/).length
      const { out, tapped } = await runCut(stream, { maxOutputTokens: 3, count: wordsIn })
      expect(out).toBe(stream.slice(0, 2).join('') + cutTail)
      expect(tapped.outputTokens).toBe(4)
    })

    it('counts tool-call arguments, refusals and every choice', async () => {
      const toolDelta =
        'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{\\"a\\""}}]}},{"index":1,"delta":{"refusal":"no"}}]}\n\n'
      const { tapped } = await runCut([toolDelta, 'data: [DONE]\n\n'], { maxOutputTokens: 10 })
      expect(tapped.outputTokens).toBe(3)
    })

    it('never forwards part of the event that passes the bound, however the bytes are chunked', async () => {
      const stream = chatReply(words).join('').replace(/\n\n/g, '\r\n\r\n')
      const expected = chatReply(words).slice(0, 3).join('').replace(/\n\n/g, '\r\n\r\n') + cutTail
      const bytes = encoder.encode(stream)
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 8 }),
          async (cuts) => {
            const points = [0, ...cuts.sort((a, b) => a - b), bytes.length]
            const chunks = points.slice(1).map((end, index) => bytes.slice(points[index], end))
            const { out, tapped } = await runCut(chunks, { maxOutputTokens: 2 })
            expect(out).toBe(expected)
            expect(tapped.ending).toBe('cut')
          },
        ),
        { numRuns: 200 },
      )
    })

    it('ends a responses stream with an error event numbered in sequence, dropping the whole event', async () => {
      const event = (type: string, sequence: number, fields: Record<string, unknown> = {}) =>
        `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence, ...fields })}\n\n`
      const stream = [
        event('response.created', 0, { response: { usage: null } }),
        event('response.output_text.delta', 1, { delta: 'one' }),
        event('response.audio.delta', 2, { delta: 'AAAAAAAA' }),
        event('response.output_text.delta', 3, { delta: ' two' }),
        event('response.output_text.delta', 4, { delta: ' three' }),
        event('response.completed', 5, { response: { usage: { input_tokens: 3, output_tokens: 3 } } }),
      ]
      const { out, tapped } = await runCut(stream, { maxOutputTokens: 2, api: 'responses' })
      expect(out).toBe(
        `${stream.slice(0, 4).join('')}event: error\ndata: ${JSON.stringify({ type: 'error', code: 'budget.hard_limit', message: budgetError.message, param: null, sequence_number: 4 })}\n\n`,
      )
      expect(tapped).toMatchObject({ ending: 'cut', outputTokens: 3 })
    })

    it('checks the last event even when the stream ends without a blank line', async () => {
      const { out, tapped } = await runCut([chatDelta('one'), chatDelta(' two').trimEnd()], {
        maxOutputTokens: 1,
      })
      expect(out).toBe(chatDelta('one') + cutTail)
      expect(tapped.ending).toBe('cut')
    })
  })

  describe('dropUsageChunk', () => {
    // As OpenAI streams without include_usage: no usage chunk, no `"usage":null` on the others.
    const withoutUsage = [chatStream[0], chatStream[1], chatStream[3]]
      .join('')
      .replaceAll(',"usage":null', '')

    it('reads the usage chunk and leaves it out of what is forwarded, [DONE] and all kept', async () => {
      let tapped: TappedUsage | undefined
      const out = await new Response(
        tapUsage(streamOf(chatStream), 'sse', (result) => (tapped = result), { dropUsageChunk: true }),
      ).text()
      expect(out).toBe(withoutUsage)
      expect(tapped).toMatchObject({
        ending: 'complete',
        deltas: 2,
        usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
      })
    })

    it('drops the usage chunk whatever the chunk boundaries', async () => {
      const bytes = encoder.encode(chatStream.join('').replaceAll('\n', '\r\n'))
      for (const size of [1, 2, 5, 17, 64]) {
        const chunks: string[] = []
        const text = new TextDecoder().decode(bytes)
        for (let index = 0; index < text.length; index += size) chunks.push(text.slice(index, index + size))
        let tapped: TappedUsage | undefined
        const out = await new Response(
          tapUsage(streamOf(chunks), 'sse', (result) => (tapped = result), { dropUsageChunk: true }),
        ).text()
        expect(out).toBe(withoutUsage.replaceAll('\n', '\r\n'))
        expect(tapped?.usage).toEqual({ prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 })
      }
    })

    it('removes a leading "usage":null with its comma', async () => {
      const stream = [
        'data: {"usage":null,"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n',
        'data: {"usage":null}\n\n',
      ]
      const out = await new Response(
        tapUsage(streamOf(stream), 'sse', () => {}, { dropUsageChunk: true }),
      ).text()
      expect(out).toBe('data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\ndata: {}\n\n')
    })

    it('keeps a usage chunk that carries choices, and responses events', async () => {
      const stream = [
        'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n',
        'event: response.completed\ndata: {"type":"response.completed","response":{"usage":{"input_tokens":3,"output_tokens":1}}}\n\n',
      ]
      const out = await new Response(
        tapUsage(streamOf(stream), 'sse', () => {}, { dropUsageChunk: true }),
      ).text()
      expect(out).toBe(stream.join(''))
    })
  })

  describe('abandonAfterMs', () => {
    /** Timers that fire only when the test says so. */
    function manualTimers() {
      let next = 0
      const pending = new Map<number, { callback: () => void; ms: number }>()
      const timers: Timers = {
        setTimeout: (callback, ms) => {
          pending.set(++next, { callback, ms })
          return next
        },
        clearTimeout: (handle) => pending.delete(handle as number),
      }
      const fire = () => {
        const due = [...pending.values()]
        pending.clear()
        for (const timer of due) timer.callback()
      }
      return { timers, pending, fire }
    }
    function source(chunks: readonly string[]) {
      let cancelled: unknown = 'not cancelled'
      let index = 0
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks[index++]
          if (next === undefined) controller.close()
          else controller.enqueue(encoder.encode(next))
        },
        cancel(reason) {
          cancelled = reason
        },
      })
      return { stream, cancelled: () => cancelled }
    }

    it.each([
      ['a plain stream', {}],
      ['a stream with its usage chunk dropped', { dropUsageChunk: true }],
    ])('ends %s nobody reads, cancels upstream and fails a later read', async (_, extra) => {
      const { timers, pending, fire } = manualTimers()
      const upstream = source(chatStream)
      let tapped: TappedUsage | undefined
      const body = tapUsage(upstream.stream, 'sse', (result) => (tapped = result), {
        abandonAfterMs: 60_000,
        timers,
        ...extra,
      })
      expect([...pending.values()].map((timer) => timer.ms)).toEqual([60_000])
      fire()
      expect(tapped).toMatchObject({ ending: 'abandoned', deltas: 0, usage: undefined })
      expect(upstream.cancelled()).toBeInstanceOf(Error)
      await expect(new Response(body).text()).rejects.toThrow(/not read for 60000 ms/)
    })

    it('restarts the wait on each read, and never abandons a read that waits on upstream', async () => {
      const { timers, pending, fire } = manualTimers()
      let release: () => void = () => {}
      const gate = new Promise<void>((resolve) => {
        release = resolve
      })
      let index = 0
      const upstream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (index === 1) await gate
          const next = chatStream[index++]
          if (next === undefined) controller.close()
          else controller.enqueue(encoder.encode(next))
        },
      })
      let tapped: TappedUsage | undefined
      const reader = tapUsage(upstream, 'sse', (result) => (tapped = result), {
        abandonAfterMs: 60_000,
        timers,
      }).getReader()
      await reader.read()
      const waiting = reader.read()
      // Let the stream call pull (a few microtasks later).
      for (let turn = 0; turn < 10; turn++) await Promise.resolve()
      // The reader asked and upstream is slow: the wait runs out, and nothing is abandoned.
      fire()
      expect(tapped).toBeUndefined()
      release()
      await waiting
      // Answered: the wait starts again.
      expect([...pending.values()].map((timer) => timer.ms)).toEqual([60_000])
      for (let result = await reader.read(); !result.done; result = await reader.read()) {}
      expect(pending.size).toBe(0)
      fire()
      expect(tapped?.ending).toBe('complete')
    })

    it('charges what a half-read stream counted: the deltas read before it was abandoned', async () => {
      const { timers, fire } = manualTimers()
      let tapped: TappedUsage | undefined
      const reader = tapUsage(streamOf(chatStream), 'sse', (result) => (tapped = result), {
        abandonAfterMs: 60_000,
        timers,
      }).getReader()
      await reader.read()
      fire()
      expect(tapped).toMatchObject({ ending: 'abandoned', deltas: 1 })
    })
  })
})

describe('readJsonBody', () => {
  it('reads the usage of a JSON body before anyone reads it, and hands the same bytes over', async () => {
    const text =
      '{"id":"c1","usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11},"service_tier":"default"}'
    let tapped: TappedUsage | undefined
    const body = await readJsonBody(new Response(streamOf([text.slice(0, 20), text.slice(20)])), (result) => {
      tapped = result
    })
    expect(tapped).toMatchObject({ ending: 'complete', serviceTier: 'default', usage: { total_tokens: 11 } })
    expect(await new Response(body).text()).toBe(text)
    expect(jsonUsage(encoder.encode('not json')).usage).toBeUndefined()
  })

  it('reports a body that failed, and fails the handed-over body the same way', async () => {
    const failing = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.error(new Error('socket hang up')),
    })
    let tapped: TappedUsage | undefined
    const body = await readJsonBody(new Response(failing), (result) => {
      tapped = result
    })
    expect(tapped?.ending).toBe('errored')
    await expect(new Response(body).text()).rejects.toThrow('socket hang up')
  })
})
