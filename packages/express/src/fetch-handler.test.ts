import express from 'express'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { fetchHandler } from './fetch-handler.ts'

/** A Fetch handler that answers what it was given: method, URL path, a header and the body. */
const echo = fetchHandler(async (req) =>
  Response.json(
    {
      method: req.method,
      path: new URL(req.url).pathname,
      signature: req.headers.get('x-signature'),
      body: await req.text(),
    },
    { status: 201, headers: { 'x-answered-by': 'fetch' } },
  ),
)

describe('fetchHandler', () => {
  it('gives the handler the request with its body byte for byte, and sends its response', async () => {
    const app = express()
    app.post('/hook', echo)
    app.post('/raw', express.raw({ type: '*/*' }), echo)
    // Spacing and key order a JSON parser would not keep.
    const body = '{ "b":1,  "a" : "é" }'
    for (const path of ['/hook', '/raw']) {
      const response = await request(app)
        .post(path)
        .set('content-type', 'application/json')
        .set('x-signature', 't=1,v1=abc')
        .send(body)
      expect(response.status).toBe(201)
      expect(response.headers['x-answered-by']).toBe('fetch')
      expect(response.body).toEqual({ method: 'POST', path, signature: 't=1,v1=abc', body })
    }
  })

  it('refuses a body a parser already consumed, rather than pass a re-encoded one', async () => {
    const app = express()
    app.use(express.json())
    app.post('/hook', echo)
    app.use(((error, _req, res, _next) => {
      res.status(500).send((error as Error).message)
    }) as express.ErrorRequestHandler)
    const response = await request(app).post('/hook').send({ a: 1 })
    expect(response.status).toBe(500)
    expect(response.text).toContain('mount the route before express.json()')
  })
})
