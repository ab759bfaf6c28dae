import { type Ledger, listModelPrices } from '@credly/ledger'
import { CredlyApiError, type ProjectConfigInput, ValidationError } from 'credly'
import type { Context, Hono } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { html } from 'hono/html'
import type { AppEnv } from '../app-env.ts'
import { type AuthGuard, clientAddress } from '../auth.ts'
import { PRICE_HEADINGS, priceRow } from '../price-table.ts'
import { type DashboardSession, DashboardSessions } from './sessions.ts'
import { csrfField, dailyChart, fillDays, layout, transactionsTable, usersTable } from './views.ts'

const COOKIE = 'credly_session'
const DAY = 86_400_000

type Page = { session: DashboardSession; ledger: Ledger }

/**
 * The operator's dashboard at `/dashboard`, server-rendered by the same process: sign in with an
 * admin key (kept server-side; the HttpOnly, SameSite=Strict cookie holds a random session id),
 * every form carries the session's CSRF token, and every page checks the key again, so a revoked
 * key signs its sessions out.
 */
export function registerDashboard(app: Hono<AppEnv>, ledger: Ledger, guard: AuthGuard): void {
  const sessions = new DashboardSessions()

  const signedIn = async (c: Context): Promise<DashboardSession | undefined> => {
    const session = sessions.get(getCookie(c, COOKIE))
    if (!session) return undefined
    const identity = await ledger.authenticateApiKey(session.key)
    if (identity?.scope !== 'admin') {
      sessions.delete(session.id)
      return undefined
    }
    return session
  }
  const flash = (c: Context) => {
    const text = c.req.query('ok') ?? c.req.query('error')
    return text ? { text, error: c.req.query('error') !== undefined } : undefined
  }

  /** A page for a signed-in operator; anyone else is sent to sign in. */
  const page = (
    path: string,
    title: string,
    render: (page: Page, c: Context) => Promise<unknown>,
  ) => {
    app.get(path, async (c) => {
      const session = await signedIn(c)
      if (!session) return c.redirect('/dashboard/sign-in', 303)
      const body = await render({ session, ledger }, c)
      if (body instanceof Response) return body
      return c.html(layout({ title, body: body as never, csrf: session.csrf, flash: flash(c) }))
    })
  }

  /**
   * A posted form of a signed-in operator carrying the session's CSRF token, or the answer that
   * refuses it (sign in first, or 403) before anything changes.
   */
  const postedForm = async (
    c: Context,
    back: string,
  ): Promise<Response | { session: DashboardSession; form: Record<string, string> }> => {
    const session = await signedIn(c)
    if (!session) return c.redirect('/dashboard/sign-in', 303)
    const form = Object.fromEntries(
      Object.entries(await c.req.parseBody()).map(([key, value]) => [key, String(value)]),
    )
    if (form.csrf === session.csrf) return { session, form }
    return c.html(
      layout({
        title: 'Refused',
        body: html`<p>This form was not sent from this dashboard session (its CSRF token is missing or wrong). Nothing was changed. <a href="${back}">Go back</a> and try again.</p>`,
      }),
      403,
    )
  }

  /** A form post (see `postedForm`); ledger errors come back to the page as a message. */
  const action = (
    path: string,
    run: (page: Page, form: Record<string, string>, c: Context) => Promise<string>,
    back: (c: Context) => string,
  ) => {
    app.post(path, async (c) => {
      const posted = await postedForm(c, back(c))
      if (posted instanceof Response) return posted
      const { session, form } = posted
      try {
        const done = await run({ session, ledger }, form, c)
        return c.redirect(`${back(c)}?ok=${encodeURIComponent(done)}`, 303)
      } catch (error) {
        // A server fault goes to the app's error handler (logged, 500); a refusal back to the page.
        if (!CredlyApiError.isInstance(error)) throw error
        const fields = ValidationError.isInstance(error)
          ? error.errors.map((field) => `${field.path}: ${field.message}`).join('; ')
          : ''
        const message = `${error.detail ?? error.title}${fields ? ` (${fields})` : ''}`
        return c.redirect(`${back(c)}?error=${encodeURIComponent(message)}`, 303)
      }
    })
  }

  app.get('/dashboard/sign-in', (c) =>
    c.html(
      layout({
        title: 'Sign in',
        flash: flash(c),
        body: html`<form method="post" action="/dashboard/sign-in" class="inline">
  <label>Admin API key <input name="key" type="password" autocomplete="off" required size="40"></label>
  <button>Sign in</button>
</form>
<p>Use an admin key (<code>ck_admin_…</code>) from <code>credly init</code> or <code>credly keys create --scope admin</code>. Metering keys cannot sign in.</p>`,
      }),
    ),
  )

  app.post('/dashboard/sign-in', async (c) => {
    const address = clientAddress(c)
    const retryAfter = guard.retryAfter(address)
    if (retryAfter !== undefined) {
      const why = `Too many failed sign-ins from this address (${guard.describe()}). Try again in ${retryAfter} s.`
      return c.redirect(`/dashboard/sign-in?error=${encodeURIComponent(why)}`, 303)
    }
    const form = await c.req.parseBody()
    const key = typeof form.key === 'string' ? form.key.trim() : ''
    const identity = key ? await guard.identify(ledger, key) : undefined
    if (identity?.scope !== 'admin') {
      if (!identity) guard.fail(address)
      const why = identity
        ? 'This is a metering key: the dashboard needs an admin key.'
        : 'This key is unknown or revoked.'
      return c.redirect(`/dashboard/sign-in?error=${encodeURIComponent(why)}`, 303)
    }
    const session = sessions.create(key, identity.project_id)
    setCookie(c, COOKIE, session.id, {
      path: '/dashboard',
      httpOnly: true,
      sameSite: 'Strict',
      secure: new URL(c.req.url).protocol === 'https:',
    })
    return c.redirect('/dashboard', 303)
  })

  app.post('/dashboard/sign-out', async (c) => {
    const session = sessions.get(getCookie(c, COOKIE))
    const form = await c.req.parseBody()
    if (session && form.csrf === session.csrf) sessions.delete(session.id)
    deleteCookie(c, COOKIE, { path: '/dashboard' })
    return c.redirect('/dashboard/sign-in', 303)
  })

  page('/dashboard', 'Overview', async ({ session, ledger }) => {
    const now = Date.now()
    const from = new Date(Math.floor(now / DAY) * DAY - 29 * DAY)
    const range = { from: from.toISOString() }
    const [byDay, byModel, byFeature, byUser] = await Promise.all([
      ledger.getUsage(session.projectId, { ...range, group_by: ['day'] }),
      ledger.getUsage(session.projectId, { ...range, group_by: ['model'] }),
      ledger.getUsage(session.projectId, { ...range, group_by: ['feature'] }),
      ledger.getUsage(session.projectId, { ...range, group_by: ['user'] }),
    ])
    const top = [...byUser.data].sort((a, b) => b.credits_charged - a.credits_charged).slice(0, 10)
    const totals = byDay.totals
    const breakdown = (
      rows: Array<{ name: string | null | undefined; calls: number; credits: number }>,
    ) =>
      html`<table><thead><tr><th>Name</th><th class="n">Calls</th><th class="n">Credits</th></tr></thead><tbody>${rows.map(
        (row) =>
          html`<tr><td>${row.name ?? '(none)'}</td><td class="n">${row.calls}</td><td class="n">${row.credits}</td></tr>`,
      )}</tbody></table>`
    return html`<div class="cards">
  <div class="card">Credits spent, 30 days<b>${totals.credits_charged}</b></div>
  <div class="card">Calls<b>${totals.calls}</b></div>
  <div class="card">Active users<b>${byUser.data.filter((group) => group.calls > 0).length}</b></div>
  <div class="card">Refusals<b>${totals.refusals.insufficient_credits + totals.refusals.rate_limited}</b></div>
</div>
${dailyChart(fillDays(byDay.data, from, 30), 'Credits spent per day, last 30 days')}
<h2>By model</h2>
${breakdown(byModel.data.map((g) => ({ name: g.model, calls: g.calls, credits: g.credits_charged })))}
<h2>By feature</h2>
${breakdown(byFeature.data.map((g) => ({ name: g.feature_identifier, calls: g.calls, credits: g.credits_charged })))}
<h2>Top spenders</h2>
${breakdown(top.map((g) => ({ name: g.user_id, calls: g.calls, credits: g.credits_charged })))}`
  })

  page('/dashboard/users', 'Users', async ({ session, ledger }, c) => {
    const search = c.req.query('q')
    if (search) return c.redirect(`/dashboard/users/${encodeURIComponent(search)}`, 303)
    const tier = c.req.query('tier') || undefined
    const cursor = c.req.query('cursor') || undefined
    const [users, project] = await Promise.all([
      ledger.listUsers(session.projectId, { tier_id: tier, cursor, limit: 50 }),
      ledger.getProject(session.projectId),
    ])
    return html`<form method="get" class="inline">
  <label>User id <input name="q" type="search"></label>
  <label>Tier <select name="tier"><option value="">any</option>${Object.keys(
    project.config.tiers,
  ).map((id) => html`<option ${id === tier ? 'selected' : ''}>${id}</option>`)}</select></label>
  <button>Find</button>
</form>
${usersTable(users.data)}
${users.next_cursor ? html`<a href="?cursor=${users.next_cursor}${tier ? `&tier=${tier}` : ''}">Next page</a>` : ''}`
  })

  page('/dashboard/users/:user_id', 'User', async ({ session, ledger }, c) => {
    const userId = c.req.param('user_id') as string
    let user: Awaited<ReturnType<Ledger['getUser']>>
    try {
      user = await ledger.getUser(session.projectId, userId)
    } catch (error) {
      if (CredlyApiError.isInstance(error) && error.status < 500)
        return html`<p>${error.detail}</p><p><a href="/dashboard/users">All users</a></p>`
      throw error
    }
    const [transactions, usage, project] = await Promise.all([
      ledger.listTransactions(session.projectId, { user_id: userId, limit: 50 }),
      ledger.getUsage(session.projectId, {
        user_id: userId,
        group_by: ['day'],
        from: new Date(Math.floor(Date.now() / DAY) * DAY - 29 * DAY).toISOString(),
      }),
      ledger.getProject(session.projectId),
    ])
    const base = `/dashboard/users/${encodeURIComponent(userId)}`
    const from = new Date(Math.floor(Date.now() / DAY) * DAY - 29 * DAY)
    return html`<h2>${user.user_id}</h2>
<div class="cards">
  <div class="card">Balance<b data-testid="balance">${user.balance}</b></div>
  <div class="card">Held<b>${user.held}</b></div>
  <div class="card">Tier<b>${user.tier_id}</b></div>
  <div class="card">Next refill<b>${user.next_refill_at?.slice(0, 10) ?? '—'}</b></div>
</div>
${dailyChart(fillDays(usage.data, from, 30), `Credits ${user.user_id} spent per day, last 30 days`)}
<h2>Grant credits</h2>
<form method="post" action="${base}/grant" class="inline" onsubmit="return confirm('Grant these credits?')">
  ${csrfField(session.csrf)}
  <label>Credits <input name="credits" type="number" step="0.000001" min="0.000001" required></label>
  <label>Reason <input name="reason"></label>
  <button>Grant</button>
</form>
<h2>Change tier</h2>
<form method="post" action="${base}/tier" class="inline" onsubmit="return confirm('Change the tier?')">
  ${csrfField(session.csrf)}
  <label>Tier <select name="tier_id">${Object.keys(project.config.tiers).map(
    (id) => html`<option ${id === user.tier_id ? 'selected' : ''}>${id}</option>`,
  )}</select></label>
  <label><span>Reset balance</span><input type="checkbox" name="reset_balance" value="yes"></label>
  <button>Change tier</button>
</form>
<h2>Transactions</h2>
${transactionsTable(transactions.data)}
<h2>Delete</h2>
<form method="post" action="${base}/delete" class="inline" onsubmit="return confirm('Delete this user? Pending holds are released; the history stays.')">
  ${csrfField(session.csrf)}
  <button>Delete ${user.user_id}</button>
</form>`
  })

  const userPage = (c: Context) =>
    `/dashboard/users/${encodeURIComponent(c.req.param('user_id') as string)}`
  action(
    '/dashboard/users/:user_id/grant',
    async ({ session, ledger }, form, c) => {
      const grant = await ledger.grantCredits(session.projectId, {
        user_id: c.req.param('user_id') as string,
        credits: Number(form.credits),
        reason: form.reason || undefined,
      })
      return `Granted ${grant.credits} credits.`
    },
    userPage,
  )
  action(
    '/dashboard/users/:user_id/tier',
    async ({ session, ledger }, form, c) => {
      const user = await ledger.changeUserTier(session.projectId, {
        user_id: c.req.param('user_id') as string,
        tier_id: form.tier_id ?? '',
        reset_balance: form.reset_balance === 'yes',
      })
      return `Now on tier ${user.tier_id}.`
    },
    userPage,
  )
  action(
    '/dashboard/users/:user_id/delete',
    async ({ session, ledger }, _form, c) => {
      await ledger.deleteUser(session.projectId, c.req.param('user_id') as string)
      return 'Deleted.'
    },
    () => '/dashboard/users',
  )

  page('/dashboard/transactions', 'Transactions', async ({ session, ledger }, c) => {
    const query = {
      user_id: c.req.query('user_id') || undefined,
      model: c.req.query('model') || undefined,
      status: (c.req.query('status') || undefined) as never,
      feature_identifier: c.req.query('feature_identifier') || undefined,
      cursor: c.req.query('cursor') || undefined,
      limit: 50,
    }
    const page = await ledger.listTransactions(session.projectId, query)
    return html`<form method="get" class="inline">
  <label>User <input name="user_id" value="${query.user_id ?? ''}"></label>
  <label>Model <input name="model" value="${query.model ?? ''}"></label>
  <label>Feature <input name="feature_identifier" value="${query.feature_identifier ?? ''}"></label>
  <label>Status <select name="status"><option value="">any</option>${[
    'pending',
    'completed',
    'failed',
    'expired',
  ].map(
    (status) => html`<option ${status === query.status ? 'selected' : ''}>${status}</option>`,
  )}</select></label>
  <button>Filter</button>
</form>
${transactionsTable(page.data)}
${page.next_cursor ? html`<a href="?cursor=${page.next_cursor}">Next page</a>` : ''}`
  })

  page('/dashboard/project', 'Project', async ({ session, ledger }, c) => {
    const project = await ledger.getProject(session.projectId)
    const search = (c.req.query('model') ?? '').toLowerCase()
    const priced = (await listModelPrices(project.config)).filter(
      (entry) =>
        entry.source.from === 'config' ||
        (search !== '' && entry.model.toLowerCase().includes(search)),
    )
    const pricing = project.config.pricing
    return html`<p>Project <code>${project.id}</code>. Models are priced in credits per million tokens.</p>
<h2>Prices</h2>
<p>${
      pricing?.catalog
        ? `The price catalog is on: a model not listed under "models" is priced at the catalog's USD price x ${pricing.credits_per_usd} credits per USD${pricing.markup === 1 ? '' : ` x ${pricing.markup} markup`}. Search it below.`
        : 'The price catalog is off: only the models under "models" are accepted.'
    }</p>
${
  pricing?.catalog
    ? html`<form method="get" class="inline"><label>Model <input name="model" value="${search}" placeholder="gpt-4o"></label><button>Search the catalog</button></form>`
    : ''
}
<div class="table-wrap"><table><thead><tr>${PRICE_HEADINGS.map((heading) => html`<th>${heading}</th>`)}</tr></thead><tbody>${priced
      .slice(0, 200)
      .map(
        (entry) => html`<tr>${priceRow(entry).map((cell) => html`<td>${cell}</td>`)}</tr>`,
      )}</tbody></table></div>
${priced.length > 200 ? html`<p>The first 200 of ${priced.length}; narrow the search.</p>` : ''}
<h2>Config</h2>
<form method="post" action="/dashboard/project" onsubmit="return confirm('Replace the project config? Balances are kept.')">
  ${csrfField(session.csrf)}
  <label>Config (JSON) <textarea name="config" rows="24" cols="80" spellcheck="false">${JSON.stringify(project.config, null, 2)}</textarea></label>
  <p><button>Save config</button></p>
</form>`
  })
  action(
    '/dashboard/project',
    async ({ session, ledger }, form) => {
      let json: unknown
      try {
        json = JSON.parse(form.config ?? '')
      } catch (error) {
        throw CredlyApiError.fromKind(
          'validation-error',
          `The config is not valid JSON: ${(error as Error).message}`,
          { errors: [{ path: 'config', message: 'not valid JSON' }] },
        )
      }
      await ledger.updateProjectConfig(session.projectId, json as ProjectConfigInput)
      return 'Config saved.'
    },
    () => '/dashboard/project',
  )

  page('/dashboard/keys', 'API keys', async ({ session, ledger }) => {
    const keys = await ledger.listApiKeys(session.projectId)
    return html`<h2>Create a key</h2>
<form method="post" action="/dashboard/keys" class="inline">
  ${csrfField(session.csrf)}
  <label>Scope <select name="scope"><option>metering</option><option>admin</option></select></label>
  <label>Name <input name="name"></label>
  <button>Create key</button>
</form>
<div class="table-wrap"><table><thead><tr><th>Id</th><th>Key</th><th>Scope</th><th>Name</th><th>Created</th><th>State</th><th></th></tr></thead><tbody>${keys.map(
      (key) =>
        html`<tr><td>${key.id}</td><td><code>${key.prefix}…</code></td><td>${key.scope}</td><td>${key.name ?? ''}</td><td>${key.created_at}</td><td>${key.revoked_at ? `revoked ${key.revoked_at}` : 'live'}</td><td>${
          key.revoked_at
            ? ''
            : html`<form method="post" action="/dashboard/keys/${key.id}/revoke" onsubmit="return confirm('Revoke this key? Apps using it stop at once.')">${csrfField(session.csrf)}<button>Revoke</button></form>`
        }</td></tr>`,
    )}</tbody></table></div>`
  })
  app.post('/dashboard/keys', async (c) => {
    // Like `action`, but the new secret goes to the next page once, not into a message.
    const posted = await postedForm(c, '/dashboard/keys')
    if (posted instanceof Response) return posted
    const { session, form } = posted
    const scope = form.scope === 'admin' ? 'admin' : 'metering'
    const key = await ledger.createApiKey(session.projectId, {
      scope,
      name: form.name || undefined,
    })
    // Rendered directly (not redirected), so the secret never appears in a URL or a log.
    return c.html(
      layout({
        title: 'API keys',
        csrf: session.csrf,
        body: html`<p class="flash" role="status">New ${key.scope} key, shown once: copy it now.</p>
<p class="secret" id="new-key">${key.key}</p>
<button type="button" onclick="navigator.clipboard.writeText(document.getElementById('new-key').textContent)">Copy</button>
<p><a href="/dashboard/keys">Back to the keys</a></p>`,
      }),
    )
  })
  action(
    '/dashboard/keys/:key_id/revoke',
    async ({ session, ledger }, _form, c) => {
      await ledger.revokeApiKey(session.projectId, c.req.param('key_id') as string)
      return 'Key revoked.'
    },
    () => '/dashboard/keys',
  )
}
