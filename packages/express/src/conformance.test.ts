import { describeAdapterConformance } from '@keyguard/testing/conformance'
import express5 from 'express'
import express4 from 'express4'
import OpenAI from 'openai'
import { listen } from './__fixtures__/listen'
import { keyguardErrorHandler } from './error-handler'
import { getKeyguard, keyguard } from './keyguard'
import { openaiProxy } from './openai-proxy'

for (const [name, express] of [
  ['express 5', express5],
  ['express 4', express4 as unknown as typeof express5],
] as const) {
  describeAdapterConformance(name, async ({ guard, keys, maxBodyBytes, bodyReader, cookies = [] }) => {
    const app = express()
    app.use('/v1', (_req, res, next) => {
      for (const cookie of cookies) res.append('set-cookie', cookie)
      next()
    })
    const anyType = () => true
    const readers = {
      json: express.json({ type: anyType }),
      bytes: express.raw({ type: anyType }),
      text: express.text({ type: anyType }),
      form: express.urlencoded({ extended: true }),
    }
    const reader = bodyReader ? [readers[bodyReader]] : []
    app.use('/v1', ...reader, openaiProxy({ guard, keys, maxBodyBytes, costHeaders: true }))
    app.use(express.json())
    app.use(
      keyguard({
        guard,
        scope: (req) => (req.get('x-tenant') ? { tenant: req.get('x-tenant') } : undefined),
        costHeaders: true,
      }),
    )
    app.post('/chat', async (req, res, next) => {
      try {
        const openai = new OpenAI({ apiKey: 'unused', fetch: getKeyguard(req).fetch, maxRetries: 0 })
        const request = {
          model: req.body.model ?? 'gpt-4o-mini',
          messages: [{ role: 'user' as const, content: req.body.message ?? 'hi' }],
        }
        if (!req.body.stream) {
          const completion = await openai.chat.completions.create(request)
          return void res.json({ reply: completion.choices[0]?.message.content })
        }
        const stream = await openai.chat.completions.create({ ...request, stream: true })
        res.type('text/plain')
        for await (const chunk of stream) res.write(chunk.choices[0]?.delta.content ?? '')
        res.end()
      } catch (error) {
        next(error) // Express 4 does not catch a rejected handler
      }
    })
    app.use(keyguardErrorHandler())
    const server = await listen(app)
    return { fetch: (path, init) => fetch(server.origin + path, init), close: server.close }
  })
}
