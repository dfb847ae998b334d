// The baseline: a bare Hono app that forwards each /v1/* call to BENCH_UPSTREAM with the real key,
// passing the body and the answer (streams included) through untouched. No keys, no limits.
import { serve } from '@hono/node-server'
import { exampleMockKey } from '@keyguard/testing'
import { Hono } from 'hono'

const upstream = process.env.BENCH_UPSTREAM
const app = new Hono()
app.all('/v1/*', async (c) => {
  const request = c.req.raw
  const answer = await fetch(`${upstream}${c.req.path.slice(3)}`, {
    method: request.method,
    headers: { authorization: `Bearer ${exampleMockKey}`, 'content-type': 'application/json' },
    body: request.body,
    duplex: 'half',
  })
  return new Response(answer.body, answer)
})
serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, ({ port }) =>
  process.stdout.write(`listening http://127.0.0.1:${port}/v1\n`),
)
// Exit cleanly on stop, so a --cpu-prof run writes its profile.
process.on('SIGTERM', () => process.exit(0))
