import * as z from 'zod/mini'

/** @internal Shared option schemas: names, scope kinds, what a missing scope means, and non-negative integer amounts. */
export const nameSchema = /* @__PURE__ */ (() => z.optional(z.string().check(z.minLength(1))))()
// The store keys a scope as `kind:id`: a kind with a colon (`tenant:eu`) could share a key with another kind's id.
export const scopeSchema = /* @__PURE__ */ (() =>
  z.string().check(
    z.minLength(1),
    z.regex(/^[^\s:]*$/, {
      message: 'must be a scope kind without a colon or whitespace (stores key it as kind:id)',
    }),
  ))()
export const countSchema = /* @__PURE__ */ (() =>
  z.int().check(z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER)))()
export const positiveSchema = /* @__PURE__ */ (() =>
  z.int().check(z.minimum(1), z.maximum(Number.MAX_SAFE_INTEGER)))()
export const whenMissingSchema = /* @__PURE__ */ (() =>
  z.optional(
    z.union([
      z.enum(['refuse', 'skip']),
      z.strictObject({ id: z.string().check(z.minLength(1, { message: 'must be a non-empty scope id' })) }),
    ]),
  ))()
