import { textOf } from './compute-usage'
import type { Responders } from './create-responders'
import type { EndpointInput } from './endpoint-input'

/**
 * Answer `POST /v1/embeddings`: one deterministic vector per input (8 dimensions unless `dimensions`
 * says otherwise; base64 floats when `encoding_format` is `base64`).
 *
 * @example
 * ```ts
 * if (path === '/v1/embeddings') return handleEmbeddings(input, respond)
 * ```
 */
export function handleEmbeddings(input: EndpointInput, respond: Responders): Response {
  const { fields, model, counts } = input
  const inputs = Array.isArray(fields.input) ? fields.input : [fields.input]
  const dimensions = typeof fields.dimensions === 'number' ? fields.dimensions : 8
  const base64 = fields.encoding_format === 'base64'
  return respond.json(200, {
    object: 'list',
    data: inputs.map((item, index) => {
      const vector = Array.from({ length: dimensions }, (_, i) => vectorValue(textOf(item), i))
      return { object: 'embedding', index, embedding: base64 ? toBase64(vector) : vector }
    }),
    model,
    usage: { prompt_tokens: counts.prompt, total_tokens: counts.prompt },
  })
}

/** A deterministic value in [-1, 1) from the text and the dimension. */
function vectorValue(text: string, dimension: number): number {
  let hash = 2166136261 ^ dimension
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619)
  return ((hash >>> 0) % 2000) / 1000 - 1
}

function toBase64(vector: number[]): string {
  const bytes = new Uint8Array(new Float32Array(vector).buffer)
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}
