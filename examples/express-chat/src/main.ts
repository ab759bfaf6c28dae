import { createLocalClient } from '@credly/ledger'
import { createChatApp } from './app.ts'
import { chatModel } from './model.ts'

const port = Number(process.env.PORT ?? 3000)
const client = createLocalClient({
  database: process.env.CREDLY_DATABASE ?? './express-chat.db',
  config: new URL('../credly.json', import.meta.url).pathname,
})
createChatApp({ client, model: chatModel() }).listen(port, () => {
  console.log(`express-chat on http://localhost:${port}`)
  console.log(
    `  curl -N -X POST localhost:${port}/api/chat -H 'x-user-id: ann' -H 'content-type: application/json' -d '{"prompt":"Hello"}'`,
  )
  console.log(`  curl localhost:${port}/api/balance -H 'x-user-id: ann'`)
})
