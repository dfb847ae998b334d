export type { FakeClock } from './clock/fake-clock'
export { fakeClock } from './clock/fake-clock'
export type {
  MockContext,
  MockOpenAI,
  MockOpenAIOptions,
  MockRateLimits,
  MockResponse,
  MockUsage,
  RecordedRequest,
} from './mock-openai/create-mock-openai'
export { createMockOpenAI } from './mock-openai/create-mock-openai'
export type { ExampleUpstream } from './mock-openai/example-upstream'
export { exampleMockKey, exampleUpstream } from './mock-openai/example-upstream'
export type { OpenAIErrorObject } from './mock-openai/mock-errors'
export { maskKeyLikeOpenAI, mockErrors } from './mock-openai/mock-errors'
