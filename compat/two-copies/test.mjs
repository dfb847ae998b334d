// The ESM and CommonJS builds of @keyguard/core in one process, as an app gets them when one of its
// dependencies `require`s keyguard and another `import`s it: each copy accepts what the other made.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import * as esm from '@keyguard/core'
import { createMockOpenAI } from '@keyguard/testing'

const cjs = createRequire(import.meta.url)('@keyguard/core')
if (process.env.KEYGUARD_COMPAT_NODE) assert.equal(process.version, process.env.KEYGUARD_COMPAT_NODE)
assert.notEqual(esm.Secret, cjs.Secret, 'two copies are loaded')

const key = 'sk-proj-TwoCopiesCompatKey0123456789abcdefghijklmnopqrs'
const secret = esm.Secret.from(key, 'OPENAI_API_KEY')
assert.ok(cjs.Secret.isSecret(secret), 'a Secret from the ESM copy is a Secret to the CJS copy')
assert.equal(cjs.parseApiKey(secret).secret.reveal(), key)

const mock = createMockOpenAI({ validKeys: [key] })
const guard = cjs.createKeyguard({ key: secret, upstream: { fetch: mock.fetch } })
const response = await guard.fetch('https://api.openai.com/v1/chat/completions', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
})
await response.text()
const result = esm.keyguardResult(response)
assert.ok(result, 'the ESM copy finds the result of a call the CJS copy guarded')
assert.equal((await result.settled).estimated, false)
assert.ok(esm.isKeyguardError(new cjs.KeyguardError({ code: 'budget.hard_limit', message: 'x' })))
console.log(`ok two copies (ESM + CJS) recognise each other (node=${process.version})`)
