/**
 * A stand-in for your auth (NextAuth's `auth()`, Clerk's `auth()`, a session cookie): the user a
 * request is signed in as. Here a demo bearer token `demo-session-<user id>`; never a bare user
 * id the browser could set to anyone.
 */
export function signedInUser(request: Request): string | undefined {
  const match = /^Bearer demo-session-([\w-]+)$/.exec(request.headers.get('authorization') ?? '')
  return match?.[1]
}
