import { describe, expect, it } from 'vitest'
import { publishedImages, publishedRequests } from './__fixtures__/published-counts'
import { estimateRequest } from './estimate-request'
import { imageTokens } from './image-tokens'

describe('estimateRequest on published counts', () => {
  it.each(publishedRequests.map((request) => [request.model, request.promptTokens, request]))(
    '%s: %i prompt tokens',
    async (_model, promptTokens, request) => {
      const estimate = await estimateRequest('/v1/chat/completions', request.body)
      // Within 2% of what OpenAI reported; every published chat example is in fact counted to the token.
      expect(Math.abs((estimate?.inputTokens ?? 0) - promptTokens)).toBeLessThanOrEqual(promptTokens * 0.02)
      expect(estimate?.inputTokens).toBe(promptTokens)
      expect(estimate?.exact).toBe(true)
    },
  )
})

describe('imageTokens on published counts', () => {
  it.each(publishedImages.map((image) => [image.model, image.width, image.height, image.tokens, image]))(
    '%s %ix%i: %i tokens',
    (_model, _width, _height, tokens, image) => {
      const estimate = imageTokens(image.model, image.detail, image)
      if (image.kind === 'count') {
        expect(Math.abs(estimate.tokens - tokens)).toBeLessThanOrEqual(tokens * 0.02)
        expect(estimate.exact).toBe(true)
      } else {
        expect(estimate.tokens).toBeGreaterThanOrEqual(tokens)
        expect(estimate.exact).toBe(false)
      }
    },
  )
})
