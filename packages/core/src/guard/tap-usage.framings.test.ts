import { createParser } from 'eventsource-parser'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { costOfUsage } from '../estimate/cost-of-usage'
import { memoryStore } from '../limits/memory-store'
import { spendLimit } from '../limits/spend-limit'
import { createKeyguard } from './create-keyguard'
import type { SettleEvent } from './keyguard-events'
import { type TappedUsage, tapUsage } from './tap-usage'

// The SSE standard lets a server end lines with LF, CRLF or a bare CR, split one event's data over
// several `data:` lines (joined with LF), add comments and other fields, and start with a BOM. The
// oracle is `eventsource-parser`; the tap must read the same usage from every framing and chunking.

const model = 'gpt-4o-mini'
type Api = 'chat' | 'responses'

// JSON written token by token, with any JSON whitespace but CR (a CR would end the SSE line) between.
type Json = null | number | string | Json[] | { [key: string]: Json }
function writeJson(value: Json, gap: () => string): string {
  if (Array.isArray(value))
    return `[${gap()}${value.map((item) => writeJson(item, gap)).join(`${gap()},${gap()}`)}${gap()}]`
  if (value !== null && typeof value === 'object')
    return `{${gap()}${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}${gap()}:${gap()}${writeJson(item, gap)}`)
      .join(`${gap()},${gap()}`)}${gap()}}`
  return JSON.stringify(value)
}

const usageOf = (api: Api, input: number, output: number): Json =>
  api === 'chat'
    ? { prompt_tokens: input, completion_tokens: output, total_tokens: input + output }
    : { input_tokens: input, output_tokens: output, total_tokens: input + output }
const deltaEvent = (api: Api, text: string): Json =>
  api === 'chat'
    ? { id: 'c1', choices: [{ index: 0, delta: { content: text } }], usage: null }
    : { type: 'response.output_text.delta', delta: text }
const usageEvent = (api: Api, usage: Json): Json =>
  api === 'chat'
    ? { id: 'c1', choices: [], usage }
    : { type: 'response.completed', response: { id: 'r1', usage } }

const lineEnding = fc.constantFrom('\n', '\r\n', '\r')
const extraLine = fc.constantFrom(': keep-alive', ':', 'event: message', 'id: 7', 'retry: 1000', 'note: x')
const gaps = fc.array(fc.constantFrom('', '', '', ' ', '\n', '\t', '\n\n'), { minLength: 64, maxLength: 64 })

/** One stream's framing: how each event is written, and how the bytes arrive. */
const framing = fc.record({
  api: fc.constantFrom<Api>('chat', 'responses'),
  deltas: fc.array(fc.constantFrom('Hel', 'lo', ' é', '🙂', 'a "usage": {'), { maxLength: 4 }),
  input: fc.integer({ min: 0, max: 100_000 }),
  output: fc.integer({ min: 0, max: 100_000 }),
  bom: fc.boolean(),
  endings: fc.array(lineEnding, { minLength: 1, maxLength: 4 }),
  gaps,
  spaceAfterColon: fc.array(fc.constantFrom('', ' ', '  '), { minLength: 1, maxLength: 3 }),
  // `data` with no colon is a data field with an empty value.
  bareData: fc.boolean(),
  extras: fc.array(fc.option(extraLine, { nil: undefined }), { minLength: 1, maxLength: 5 }),
  done: fc.boolean(),
  // Whether the body ends with the blank line after its last event, with only its line ending, or neither.
  tail: fc.constantFrom('blank', 'line', 'none'),
  cuts: fc.array(fc.integer({ min: 0, max: 4000 }), { maxLength: 12 }),
})

type Framing = typeof framing extends fc.Arbitrary<infer T> ? T : never

function write(frame: Framing): { text: string; chunks: Uint8Array[] } {
  let gapAt = 0
  let endingAt = 0
  let spaceAt = 0
  let extraAt = 0
  const gap = () => frame.gaps[gapAt++ % frame.gaps.length] as string
  let last = ''
  // A CR then an LF would be one CRLF: after a CR, an LF ending is written as CRLF.
  const ending = () => {
    const next = frame.endings[endingAt++ % frame.endings.length] as string
    last = last === '\r' && next === '\n' ? '\r\n' : next
    return last
  }
  const dataLine = (text: string) =>
    text === '' && frame.bareData
      ? 'data'
      : `data:${frame.spaceAfterColon[spaceAt++ % frame.spaceAfterColon.length]}${text}`
  const events: string[] = [
    ...frame.deltas.map((text) => writeJson(deltaEvent(frame.api, text), gap)),
    writeJson(usageEvent(frame.api, usageOf(frame.api, frame.input, frame.output)), gap),
    ...(frame.done && frame.api === 'chat' ? ['[DONE]'] : []),
  ]
  let text = frame.bom ? '\uFEFF' : ''
  events.forEach((data, index) => {
    const extra = frame.extras[extraAt++ % frame.extras.length]
    if (extra !== undefined) text += extra + ending()
    for (const line of data.split('\n')) text += dataLine(line) + ending()
    if (index < events.length - 1 || frame.tail === 'blank') text += ending()
  })
  if (frame.tail === 'none') text = text.replace(/(\r\n|\r|\n)$/, '')
  const bytes = new TextEncoder().encode(text)
  const cuts = [...new Set(frame.cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let start = 0
  for (const cut of [...cuts, bytes.length]) {
    if (cut > start) chunks.push(bytes.slice(start, cut))
    start = cut
  }
  return { text, chunks }
}

/** The usage `eventsource-parser` finds: the last event whose data is JSON with a usage object. */
function oracleUsage(text: string): unknown {
  let usage: unknown
  const parser = createParser({
    onEvent({ data }) {
      let event: { usage?: unknown; response?: { usage?: unknown } }
      try {
        event = JSON.parse(data)
      } catch {
        return
      }
      const found = event.usage ?? event.response?.usage
      if (found && typeof found === 'object') usage = found
    },
  })
  // A body cut off before its last blank line: keyguard still reads that last event (it was billed).
  parser.feed(`${text}\n\n`)
  return usage
}

function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk.slice())
      controller.close()
    },
  })
}

async function tap(chunks: readonly Uint8Array[], options: { dropUsageChunk?: boolean } = {}) {
  let tapped: TappedUsage | undefined
  const out = new Uint8Array(
    await new Response(
      tapUsage(streamOf(chunks), 'sse', (result) => (tapped = result), options),
    ).arrayBuffer(),
  )
  return { out, tapped: tapped as TappedUsage }
}

/** What a guard charged for one stream call whose upstream answered with `chunks`. */
async function charged(api: Api, chunks: readonly Uint8Array[]): Promise<SettleEvent> {
  const guard = createKeyguard({
    key: `sk-proj-${'F4aming5'.repeat(5)}T3stW8q8A`,
    upstream: {
      fetch: async () => new Response(streamOf(chunks), { headers: { 'content-type': 'text/event-stream' } }),
    },
    store: memoryStore(),
    limits: [spendLimit({ scope: 'global', limit: 1_000_000_000, period: 'day' })],
    output: { default: { maxTokens: 100_000 } },
  })
  const settled = new Promise<SettleEvent>((resolve) => guard.on('settle', resolve))
  const body =
    api === 'chat'
      ? { model, messages: [{ role: 'user', content: 'hi' }], stream: true, service_tier: 'default' }
      : { model, input: 'hi', stream: true, service_tier: 'default' }
  const response = await guard.fetch(
    `https://api.openai.com/v1/${api === 'chat' ? 'chat/completions' : 'responses'}`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  )
  await response.arrayBuffer()
  return settled
}

