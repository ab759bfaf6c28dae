import { Chat } from './chat.tsx'

export default async function Home({ searchParams }: { searchParams: Promise<{ user?: string }> }) {
  const { user } = await searchParams
  return (
    <main>
      <h1>Credly on Next.js</h1>
      <Chat user={user && /^[\w-]+$/.test(user) ? user : 'demo-user'} />
      <p>
        The API: POST /api/chat and /api/stream with <code>{'{"prompt": "..."}'}</code>, GET
        /api/balance; each call is metered in credits.
      </p>
    </main>
  )
}
