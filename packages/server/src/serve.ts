import type { Server } from 'node:http'
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

/**
 * What one instance lets a client take: time to send a request, idle keep-alive time, and open
 * connections. The defaults fit Credly's small JSON requests; a slow or idle client is cut off
 * instead of holding a socket (slowloris).
 */
export type ConnectionLimits = {
  /** Time a client has to send a request's headers, from its first byte or its connection. @default 10000 */
  headersTimeoutMs?: number
  /** Time a client has to send a whole request, headers and body. @default 30000 */
  requestTimeoutMs?: number
  /** How long a keep-alive connection may sit idle between requests. @default 5000 */
  keepAliveTimeoutMs?: number
  /**
   * The most open connections; one more is closed at once. Each request in flight keeps about
   * 30 KB live and V8 lets garbage grow to a few times the live heap before it collects, so this
   * also bounds the peak memory (docs/benchmarks.md). @default 1024
   */
  maxConnections?: number
}

export const DEFAULT_CONNECTION_LIMITS: Required<ConnectionLimits> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
}

/** Listens on `host:port` (port 0 picks a free one). Rejects with a clear error if the port is in use. */
export function startServer(
  app: Hono<AppEnv>,
  options: { port?: number; host?: string; limits?: ConnectionLimits } = {},
): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1'
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits }
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: app.fetch,
        port: options.port ?? 8787,
        hostname: host,
        serverOptions: {
          headersTimeout: limits.headersTimeoutMs,
          requestTimeout: limits.requestTimeoutMs,
          keepAliveTimeout: limits.keepAliveTimeoutMs,
          // How often Node checks the two timeouts above; its default (30 s) would let a slow
          // client keep its socket three times longer than the limit says.
          connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
        },
      },
      (info: AddressInfo) => {
        server.off('error', onError)
        const urlHost = info.family === 'IPv6' ? `[${info.address}]` : info.address
        resolve({
          url: `http://${urlHost}:${info.port}`,
          port: info.port,
          close: ({ timeoutMs = 10_000 } = {}) =>
            new Promise<void>((done) => {
              const http = server as Server
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
    ;(server as Server).maxConnections = limits.maxConnections
  })
}