/** What `usage` costs at the tier the guard priced the call at. */
const priced = (settle: SettleEvent, usage: unknown) =>
  costOfUsage(model, usage as never, { serviceTier: settle.estimate?.serviceTier ?? null }).totalNanos

describe('tapUsage over every SSE framing', () => {
  it('reads the usage eventsource-parser reads, whatever the line endings, data lines, fields and chunks', async () => {
    await fc.assert(
      fc.asyncProperty(framing, async (frame) => {
        const { text, chunks } = write(frame)
        const expected = oracleUsage(text)
        expect(expected).toBeDefined()
        expect((await tap(chunks)).tapped.usage).toEqual(expected)
      }),
      { numRuns: 300 },
    )
  })

  it('forwards every byte while it reads, and reads the same with the usage chunk dropped', async () => {
    await fc.assert(
      fc.asyncProperty(framing, async (frame) => {
        const { text, chunks } = write(frame)
        const whole = new TextEncoder().encode(text)
        const passed = await tap(chunks)
        expect(passed.out).toEqual(whole)
        const evented = await tap(chunks, { dropUsageChunk: true })
        expect(evented.tapped.usage).toEqual(oracleUsage(text))
        // What is forwarded is still one SSE stream: the oracle reads the same deltas in it.
        const datas = (bytes: Uint8Array) => {
          const seen: string[] = []
          createParser({ onEvent: ({ data }) => seen.push(data) }).feed(
            `${new TextDecoder().decode(bytes)}\n\n`,
          )
          return seen.filter((data) => !data.includes('"usage"') || !/"choices"\s*:\s*\[\s*\]/.test(data))
        }
        if (frame.api === 'responses') expect(evented.out).toEqual(whole)
        else expect(datas(evented.out).length).toBe(datas(whole).length)
      }),
      { numRuns: 150 },
    )
  })

  it('charges what the usage costs, whatever the framing', async () => {
    await fc.assert(
      fc.asyncProperty(framing, async (frame) => {
        const { text, chunks } = write(frame)
        const settle = await charged(frame.api, chunks)
        expect(settle.estimated).toBe(false)
        expect(settle.costNanos).toBe(priced(settle, oracleUsage(text)))
      }),
      { numRuns: 60 },
    )
  })

  it('charges the reported usage of a stream written with bare CRs and split data lines', async () => {
    const usage = '{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500}'
    const chunks = [
      'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}],\rdata: "usage":null}\r\r',
      `data: {"id":"c1","choices":[],\rdata: "usage":\rdata: ${usage}}\r\r`,
      'data: [DONE]\r\r',
    ].map((chunk) => new TextEncoder().encode(chunk))
    const settle = await charged('chat', chunks)
    expect(settle.estimated).toBe(false)
    expect(settle.costNanos).toBe(priced(settle, JSON.parse(usage)))
    expect(settle.costNanos).toBe(450_000)
  })
})
