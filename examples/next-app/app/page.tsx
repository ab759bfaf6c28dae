export default function Home() {
  return (
    <main>
      <h1>Credly on Next.js</h1>
      <p>
        POST /api/chat and /api/stream with <code>{'{"prompt": "..."}'}</code>; each call is metered
        in credits.
      </p>
    </main>
  )
}
