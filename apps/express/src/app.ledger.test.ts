import type { AddressInfo } from 'node:net'
import { migrate, postgresLedger } from '@keyguard/postgres'
import { exampleUpstream } from '@keyguard/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from './app'

// README step 9: with a ledger (DATABASE_URL), every call is recorded in Postgres and GET /ledger shows
// it. The test's own schema on the CI Postgres (KEYGUARD_POSTGRES_URL overrides), dropped after.
const url = process.env.KEYGUARD_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const schema = `kgtest_express_${process.pid}_${Date.now().toString(36)}`
const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 60_000 })
pool.on('error', () => {})

describe('createApp with a ledger', () => {
  const upstream = exampleUpstream(undefined, { usage: { completionTokens: 150 } })
  const ledger = postgresLedger({ pool, schema })
  const { app } = createApp({ ...upstream.guardOptions, ledger, log: () => {} })
  const server = app.listen(0, '127.0.0.1')
  let base = ''
  beforeAll(async () => {
    await migrate({ pool, schema })
    if (!server.listening) await new Promise((resolve) => server.once('listening', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    server.close()
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await pool.end()
  })

  it('records each call and shows the tenant its spend by user and model', async () => {
    const response = await fetch(`${base}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer demo-acme' },
      body: JSON.stringify({ message: 'Hello!' }),
    })
    expect(response.status).toBe(200)
    await response.arrayBuffer()
    const cost = Number(response.headers.get('x-keyguard-cost'))
    expect(cost).toBeGreaterThan(0)

    const shown = await fetch(`${base}/ledger`, { headers: { authorization: 'Bearer demo-acme' } })
    expect(await shown.json()).toEqual({
      tenant: 'acme',
      spend: [{ group: { user: 'ana', model: 'gpt-4o-mini' }, costNanos: cost, calls: 1 }],
    })
  })

  it('says the ledger is off when there is none, and how to turn it on', async () => {
    const bare = createApp({ ...upstream.guardOptions, log: () => {} }).app.listen(0, '127.0.0.1')
    await new Promise((resolve) => bare.once('listening', resolve))
    try {
      const { port } = bare.address() as AddressInfo
      const response = await fetch(`http://127.0.0.1:${port}/ledger`, {
        headers: { authorization: 'Bearer demo-acme' },
      })
      expect(response.status).toBe(404)
      expect(await response.json()).toMatchObject({
        ledger: 'off',
        hint: expect.stringContaining('DATABASE_URL'),
      })
    } finally {
      bare.closeAllConnections()
      bare.close()
    }
  })
})
