import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCredentialsToken, customerToken } from '../../test/e2e/support/credentials.js';
import { call, closeAgents } from '../../test/e2e/support/http.js';
import { completedDetail, publishCompleted } from '../../test/e2e/support/events.js';
import { bootRuntime, removeStateDirs, type E2eRuntime } from '../../test/e2e/support/runtime.js';

/**
 * The operator console in a real headless Chromium (Debian's package, driven by playwright-core; no browser
 * download) against the real local runtime, which serves it: an order placed through the API appears and moves to
 * completed on screen, its journey opens on a click, undeliverable callbacks show in the DLQ with their reason and
 * response body, and are redriven or discarded from the page. Cross-origin calls and actions without the session's
 * CSRF token are refused. Chromium missing is a failure, not a skip (.ci/run installs it).
 */

const CHROMIUM = process.env.B2B_CHROMIUM ?? '/usr/bin/chromium';
const REPO_ROOT = resolve(import.meta.dirname, '../..');
const SCREENSHOT = process.env.UPDATE_CONSOLE_SCREENSHOT
  ? join(REPO_ROOT, 'docs/console.png')
  : join(tmpdir(), `b2b-console-${process.pid}.png`);
const WAIT = { timeout: 60_000 };

describe('operator console in a browser', () => {
  let platform: E2eRuntime;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let consoleUrl: string;
  let firstOrder: string;

  beforeAll(async () => {
    platform = await bootRuntime({ callbackRetryPolicy: { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 } });
    consoleUrl = platform.runtime.description.consoleUrl;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    context = await browser.newContext({ viewport: { width: 1500, height: 1100 } });
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await closeAgents();
    await platform?.stop();
    removeStateDirs();
  });

  async function placeOrder(carType: string): Promise<string> {
    const d = platform.runtime.description;
    const response = await fetch(`${d.carApiUrl}/orders`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await customerToken(platform.runtime)}`,
        'content-type': 'application/json',
        'x-correlation-id': `console-${randomUUID()}`,
      },
      body: JSON.stringify({ carType, quantity: 4 }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  }

  async function fulfil(): Promise<void> {
    await platform.runtime.tire.scheduler.runNow('FulfilTireOrders');
    await platform.runtime.bridge.whenIdle();
  }

  const orderRow = (id: string, state?: string) =>
    page.locator(`#order-rows tr[data-order-id="${id}"]${state ? `[data-state="${state}"]` : ''}`);
  const deadLetterRow = (carOrderId: string) => page.locator(`#dlq-rows tr[data-car-order-id="${carOrderId}"]`);

  /**
   * One PATCH first, so the car maker's callback function is warm: its cold start may outlast the API
   * destination's 5 s timeout on a busy machine (a client of its own, so the connection's token cache is untouched).
   */
  async function warmCallbackFunction(): Promise<void> {
    const d = platform.runtime.description;
    const warm = await platform.runtime.carAuth.createClient({
      name: 'warm-up',
      scopes: ['car-orders/orders.complete'],
    });
    const from = d.egress.supplierEvents;
    const token = await clientCredentialsToken(d.carTokenUrl, warm, { from });
    const answer = await call(`${d.carApiUrl}/orders/${randomUUID()}`, {
      method: 'PATCH',
      token,
      from,
      body: completedDetail(randomUUID()),
    });
    expect(answer.status).toBeGreaterThanOrEqual(400);
  }

  /** The supplier's callback client loses the scope the connection asks for: its token requests are refused. */
  function callbackScopes(scopes: string[]): void {
    const auth = platform.runtime.carAuth;
    const callbackClient = auth.listClients().find((client) => client.name === 'supplier-callback')!;
    auth.setAllowedScopes(callbackClient.clientId, scopes);
  }

  it('shows a new order, live; its callback, refused a token, in the DLQ', async () => {
    await warmCallbackFunction();
    callbackScopes(['car-orders/orders.read']);
    await page.goto(consoleUrl);
    await page.locator('#live.on').waitFor(WAIT);
    firstOrder = await placeOrder('console-first');
    await orderRow(firstOrder, 'tiresOrdered').waitFor(WAIT);
    await fulfil();
    const row = deadLetterRow(firstOrder);
    await row.waitFor(WAIT);
    await expect.poll(() => row.textContent()).toContain('Connection authorization failed');
    await page.locator('#delivery-rows td.outcome-dead-lettered').first().waitFor(WAIT);
    await expect.poll(() => page.locator('.count-tiresOrdered b').textContent(), WAIT).toBe('1');
  });

  it('redrives it from the page once the cause is fixed: the order moves to completed', async () => {
    callbackScopes(['car-orders/orders.complete']);
    await deadLetterRow(firstOrder).getByRole('button', { name: 'Redrive' }).click();
    await orderRow(firstOrder, 'completed').waitFor(WAIT);
    await deadLetterRow(firstOrder).waitFor({ state: 'detached', ...WAIT });
    await expect
      .poll(() => page.locator('#action-log').textContent(), WAIT)
      .toContain('1 delivered and removed, 0 kept');
    await expect.poll(() => page.locator('.count-completed b').textContent(), WAIT).toBe('1');
    await page.locator('#delivery-rows td.outcome-delivered').first().waitFor(WAIT);
  }, 120_000);

  it("opens the order's journey across both companies on a click", async () => {
    await orderRow(firstOrder).click();
    for (const hop of ['customer order', 'tire order', 'API destination', 'completion callback', 'car order completed'])
      await page.locator(`#timeline-hops li[data-hop="${hop}"]`).first().waitFor(WAIT);
    await expect.poll(() => page.locator('#timeline-summary').textContent()).toContain('status OrderCompleted');
  });

  it('lists a callback for an unknown order with its response body; discards it', async () => {
    // A refusal at the car API's authorizer (no token), for the refusals view.
    const refused = await fetch(`${platform.runtime.description.carApiUrl}/orders`, { method: 'POST', body: '{}' });
    expect(refused.status).toBe(401);
    const unknown = randomUUID();
    await publishCompleted(platform.runtime, [completedDetail(unknown)]);
    await platform.runtime.bridge.whenIdle();
    const row = deadLetterRow(unknown);
    await row.waitFor(WAIT);
    await expect.poll(() => row.textContent()).toContain(`HTTP 404: Car order ${unknown} not found`);
    await expect.poll(() => row.locator('td.body').textContent()).toMatch(/"detail":"Car order [\w-]+ not found"/);
    await page.locator('#refusal-rows tr', { hasText: 'authorizer' }).first().waitFor(WAIT);
    await page
      .locator('#orders-chart svg rect')
      .first()
      .waitFor({ state: 'attached', ...WAIT });
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await row.getByRole('button', { name: 'Discard' }).click();
    await row.waitFor({ state: 'detached', ...WAIT });
    await expect.poll(() => page.locator('#action-log').textContent(), WAIT).toContain('discarded 1 message(s)');
  });

  it('shows refusals by layer with source and problem detail, partners and alarms', async () => {
    const refusal = page.locator('#refusal-rows tr', { hasText: 'authorizer' }).first();
    await expect.poll(() => refusal.textContent(), WAIT).toMatch(/car-orders\s*authorizer\s*401\s*127\.0\.0\.1/);
    await expect.poll(() => refusal.textContent()).toContain('Unauthorized');
    const partner = page.locator('#partner-rows tr', { hasText: 'car-maker' });
    await expect.poll(() => partner.textContent(), WAIT).toContain(platform.runtime.description.egress.carMaker);
    await page.locator('#alarm-list li[data-alarm="callbackDeadLetter"]').waitFor(WAIT);
  });

  it('sends the page no secret', async () => {
    const d = platform.runtime.description;
    const response = await page.request.get(`${consoleUrl}api/snapshot`);
    expect(response.status()).toBe(200);
    const text = await response.text();
    for (const secret of [d.customer.clientSecret, d.tireApiKey, d.awsCredentials.secretAccessKey])
      expect(text).not.toContain(secret);
    expect(JSON.parse(text).partners.length).toBeGreaterThan(0);
  });

  it('refuses cross-origin requests and actions without the CSRF token', async () => {
    const cookie = (await context.cookies(consoleUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
    expect(cookie).toMatch(/^b2b_console_session=/);
    const json = { cookie, 'content-type': 'application/json' };
    const crossOrigin = await fetch(`${consoleUrl}api/snapshot`, {
      headers: { cookie, origin: 'http://evil.example' },
    });
    expect(crossOrigin.status).toBe(403);
    const crossSite = await fetch(`${consoleUrl}api/dlq/redrive`, {
      method: 'POST',
      headers: { ...json, 'sec-fetch-site': 'cross-site' },
      body: '{"all":true}',
    });
    expect(crossSite.status).toBe(403);
    const noToken = await fetch(`${consoleUrl}api/dlq/discard`, {
      method: 'POST',
      headers: json,
      body: '{"all":true}',
    });
    expect(noToken.status).toBe(403);
    const wrongToken = await fetch(`${consoleUrl}api/dlq/discard`, {
      method: 'POST',
      headers: { ...json, 'x-csrf-token': 'not-the-token' },
      body: '{"all":true}',
    });
    expect(wrongToken.status).toBe(403);
    const noSession = await fetch(`${consoleUrl}api/snapshot`);
    expect(noSession.status).toBe(401);
    // The page's own token works, and bad input is a 400, not a 500.
    const token = await page.locator('meta[name="csrf-token"]').getAttribute('content');
    const badBody = await fetch(`${consoleUrl}api/dlq/discard`, {
      method: 'POST',
      headers: { ...json, 'x-csrf-token': token! },
      body: '{"messageIds":[]}',
    });
    expect(badBody.status).toBe(400);
  });
});
