import { app } from './app'

// Workers call fetch(request, env, ctx): Hono passes env as bindings and ctx as c.executionCtx.
export default app
