import express from 'express'
import { describe, expect, it } from 'vitest'
import { listen } from './__fixtures__/listen'
import { getKeyguard } from './keyguard'

describe('getKeyguard', () => {
  it('says to register keyguard() first when it is missing', async () => {
    const app = express()
    app.get('/', (req, res) => {
      try {
        getKeyguard(req)
      } catch (error) {
        res.status(500).send((error as Error).message)
      }
    })
    const server = await listen(app)
    const response = await fetch(server.origin)
    expect(await response.text()).toMatch(/^register keyguard\(\) before getKeyguard\(\)/)
    await server.close()
  })
})
