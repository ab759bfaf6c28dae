import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'
import type { AppEnv } from './app-env.ts'

/** A listening server and how to stop it. */
export type RunningServer = {
  /** e.g. `http://127.0.0.1:8787` */
  url: string
  port: number
  /**
   * Stops accepting connections, lets requests in flight finish (up to `timeoutMs`, then
   * closes what is left), and resolves when the server is closed.
   */
  close(options?: { timeoutMs?: number }): Promise<void>
}

/** Listens on `host:port` (port 0 picks a free one). Rejects with a clear error if the port is in use. */
export function startServer(
  app: Hono<AppEnv>,
  options: { port?: number; host?: string } = {},
): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1'
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, port: options.port ?? 8787, hostname: host },
      (info: AddressInfo) => {
        server.off('error', onError)
        const urlHost = info.family === 'IPv6' ? `[${info.address}]` : info.address
        resolve({
          url: `http://${urlHost}:${info.port}`,
          port: info.port,
          close: ({ timeoutMs = 10_000 } = {}) =>
            new Promise<void>((done) => {
              const http = server as import('node:http').Server
              // Idle keep-alive sockets would hold close() open; busy ones finish first.
              http.closeIdleConnections?.()
              const force = setTimeout(() => http.closeAllConnections?.(), timeoutMs)
              force.unref()
              server.close(() => {
                clearTimeout(force)
                done()
              })
            }),
        })
      },
    )
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `Port ${options.port} on ${host} is in use. Pick another with --port, or stop what is listening there.`,
            )
          : error,
      )
    }
    server.once('error', onError)
  })
}
