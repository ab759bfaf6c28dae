import { createLocalClient } from '@credly/ledger'
import { serve } from '@hono/node-server'
import { createChatApp } from './app.ts'

const port = Number(process.env.PORT ?? 3000)
const client = createLocalClient({
  database: process.env.CREDLY_DATABASE ?? './hono-chat.db',
  config: new URL('../credly.json', import.meta.url).pathname,
})
serve({ fetch: createChatApp(client).fetch, port }, () => {
  console.log(`hono-chat on http://localhost:${port}`)
  console.log(
    `  curl -N -X POST localhost:${port}/api/chat -H 'x-user-id: ann' -H 'content-type: application/json' -d '{"prompt":"Hello"}'`,
  )
})
