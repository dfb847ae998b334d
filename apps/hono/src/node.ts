import { serve } from '@hono/node-server'
import { loadKeys } from '@keyguard/node'
import { app } from './app'

// OPENAI_API_KEY from the environment, then ./.env, then OPENAI_API_KEY_FILE, as `keyguard doctor` reads
// it; every problem is thrown at once with the fix. On Node, Hono's env(c) is process.env: the checked
// key goes there. (Bun reads .env itself; Workers take `wrangler secret put`.)
const { apiKey } = loadKeys({ required: false })
if (apiKey !== undefined) process.env.OPENAI_API_KEY = apiKey.secret.reveal()

const port = Number(process.env.PORT ?? 3001)
serve({ fetch: app.fetch, port }, () => console.log(`keyguard Hono example on http://localhost:${port}`))
