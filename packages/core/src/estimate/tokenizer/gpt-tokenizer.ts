// What `#tokenizer` resolves to by default: gpt-tokenizer, each vocabulary imported on first use. The
// only module of core that names gpt-tokenizer, so a build without it (see no-tokenizer.ts) drops it.
import type { EncodingLoader } from './encoding-loader'

export const loadEncoding: EncodingLoader = async (encoding) => {
  // Literal specifiers so bundlers split each vocabulary into its own lazily loaded chunk.
  const [{ GptEncoding }, ranks] = await Promise.all([
    import('gpt-tokenizer/GptEncoding'),
    encoding === 'cl100k_base'
      ? import('gpt-tokenizer/bpeRanks/cl100k_base')
      : import('gpt-tokenizer/bpeRanks/o200k_base'),
  ])
  // Our own instance, not the shared module's: its merge cache is a Map used as an LRU, and once full
  // (100k pieces, which one base64 blob fills) evicting from it stalls the event loop for 100+ ms at a
  // time. Whole-word vocabulary hits skip BPE anyway, so counting without the cache costs little.
  // The CommonJS build require()s the vocabulary in Node compatibility mode: its `default` is then the
  // whole CJS exports object, whose own `default` is the table.
  const loaded: unknown = ranks.default
  const table = (
    Array.isArray(loaded) ? loaded : (loaded as { default: unknown }).default
  ) as typeof ranks.default
  const api = GptEncoding.getEncodingApi(encoding, () => table)
  api.setMergeCacheSize(0)
  return api
}
