import { loadKeys } from '@keyguard/node'
import { exampleUpstream } from '@keyguard/testing'
import { createApp } from './app'
import { openLedger } from './ledger'

// OPENAI_API_KEY from the environment, then ./.env, then OPENAI_API_KEY_FILE, as `keyguard doctor` reads
// it; every problem is thrown at once with the fix. No key: the mock upstream, which reports 150 output
// tokens an answer, so the tenant budget runs out after a few calls.
const { apiKey } = loadKeys({ required: false })
const upstream = exampleUpstream(apiKey?.secret.reveal(), { usage: { completionTokens: 150 } })
// DATABASE_URL set: every settled call is recorded in Postgres (GET /ledger); unset: no database at all.
const databaseUrl = process.env.DATABASE_URL
const ledger = databaseUrl ? await openLedger(databaseUrl) : undefined
const { app } = createApp({
  ...upstream.guardOptions,
  ...(ledger ? { ledger } : {}),
  // The hash of the demo virtual key kg-demo-acme-virtual-key: store hashes, hand out keys.
  virtualKeys: {
    'sha256:70a9dfe3fc0a888fe1b19a40ff3b39472c43416c859fc131cd96e456b6dc4c17': { tenant: 'acme' },
  },
})
const port = Number(process.env.PORT ?? 3000)
app.listen(port, () => {
  console.log(`keyguard Express example on http://localhost:${port}`)
  console.log(`upstream: ${upstream.description}`)
  console.log(
    ledger
      ? `ledger: Postgres at ${new URL(databaseUrl as string).host} (DATABASE_URL is set); GET /ledger`
      : 'ledger: off (set DATABASE_URL to record every call in Postgres)',
  )
})
