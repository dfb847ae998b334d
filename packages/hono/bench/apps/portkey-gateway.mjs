// @portkey-ai/gateway from npm, started as its own bin does, on a free port; prints `listening <url>`
// once it answers. Callers name the upstream with x-portkey-provider and x-portkey-custom-host.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import path from 'node:path'

const require = createRequire(import.meta.url)
const root = path.dirname(require.resolve('@portkey-ai/gateway/package.json'))
const port = await new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address()
    probe.close(() => resolve(port))
  })
})
const child = spawn(
  process.execPath,
  [path.join(root, 'build', 'start-server.js'), `--port=${port}`, '--headless'],
  {
    stdio: ['ignore', 'ignore', 'inherit'],
  },
)
process.on('SIGTERM', () => {
  child.kill('SIGTERM')
  process.exit(0)
})
for (let attempt = 0; attempt < 200; attempt++) {
  try {
    await fetch(`http://127.0.0.1:${port}/`)
    break
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
process.stdout.write(`listening http://127.0.0.1:${port}/v1\n`)
