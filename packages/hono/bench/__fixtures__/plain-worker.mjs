// The baseline: the same Worker without keyguard (hono and openai-node only).
import { Hono } from 'hono'
import OpenAI from 'openai'

const app = new Hono()
app.post('/chat', async (c) => {
  const openai = new OpenAI({ apiKey: c.env.OPENAI_API_KEY, maxRetries: 0 })
  const completion = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Say hello in five words.' }],
    max_completion_tokens: 50,
  })
  return c.json({ reply: completion.choices[0]?.message.content })
})

export default app
