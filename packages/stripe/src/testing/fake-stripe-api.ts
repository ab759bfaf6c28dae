import { createServer } from 'node:http'
import Stripe from 'stripe'

/** A request the fake Stripe API received: its path and form-encoded parameters. */
export type StripeApiRequest = { method: string; path: string; params: Record<string, string> }

/**
 * Stripe's API cannot run in tests: this stands in for it on 127.0.0.1, so the real `stripe`
 * package sends its real requests (read back from `requests`). It answers
 * `POST /v1/checkout/sessions` with a session as Stripe's API reference shows; anything else
 * with 404.
 */
export async function startFakeStripeApi(): Promise<{
  stripe: Stripe
  requests: StripeApiRequest[]
  close(): Promise<void>
}> {
  const requests: StripeApiRequest[] = []
  let sessions = 0
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body))
      requests.push({ method: req.method ?? 'GET', path: req.url ?? '', params })
      res.setHeader('content-type', 'application/json')
      if (req.method !== 'POST' || req.url !== '/v1/checkout/sessions') {
        res.statusCode = 404
        res.end(JSON.stringify({ error: { type: 'invalid_request_error', message: 'not faked' } }))
        return
      }
      const id = `cs_test_fake${++sessions}`
      res.end(
        JSON.stringify({
          id,
          object: 'checkout.session',
          client_reference_id: params.client_reference_id ?? null,
          mode: params.mode,
          status: 'open',
          payment_status: 'unpaid',
          url: `https://checkout.stripe.com/c/pay/${id}`,
        }),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    stripe: new Stripe('sk_test_fake_api', { host: '127.0.0.1', port, protocol: 'http' }),
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
