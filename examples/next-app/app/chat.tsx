'use client'

import { useEffect, useState } from 'react'

/**
 * A chat box that streams the answer from /api/stream and shows the user's credits, updated after
 * each answer; out of credits shows the 402 problem's detail. The "session" is the demo token
 * lib/auth.ts accepts (a stand-in for your auth's cookie).
 */
export function Chat({ user }: { user: string }) {
  const headers = { authorization: `Bearer demo-session-${user}` }
  const [balance, setBalance] = useState<number | null>(null)
  const [answer, setAnswer] = useState('')
  const [error, setError] = useState('')
  const refresh = async () => {
    const response = await fetch('/api/balance', { headers })
    if (response.ok) setBalance(((await response.json()) as { balance: number }).balance)
  }
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once per user
  useEffect(() => {
    void refresh()
  }, [user])

  async function send(form: FormData) {
    setAnswer('')
    setError('')
    const response = await fetch('/api/stream', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: String(form.get('prompt') ?? '') }),
    })
    if (!response.ok || !response.body) {
      setError(((await response.json()) as { detail?: string }).detail ?? response.statusText)
      return
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      setAnswer((text) => text + chunk.value)
    await refresh()
  }

  return (
    <section>
      <p>
        Signed in as <b>{user}</b>: <b data-testid="balance">{balance ?? '…'}</b> credits.
      </p>
      <form action={send}>
        <input name="prompt" aria-label="Prompt" defaultValue="Hello" />
        <button type="submit">Send</button>
      </form>
      <p data-testid="answer">{answer}</p>
      {error ? (
        <p role="alert" data-testid="error">
          {error}
        </p>
      ) : null}
    </section>
  )
}
