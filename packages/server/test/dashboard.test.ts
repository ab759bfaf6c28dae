import { mkdirSync } from 'node:fs'
import { launchChromium } from '@credly-test/browser'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createTestServer, type TestServer } from '../src/testing/index.ts'

/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core against a real
 * server on 127.0.0.1. A machine without Chromium gets it from Debian's packages first (the tests
 * run as root on these machines), so a fresh machine passes. Each page is photographed (the
 * pictures in docs/dashboard.md come from here).
 */
// Into .test-results/dashboard/ on every run; CREDLY_SCREENSHOTS=docs refreshes the docs' copies.
const shots = new URL(
  process.env.CREDLY_SCREENSHOTS === 'docs'
    ? '../../../docs/dashboard/'
    : '../../../.test-results/dashboard/',
  import.meta.url,
).pathname

let browser: Browser
let server: TestServer
let page: Page
beforeAll(async () => {
  mkdirSync(shots, { recursive: true })
  browser = await launchChromium()
}, 900_000)
afterAll(async () => {
  await browser?.close()
})
beforeEach(async () => {
  server = await createTestServer({ start: new Date().toISOString() })
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } })
  // Confirmation dialogs are accepted, as an operator would.
  page.on('dialog', (dialog) => void dialog.accept())
})
afterEach(async () => {
  await page.close()
  expect((await server.ledger.verify(server.projectId)).differences).toEqual([])
  await server.close()
})

