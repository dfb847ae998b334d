import { createMockOpenAI, type MockOpenAI, type MockOpenAIOptions } from './create-mock-openai'

/** Where an example app's OpenAI calls go. */
export interface ExampleUpstream {
  /**
   * Spread into `createKeyguard`: the key (the real one, or a well-formed fake that only the mock
   * accepts) and, with the mock, `upstream: { fetch }` to reach it.
   */
  guardOptions: { key: string; upstream?: { fetch: typeof fetch } }
  /** The mock, when there is no key. */
  mock: MockOpenAI | undefined
  /** One line for the app to print at start, so nobody mistakes the mock for OpenAI. */
  description: string
}

/** The fake project key the mock stands behind; shaped like a real one so keyguard's checks pass. */
export const exampleMockKey = 'sk-proj-keyguardMockUpstreamNotARealKey0000demo7Wq8A'

/**
 * For example apps and demos: OpenAI itself when a key is given, otherwise the mock upstream,
 * in-process, with a fake key, so the app runs on a fresh machine with no key and no network.
 *
 * @example
 * ```ts
 * const upstream = exampleUpstream(process.env.OPENAI_API_KEY)
 * console.log(`upstream: ${upstream.description}`)
 * const guard = createKeyguard({ ...upstream.guardOptions, limits })
 * ```
 */
export function exampleUpstream(key: string | undefined, options: MockOpenAIOptions = {}): ExampleUpstream {
  if (key) return { guardOptions: { key }, mock: undefined, description: 'OpenAI (OPENAI_API_KEY is set)' }
  const mock = createMockOpenAI({ validKeys: [exampleMockKey], ...options })
  return {
    guardOptions: { key: exampleMockKey, upstream: { fetch: mock.fetch } },
    mock,
    description:
      'the MOCK OpenAI upstream from @keyguard/testing, in-process (OPENAI_API_KEY is not set; no network)',
  }
}
