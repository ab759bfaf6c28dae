import { randomBytes } from 'node:crypto'

/** A signed-in operator: the admin key they signed in with, kept in this process only. */
export type DashboardSession = {
  id: string
  /** The admin key's secret, checked again on every request, so revoking it signs them out. */
  key: string
  projectId: string
  /** The token every form of this session carries (CSRF). */
  csrf: string
  expiresAt: number
}

/** How long a dashboard session lasts without use. */
const IDLE_MS = 8 * 3600_000
/** The most sessions kept; the oldest go first. */
const MAX_SESSIONS = 10_000

/**
 * Dashboard sessions, in memory: the cookie holds only a random id (256 bits), never the key.
 * A restart (or another instance behind a load balancer) means signing in again.
 */
export class DashboardSessions {
  private readonly sessions = new Map<string, DashboardSession>()
  private readonly now: () => number

  constructor(now: () => number = Date.now) {
    this.now = now
  }

  create(key: string, projectId: string): DashboardSession {
    if (this.sessions.size >= MAX_SESSIONS)
      this.sessions.delete(this.sessions.keys().next().value as string)
    const session = {
      id: randomBytes(32).toString('base64url'),
      key,
      projectId,
      csrf: randomBytes(32).toString('base64url'),
      expiresAt: this.now() + IDLE_MS,
    }
    this.sessions.set(session.id, session)
    return session
  }

  /** The live session with this id, its idle time restarted; undefined if unknown or expired. */
  get(id: string | undefined): DashboardSession | undefined {
    if (!id) return undefined
    const session = this.sessions.get(id)
    if (!session) return undefined
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(id)
      return undefined
    }
    session.expiresAt = this.now() + IDLE_MS
    return session
  }

  delete(id: string): void {
    this.sessions.delete(id)
  }
}
