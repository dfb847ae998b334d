// The mock OpenAI upstream from @keyguard/testing in a process of its own, for HTTP benches: prints
// `listening <url>` once it serves.
import { createMockOpenAI, exampleMockKey } from '../../packages/testing/dist/index.js'

const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
const server = await mock.listen()
// The mock records every request; a bench sends hundreds of thousands.
setInterval(() => mock.reset(), 1000).unref()
process.stdout.write(`listening ${server.url}\n`)
process.on('SIGTERM', () => process.exit(0))
