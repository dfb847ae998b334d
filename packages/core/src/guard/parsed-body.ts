import { sharedWeakMap } from '../brand/shared-weak-map'

// Keyed by the caller's RequestInit, like a fixed price: set in code, never by a header or a body.
// Shared by every copy of keyguard in the process (a proxy built on one copy, a guard from another).
const parsedBodies = /* @__PURE__ */ sharedWeakMap<object, { text: string; json: Record<string, unknown> }>(
  'parsed-bodies',
)

/**
 * Hand a guarded call the JSON object its string body was already parsed into (the OpenAI proxy
 * parses a body to check it before guarding it), so the guard parses the body no second time. Only
 * a string body is recognised, and only while the call's body is still that string.
 *
 * @example
 * ```ts
 * await guard.fetch(url, withParsedBody({ method: 'POST', body: text }, JSON.parse(text)))
 * ```
 */
export function withParsedBody<T extends RequestInit>(init: T, json: Record<string, unknown>): T {
  // Only a text body is compared when read; any other body is parsed by the guard as before.
  if (typeof init.body === 'string') parsedBodies.set(init, { text: init.body, json })
  return init
}

/**
 * The object a call's body was parsed into by {@link withParsedBody}, if its body is still that text.
 *
 * @example
 * ```ts
 * const json = parsedBodyOf(init, body) ?? (await parseJson(body))
 * ```
 */
export function parsedBodyOf(
  init: RequestInit | undefined,
  body: string,
): Record<string, unknown> | undefined {
  const parsed = init === undefined ? undefined : parsedBodies.get(init)
  return parsed !== undefined && parsed.text === body ? parsed.json : undefined
}
