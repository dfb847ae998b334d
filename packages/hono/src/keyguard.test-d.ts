import type { Keyguard } from '@keyguard/core'
import { Hono } from 'hono'
import { expectTypeOf, test } from 'vitest'
import { keyguard } from './keyguard'

test("c.get('keyguard') is a typed Keyguard, with or without the middleware's generic", () => {
  const app = new Hono()
  app.use(keyguard({ guard: { key: 'sk-proj-example' } }))
  app.get('/', (c) => {
    expectTypeOf(c.get('keyguard')).toEqualTypeOf<Keyguard>()
    expectTypeOf(c.var.keyguard.fetch).toEqualTypeOf<typeof fetch>()
    return c.text('ok')
  })
})