async function signIn(key = server.adminKey) {
  await page.goto(`${server.url}/dashboard/sign-in`)
  await page.getByLabel('Admin API key').fill(key)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

describe('the dashboard', () => {
  it('sends a signed-out visitor of any page to sign in, and refuses wrong and metering keys', async () => {
    for (const path of [
      '/dashboard',
      '/dashboard/users',
      '/dashboard/users/ann',
      '/dashboard/keys',
    ]) {
      await page.goto(`${server.url}${path}`)
      expect(new URL(page.url()).pathname, path).toBe('/dashboard/sign-in')
    }
    await signIn('ck_admin_not_a_real_key')
    expect(await page.getByRole('status').textContent()).toContain('unknown or revoked')
    await signIn(server.meteringKey)
    expect(await page.getByRole('status').textContent()).toContain('metering key')
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in')
    await page.screenshot({ path: `${shots}sign-in.png` })
  }, 60_000)

  it("counts failed sign-ins with the API's failed authentications, per address", async () => {
    await server.close()
    server = await createTestServer({ app: { failedAuthLimit: { failures: 2 } } })
    await signIn('ck_admin_guess_1')
    await signIn('ck_admin_guess_2')
    await signIn(server.adminKey)
    expect(await page.getByRole('status').textContent()).toContain('Too many failed sign-ins')
    const api = await fetch(`${server.url}/v1/users`, {
      headers: { authorization: `Bearer ${server.adminKey}` },
    })
    expect(api.status).toBe(429)
  }, 60_000)

  it('shows users and their calls, grants credits, changes a tier, signs out', async () => {
    const client = server.client()
    await client.createUser({ user_id: 'ann' })
    for (const tokens of [3, 5]) {
      const start = await client.startUsageTransaction({
        user_id: 'ann',
        model: 'unit',
        feature_identifier: 'chat',
      })
      if (!start.continue) throw new Error(start.message)
      await client.completeUsageTransaction({
        transaction_id: start.transaction_id,
        success: true,
        finalized_tokens: { output_tokens: tokens },
      })
    }
    await signIn()
    expect(new URL(page.url()).pathname).toBe('/dashboard')
    const cookie = (await page.context().cookies()).find((entry) => entry.name === 'credly_session')
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' })
    expect(cookie?.value).not.toContain(server.adminKey.slice(9))
    expect(await page.locator('.card').first().textContent()).toContain('8')
    expect(await page.locator('svg rect').count()).toBe(30)
    await page.screenshot({ path: `${shots}overview.png`, fullPage: true })

    await page.getByRole('link', { name: 'Users' }).click()
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1)
    await page.screenshot({ path: `${shots}users.png` })
    await page.getByRole('link', { name: 'ann' }).click()
    expect(await page.getByTestId('balance').textContent()).toBe('92')
    expect(await page.locator('tbody tr').count()).toBe(2)

    await page.getByLabel('Credits', { exact: true }).fill('10.5')
    await page.getByRole('button', { name: 'Grant' }).click()
    expect(await page.getByRole('status').textContent()).toContain('Granted 10.5 credits')
    expect(await page.getByTestId('balance').textContent()).toBe('102.5')
    expect((await client.getBalance('ann')).balance).toBe(102.5)

    await page.getByLabel('Tier').selectOption('monthly')
    await page.getByRole('button', { name: 'Change tier' }).click()
    expect(await page.getByRole('status').textContent()).toContain('Now on tier monthly')
    expect((await client.getUser('ann')).tier_id).toBe('monthly')
    await page.screenshot({ path: `${shots}user.png`, fullPage: true })

    await page.getByRole('link', { name: 'Transactions' }).click()
    expect(await page.locator('tbody tr').count()).toBe(2)
    await page.screenshot({ path: `${shots}transactions.png` })
    await page.getByRole('link', { name: 'Project' }).click()
    await page.screenshot({ path: `${shots}project.png` })

    await page.getByRole('button', { name: 'Sign out' }).click()
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in')
    await page.goto(`${server.url}/dashboard`)
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in')
  }, 60_000)

  it('creates a key shown once, and a revoked key is refused by the API', async () => {
    await signIn()
    await page.goto(`${server.url}/dashboard/keys`)
    await page.getByLabel('Name').fill('web app')
    await page.getByRole('button', { name: 'Create key' }).click()
    const secret = (await page.locator('#new-key').textContent()) as string
    expect(secret).toMatch(/^ck_meter_/)
    expect(page.url()).not.toContain(secret)
    const headers = { authorization: `Bearer ${secret}` }
    expect((await fetch(`${server.url}/v1/users`, { headers })).status).toBe(200)

    await page.getByRole('link', { name: 'Back to the keys' }).click()
    await page.screenshot({ path: `${shots}keys.png` })
    const row = page.locator('tr', { hasText: 'web app' })
    await row.getByRole('button', { name: 'Revoke' }).click()
    expect(await page.getByRole('status').textContent()).toContain('Key revoked')
    expect((await fetch(`${server.url}/v1/users`, { headers })).status).toBe(401)
  }, 60_000)

  it("works from the keyboard alone and reads at a phone's width", async () => {
    await server.client().createUser({ user_id: 'ann' })
    await page.setViewportSize({ width: 390, height: 844 })
    await page.goto(`${server.url}/dashboard/sign-in`)
    await page.keyboard.press('Tab')
    await page.keyboard.type(server.adminKey)
    await page.keyboard.press('Enter')
    await page.waitForURL(`${server.url}/dashboard`)
    for (const path of ['/dashboard', '/dashboard/users/ann', '/dashboard/keys']) {
      await page.goto(`${server.url}${path}`)
      // Nothing wider than the screen: wide tables scroll inside their own box.
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      )
      expect(overflow, path).toBeLessThanOrEqual(0)
    }
    await page.goto(`${server.url}/dashboard`)
    await page.screenshot({ path: `${shots}overview-phone.png`, fullPage: true })
  }, 60_000)

  it('refuses a form posted without its CSRF token, changing nothing', async () => {
    const client = server.client()
    await client.createUser({ user_id: 'ann' })
    await signIn()
    const cookie = (await page.context().cookies()).find((entry) => entry.name === 'credly_session')
    const response = await fetch(`${server.url}/dashboard/users/ann/grant`, {
      method: 'POST',
      headers: {
        cookie: `credly_session=${cookie?.value}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'credits=1000',
      redirect: 'manual',
    })
    expect(response.status).toBe(403)
    expect(await response.text()).toContain('Nothing was changed')
    expect((await client.getBalance('ann')).balance).toBe(100)
  }, 60_000)

  it('edits the project config, naming a bad field', async () => {
    await signIn()
    await page.goto(`${server.url}/dashboard/project`)
    const config = JSON.parse(await page.getByLabel('Config (JSON)').inputValue())
    config.tiers.free.credits = -1
    await page.getByLabel('Config (JSON)').fill(JSON.stringify(config))
    await page.getByRole('button', { name: 'Save config' }).click()
    expect(await page.getByRole('status').textContent()).toContain('tiers.free.credits')
    config.tiers.free.credits = 250
    await page.getByLabel('Config (JSON)').fill(JSON.stringify(config))
    await page.getByRole('button', { name: 'Save config' }).click()
    expect(await page.getByRole('status').textContent()).toContain('Config saved')
    expect((await server.ledger.getProject(server.projectId)).config.tiers.free?.credits).toBe(250)

    // Turning the catalog on makes its models searchable, priced in credits.
    config.pricing = { catalog: true, credits_per_usd: 1000, markup: 2 }
    await page.getByLabel('Config (JSON)').fill(JSON.stringify(config))
    await page.getByRole('button', { name: 'Save config' }).click()
    expect(await page.getByRole('status').textContent()).toContain('Config saved')
    await page.getByLabel('Model', { exact: true }).fill('gpt-4o-mini')
    await page.getByRole('button', { name: 'Search the catalog' }).click()
    const row = page.locator('tbody tr', { hasText: /^gpt-4o-miniopenai/ })
    const { calcPrice } = await import('@pydantic/genai-prices')
    const usd = calcPrice({ input_tokens: 1e6 }, 'gpt-4o-mini', { providerId: 'openai' })
    expect(await row.locator('td').nth(2).textContent()).toBe(
      String((usd?.total_price ?? 0) * 2000),
    )
  }, 60_000)
})
