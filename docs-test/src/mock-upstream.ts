// Loaded with `node --import` before a runnable README block: the block runs as a reader runs it,
// with OPENAI_API_KEY set, but every call to api.openai.com is answered by the mock upstream,
// in-process. Any other host fails the block: a README example must not need the network.
import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'

const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
const networkFetch = globalThis.fetch
const loopback = new Set(['localhost', '127.0.0.1', '[::1]'])

process.env.OPENAI_API_KEY = exampleMockKey
globalThis.fetch = async function mockedFetch(input, init) {
  const request = new Request(input, init)
  const { hostname } = new URL(request.url)
  if (hostname === 'api.openai.com') return mock.fetch(request)
  if (loopback.has(hostname)) return networkFetch(request)
  throw new Error(
    `docs-test: a runnable block fetched ${request.url}; only api.openai.com (mocked) and loopback are allowed`,
  )
}
