import { app } from './app'

// Bun serves the default export's fetch.
export default { port: Number(process.env.PORT ?? 3001), fetch: app.fetch }
