import { describeAdapterConformance } from '@keyguard/testing/conformance'
import { Hono } from 'hono'
import { stream } from 'hono/streaming'
import OpenAI from 'openai'
import { keyguardErrorHandler } from './error-handler'
import { keyguard } from './keyguard'
import { openaiProxy } from './openai-proxy'

describeAdapterConformance('hono', ({ guard, keys, maxBodyBytes, bodyReader, cookies = [] }) => {
  const app = new Hono()
  app.use('/v1/*', async (c, next) => {
    for (const cookie of cookies) c.header('set-cookie', cookie, { append: true })
    await next()
  })
  // What a validator or a logging middleware does before the proxy: read the body through c.req.
  if (bodyReader)
    app.use('/v1/*', async (c, next) => {
      const read = {
        json: () => c.req.json(),
        bytes: () => c.req.arrayBuffer(),
        text: () => c.req.text(),
        form: () => c.req.parseBody(),
      }
      await read[bodyReader]().catch(() => undefined)
      await next()
    })
  app.all(
    '/v1/*',
    openaiProxy({ guard, keys, maxBodyBytes, costHeaders: true, ignoreWarnings: ['no-wait-until'] }),
  )
  const tenantOf = (tenant: string | undefined) => (tenant ? { tenant } : undefined)
  app.use(
    '/chat',
    keyguard({
      guard,
      scope: (c) => tenantOf(c.req.header('x-tenant')),
      costHeaders: true,
      ignoreWarnings: ['no-wait-until'],
    }),
  )
  app.post('/chat', async (c) => {
    const body = await c.req.json<{ model?: string; message?: string; stream?: boolean }>()
    const openai = new OpenAI({ apiKey: 'unused', fetch: c.get('keyguard').fetch, maxRetries: 0 })
    const request = {
      model: body.model ?? 'gpt-4o-mini',
      messages: [{ role: 'user' as const, content: body.message ?? 'hi' }],
    }
    if (!body.stream) {
      const completion = await openai.chat.completions.create(request)
      return c.json({ reply: completion.choices[0]?.message.content })
    }
    const chunks = await openai.chat.completions.create({ ...request, stream: true })
    c.header('content-type', 'text/plain')
    return stream(c, async (out) => {
      for await (const chunk of chunks) await out.write(chunk.choices[0]?.delta.content ?? '')
    })
  })
  app.onError(keyguardErrorHandler())
  return { fetch: async (path, init) => app.request(path, init) }
})
