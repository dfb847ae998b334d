import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { probe, sparePort, until } from './redis-server'

// A Redis Cluster of a test's own: `masters` redis-server processes with --cluster-enabled yes on
// spare ports (client and bus), joined by `redis-cli --cluster create`. redis-server 7 and redis-cli
// must be installed (CI installs them): without them the test fails with the fix, it never skips.
// Every process is killed by close(), and by the test process's exit when a test dies before it.

/** One node's address. */
export interface ClusterNode {
  host: string
  port: number
}

/** A running Cluster: its master nodes, and `close()` that kills them and removes their files. */
export interface OwnCluster {
  nodes: ClusterNode[]
  close(): Promise<void>
}

const host = '127.0.0.1'

function requireTool(name: string) {
  const probe = spawnSync(name, ['--version'], { encoding: 'utf8' })
  if (probe.status !== 0)
    throw new Error(
      `${name} is not installed (${probe.error?.message ?? probe.stderr}); the Redis Cluster tests need redis-server and redis-cli 7: apt-get install redis-server`,
    )
}

const clusterOk = (port: number) =>
  probe(port, async (client) => /cluster_state:ok/.test(String(await client.call('CLUSTER', 'INFO'))))

/** Start a Cluster of `masters` masters (no replicas) and wait until every node says `cluster_state:ok`. */
export async function ownCluster(masters = 3): Promise<OwnCluster> {
  requireTool('redis-server')
  requireTool('redis-cli')
  const servers: ChildProcess[] = []
  const dirs: string[] = []
  const nodes: ClusterNode[] = []
  const killAll = () => {
    for (const server of servers) if (server.exitCode === null) server.kill('SIGKILL')
  }
  process.once('exit', killAll)
  const close = async () => {
    process.off('exit', killAll)
    const exits = servers
      .filter((server) => server.exitCode === null)
      .map((server) => new Promise((resolve) => server.once('exit', resolve)))
    killAll()
    await Promise.all(exits)
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < masters; i++) {
      const port = await sparePort()
      const busPort = await sparePort()
      const dir = mkdtempSync(join(tmpdir(), 'kg-cluster-'))
      dirs.push(dir)
      const server = spawn(
        'redis-server',
        [
          ...['--port', String(port), '--cluster-port', String(busPort), '--bind', host],
          ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--dir', dir],
          // the settings keyguard asks for (README, "What Redis keyguard needs"), so the store does not warn
          ...[
            '--cluster-node-timeout',
            '15000',
            '--save',
            '',
            '--appendonly',
            'yes',
            '--appendfsync',
            'everysec',
          ],
        ],
        { stdio: 'ignore' },
      )
      server.on('error', () => {})
      servers.push(server)
      nodes.push({ host, port })
    }
    await until(
      async () => {
        const results = await Promise.all(nodes.map((node) => probe(node.port)))
        return results.every(Boolean)
      },
      30_000,
      `${masters} redis-server --cluster-enabled yes`,
    )
    await createCluster(nodes)
    await until(
      async () => (await Promise.all(nodes.map((node) => clusterOk(node.port)))).every(Boolean),
      60_000,
      'cluster_state:ok on every node',
    )
    return { nodes, close }
  } catch (error) {
    await close()
    throw error
  }
}

/** `redis-cli --cluster create` over `nodes`, without blocking the event loop; rejects with its output. */
function createCluster(nodes: ClusterNode[]) {
  const args = ['--cluster', 'create', ...nodes.map((node) => `${node.host}:${node.port}`)]
  const cli = spawn('redis-cli', [...args, '--cluster-replicas', '0', '--cluster-yes'])
  let output = ''
  cli.stdout.on('data', (chunk) => {
    output += String(chunk)
  })
  cli.stderr.on('data', (chunk) => {
    output += String(chunk)
  })
  const timer = setTimeout(() => cli.kill('SIGKILL'), 60_000)
  return new Promise<void>((resolve, reject) => {
    cli.on('error', reject)
    cli.on('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else reject(new Error(`redis-cli --cluster create exited with ${code}: ${output}`))
    })
  })
}
