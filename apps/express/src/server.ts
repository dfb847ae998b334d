import { loadKeys } from '@keyguard/node'
import { exampleUpstream } from '@keyguard/testing'
import { createApp } from './app'

// OPENAI_API_KEY from the environment, then ./.env, then OPENAI_API_KEY_FILE, as `keyguard doctor` reads
// it; every problem is thrown at once with the fix. No key: the mock upstream, which reports 150 output
// tokens an answer, so the tenant budget runs out after a few calls.
const { apiKey } = loadKeys({ required: false })
const upstream = exampleUpstream(apiKey?.secret.reveal(), { usage: { completionTokens: 150 } })
const { app } = createApp({
  ...upstream.guardOptions,
  // The hash of the demo virtual key kg-demo-acme-virtual-key: store hashes, hand out keys.
  virtualKeys: {
    'sha256:70a9dfe3fc0a888fe1b19a40ff3b39472c43416c859fc131cd96e456b6dc4c17': { tenant: 'acme' },
  },
})
const port = Number(process.env.PORT ?? 3000)
app.listen(port, () => {
  console.log(`keyguard Express example on http://localhost:${port}`)
  console.log(`upstream: ${upstream.description}`)
})
