import { readFileSync } from 'node:fs'
import * as core from '@keyguard/core'
import * as testing from '@keyguard/testing'
import OpenAI from 'openai'
import { openaiThroughGuard } from '../shared/openai-through-guard.mjs'

const installed = JSON.parse(
  readFileSync(new URL('./node_modules/openai/package.json', import.meta.url), 'utf8'),
).version
console.log(
  `ok ${await openaiThroughGuard({ OpenAI, core, testing, installed, major: 4 })} (node=${process.version})`,
)
