import type { Transaction, UsageGroup, User } from 'credly'
import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'

type Html = HtmlEscapedString | Promise<HtmlEscapedString>

/** Every asset is inline and served by the server: no CDN, no remote font, works offline. */
const STYLE = `
:root { color-scheme: light dark; --accent: #2b6cb0; --muted: #6b7280; --line: #d1d5db; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, sans-serif; }
header { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .75rem 1rem; border-bottom: 1px solid var(--line); }
header strong { margin-right: auto; }
nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
nav a { white-space: nowrap; }
main { padding: 1rem; max-width: 72rem; margin: 0 auto; }
a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: 1rem; margin-bottom: 1.5rem; }
.card { border: 1px solid var(--line); border-radius: .5rem; padding: .75rem; }
.card b { display: block; font-size: 1.4rem; }
form.inline { display: inline-flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: .25rem 0 1rem; }
label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); }
input, select, textarea, button { font: inherit; padding: .35rem .5rem; }
button { cursor: pointer; }
.flash { padding: .5rem .75rem; border-radius: .375rem; margin-bottom: 1rem; background: #e6f4ea; color: #1e4620; }
.error { background: #fdecea; color: #611a15; }
.secret { font-family: ui-monospace, monospace; padding: .5rem; border: 1px dashed var(--line); word-break: break-all; }
svg text { font-size: 10px; fill: currentColor; }
.table-wrap { overflow-x: auto; }
`

/** The page around every dashboard view. */
export function layout(options: {
  title: string
  body: Html
  csrf?: string
  flash?: { text: string; error?: boolean } | undefined
}): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Credly</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<header>
  <strong>Credly</strong>
  ${
    options.csrf
      ? html`<nav aria-label="Dashboard">
    <a href="/dashboard">Overview</a><a href="/dashboard/users">Users</a><a href="/dashboard/transactions">Transactions</a><a href="/dashboard/project">Project</a><a href="/dashboard/keys">API keys</a>
  </nav>
  <form method="post" action="/dashboard/sign-out"><input type="hidden" name="csrf" value="${options.csrf}"><button>Sign out</button></form>`
      : ''
  }
</header>
<main>
<h1>${options.title}</h1>
${options.flash ? html`<p class="flash${options.flash.error ? ' error' : ''}" role="status">${options.flash.text}</p>` : ''}
${options.body}
</main>
</body>
</html>`
}

/** A hidden CSRF field for a form. */
export const csrfField = (token: string) => html`<input type="hidden" name="csrf" value="${token}">`

/** Credits spent per day as a bar chart, drawn on the server as SVG. */
export function dailyChart(days: Array<{ day: string; credits: number }>, label: string): Html {
  const width = 720
  const height = 180
  const max = Math.max(0, ...days.map((entry) => entry.credits))
  const bar = days.length === 0 ? 0 : width / days.length
  const bars = days.map((entry, index) => {
    const h = max === 0 ? 0 : Math.round((entry.credits / max) * (height - 30))
    return html`<rect x="${(index * bar + 1).toFixed(1)}" y="${height - 20 - h}" width="${Math.max(1, bar - 2).toFixed(1)}" height="${h}" fill="#2b6cb0"><title>${entry.day}: ${entry.credits} credits</title></rect>`
  })
  return html`<figure>
<svg role="img" aria-label="${label}" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="none">
${bars}
<text x="0" y="${height - 5}">${days[0]?.day ?? ''}</text>
<text x="${width}" y="${height - 5}" text-anchor="end">${days[days.length - 1]?.day ?? ''}</text>
<text x="0" y="10">${max} credits</text>
</svg>
<figcaption>${label}</figcaption>
</figure>`
}

/** The days of a range, each with the credits of its group (0 when none). */
export function fillDays(groups: UsageGroup[], from: Date, days: number) {
  const byDay = new Map(groups.map((group) => [group.day, group.credits_charged]))
  return Array.from({ length: days }, (_, index) => {
    const day = new Date(from.getTime() + index * 86_400_000).toISOString().slice(0, 10)
    return { day, credits: byDay.get(day) ?? 0 }
  })
}

export function usersTable(users: User[]): Html {
  return html`<div class="table-wrap"><table>
<thead><tr><th>User</th><th>Tier</th><th class="n">Balance</th><th class="n">Held</th><th>Next refill</th></tr></thead>
<tbody>${users.map(
    (user) =>
      html`<tr><td><a href="/dashboard/users/${encodeURIComponent(user.user_id)}">${user.user_id}</a></td><td>${user.tier_id}</td><td class="n">${user.balance}</td><td class="n">${user.held}</td><td>${user.next_refill_at ?? '—'}</td></tr>`,
  )}</tbody></table></div>`
}

export function transactionsTable(transactions: Transaction[]): Html {
  if (transactions.length === 0) return html`<p>No transactions.</p>`
  return html`<div class="table-wrap"><table>
<thead><tr><th>Created</th><th>User</th><th>Model</th><th>Feature</th><th>Status</th><th class="n">Input</th><th class="n">Output</th><th class="n">Reserved</th><th class="n">Credits</th><th>Price (in/out)</th></tr></thead>
<tbody>${transactions.map(
    (transaction) =>
      html`<tr><td>${transaction.created_at}</td><td><a href="/dashboard/users/${encodeURIComponent(transaction.user_id)}">${transaction.user_id}</a></td><td>${transaction.model}</td><td>${transaction.feature_identifier ?? ''}</td><td>${transaction.status}${transaction.estimated ? ' (estimated)' : ''}</td><td class="n">${transaction.finalized_tokens?.input_tokens ?? ''}</td><td class="n">${transaction.finalized_tokens?.output_tokens ?? ''}</td><td class="n">${transaction.credits_reserved}</td><td class="n">${transaction.credits_used}</td><td>${transaction.price.input} / ${transaction.price.output}</td></tr>`,
  )}</tbody></table></div>`
}
