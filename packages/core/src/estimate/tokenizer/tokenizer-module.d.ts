// `#tokenizer` is resolved through package.json `imports` by whoever runs or bundles core: gpt-tokenizer.ts
// by default, no-tokenizer.ts under the `keyguard-no-tokenizer` condition. Typed once, here, for both,
// and not through tsconfig `paths`, which bundlers would follow inside this repository.
declare module '#tokenizer' {
  export const loadEncoding: import('./encoding-loader').EncodingLoader
}
