// `c.get('keyguard')` is typed in every Hono app once @keyguard/hono is imported. This augmentation is
// one file that the ESM and the CJS type entries both reference, so a program that sees both (a
// TypeScript project with node16 resolution) still has one `keyguard` variable, not two that differ.
import type { Keyguard } from '@keyguard/core'

declare module 'hono' {
  interface ContextVariableMap {
    /** The guard scoped to this request by keyguard(); hand its `fetch` to `new OpenAI({ fetch })`. */
    keyguard: Keyguard
  }
}
