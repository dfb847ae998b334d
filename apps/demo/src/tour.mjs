// The keyguard tour. It shows only what keyguard does today; each issue that lands adds its stop.
import { errorCodeTable, KeyguardError, toProblemJson } from '@keyguard/core'

const quiet = process.argv.includes('--quiet')
const say = (text = '') => quiet || console.log(text)

say('keyguard tour (no key, no network)\n')
say('1. Every failure is a typed KeyguardError with an answer for your client and a hint for you:')
for (const [code, message] of [
  ['budget.hard_limit', 'tenant acme spent $10.00 of $10.00 this month'],
  ['quota.insufficient', 'OpenAI: the project has no credits; add billing'],
  ['rate.upstream', 'OpenAI rate limit on key default: 500 RPM'],
]) {
  const error = new KeyguardError({
    code,
    message,
    retryAfterMs: code === 'rate.upstream' ? 1200 : undefined,
  })
  const body = toProblemJson(error)
  say(`   ${code.padEnd(20)} → HTTP ${body.status}  client sees: "${body.detail}"`)
  say(`   ${''.padEnd(20)}   operator hint: ${error.operatorHint}`)
}
say(`\n   ${Object.keys(errorCodeTable).length} codes in the taxonomy.`)
say('\nMore of the tour arrives as keyguard grows: keys, estimates, limits, the guarded fetch, Express.')
