// hono-with-vs-without: a chat route with keyguard() over the same route without it, each app in its
// own process sharing one OpenAI client across requests (apps/chat-app.mjs), both in front of one mock
// upstream in its own process; autocannon here is the load generator, 16 clients.
import autocannon from 'autocannon'
import { report } from '../../../scripts/bench-kit.mjs'
import { reportAppWithVsWithout } from '../../../scripts/bench-processes.mjs'

await reportAppWithVsWithout(
  'hono-with-vs-without',
  'Hono',
  new URL('./apps/chat-app.mjs', import.meta.url).pathname,
  {
    autocannon,
    report,
  },
)
