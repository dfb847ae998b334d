import type { TokenizerEncoding } from '../../pricing/define-prices'

/** What core needs of a BPE encoding: a count of plain text. */
export type Encoder = {
  countTokens: (
    text: string,
    options?: { disallowedSpecial?: Set<string>; allowedSpecial?: Set<string> },
  ) => number
}

/**
 * Loads one vocabulary, or `undefined` when this build ships no tokenizer (the `keyguard-no-tokenizer`
 * condition). Each module behind `#tokenizer` exports one as `loadEncoding`.
 */
export type EncodingLoader = ((encoding: TokenizerEncoding) => Promise<Encoder>) | undefined
