// What `#tokenizer` resolves to under the `keyguard-no-tokenizer` export condition: no tokenizer at all,
// so a bundle (a Worker) leaves gpt-tokenizer's vocabularies out, and every count is the UTF-8 byte bound.
import type { EncodingLoader } from './encoding-loader'

export const loadEncoding: EncodingLoader = undefined
