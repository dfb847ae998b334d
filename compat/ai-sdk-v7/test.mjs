import { readFileSync } from 'node:fs'
import { createOpenAI } from '@ai-sdk/openai'
import * as core from '@keyguard/core'
import * as testing from '@keyguard/testing'
import * as ai from 'ai'
import { aiSdkThroughGuard } from '../shared/ai-sdk-through-guard.mjs'

const installed = JSON.parse(
  readFileSync(new URL('./node_modules/ai/package.json', import.meta.url), 'utf8'),
).version
console.log(
  `ok ${await aiSdkThroughGuard({ ai, createOpenAI, core, testing, installed, major: 7 })} (node=${process.version})`,
)
