import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { audioTokenBound } from './audio-tokens'
import { estimateRequest } from './estimate-request'

const le32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255]
const le16 = (n: number) => [n & 255, (n >>> 8) & 255]
const ascii = (text: string) => [...text].map((char) => char.charCodeAt(0))

/** Base64 of a PCM WAV of this length: the header, then silence. */
function wav(seconds: number, sampleRate = 16_000, channels = 1): string {
  const byteRate = sampleRate * channels * 2
  const dataBytes = Math.round(seconds * byteRate)
  const fmt = [
    ...le16(1),
    ...le16(channels),
    ...le32(sampleRate),
    ...le32(byteRate),
    ...le16(channels * 2),
    ...le16(16),
  ]
  const head = [
    ...ascii('RIFF'),
    ...le32(36 + dataBytes),
    ...ascii('WAVE'),
    ...ascii('fmt '),
    ...le32(16),
    ...fmt,
    ...ascii('data'),
    ...le32(dataBytes),
  ]
  const bytes = new Uint8Array(head.length + dataBytes)
  bytes.set(head)
  let binary = ''
  for (let at = 0; at < bytes.length; at += 8192)
    binary += String.fromCharCode(...bytes.subarray(at, at + 8192))
  return btoa(binary)
}

describe('audioTokenBound', () => {
  it('bounds WAV audio from its byte rate, above the published 1 token per 100 ms of user audio', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 5, noNaN: true }),
        fc.constantFrom(8000, 16_000, 24_000, 44_100),
        fc.constantFrom(1, 2),
        (seconds, rate, channels) => {
          const bound = audioTokenBound(wav(seconds, rate, channels), 'wav') ?? 0
          return bound >= Math.ceil(seconds * 10) && bound <= Math.ceil(seconds * 20) + 5
        },
      ),
      { numRuns: 30 },
    )
  })

  it('bounds MP3 by its lowest bitrate and gives up on what it cannot read', () => {
    expect(audioTokenBound(btoa('x'.repeat(3000)), 'mp3')).toBe(3 * 20 + 4)
    expect(audioTokenBound('AAAA', 'wav')).toBeUndefined()
    expect(audioTokenBound(wav(1), 'flac')).toBeUndefined()
  })
})

describe('estimateRequest with input audio', () => {
  it('holds readable audio at its bound, priced at the audio input rate, not the whole window', async () => {
    const body = (data: string) => ({
      model: 'gpt-4o-audio-preview',
      messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data, format: 'wav' } }] }],
      max_tokens: 100,
      service_tier: 'default',
    })
    const estimate = await estimateRequest('/v1/chat/completions', body(wav(3)))
    const text = 3 + 1 + 3 // user message framing and reply priming
    // 3 s at 20 tokens a second, the 44 header bytes counted as audio (one more), 4 special tokens.
    expect(estimate).toMatchObject({ unseenInput: false, exact: false, inputTokens: text + 61 + 4 })
    const silent = await estimateRequest('/v1/chat/completions', { ...body(''), messages: [] })
    // $40 per 1M audio input tokens against $2.50 for text.
    expect((estimate?.maxCostNanos ?? 0) - (silent?.maxCostNanos ?? 0)).toBeGreaterThanOrEqual(65 * 40_000)
  })
})
