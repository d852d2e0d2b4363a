// The shared harness of the browser tests (e2e/slice.mjs, e2e/licences.mjs): launching headless Chromium, pages
// with the default timeouts and error listeners, steps bounded by a timeout (after the first failure the rest are
// skipped; on failure a screenshot goes to e2e/artifacts/), a hard overall time limit, and the closing summary
// "N passed, N failed" with a non-zero exit code on any failure.
//
// Env: BASE_URL (default http://127.0.0.1:8080), CHROMIUM (default /usr/bin/chromium),
// SYNC_TIMEOUT_MS (default 30000), E2E_SCREENSHOTS=1 (also save a screenshot after every step).

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const SYNC_TIMEOUT_MS = Number(process.env.SYNC_TIMEOUT_MS || 30_000);
const ACTION_TIMEOUT_MS = 10_000;
const ALL_SCREENSHOTS = process.env.E2E_SCREENSHOTS === '1';
const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'artifacts');

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function withTimeout(promise, ms, name) {
  let t;
  const timeout = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`step "${name}" timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(t));
}

/** Waits until fn() returns a truthy value; returns it. */
export async function until(fn, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

function slug(s) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
  });
}

/**
 * A test run: stepTimeoutMs bounds each step unless the step says otherwise; screenshots are named
 * `${screenshotPrefix}${slug}.png`. Starts the overall time limit.
 */
export function createHarness({ stepTimeoutMs, screenshotPrefix = '' }) {
  // A hard stop in case something hangs outside a step's own timeout.
  const watchdog = setTimeout(() => {
    console.error('e2e: overall time limit reached');
    console.log('0 passed, 1 failed');
    process.exit(2);
  }, 240_000);
  watchdog.unref();

  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let broken = false;
  const pageErrors = [];

  async function screenshot(page, name) {
    try {
      mkdirSync(ARTIFACTS, { recursive: true });
      const file = path.join(ARTIFACTS, `${screenshotPrefix}${slug(name)}.png`);
      await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
      return file;
    } catch (e) {
      return `(no screenshot: ${e.message})`;
    }
  }

  async function step(page, name, fn, ms = stepTimeoutMs) {
    if (broken) {
      skipped++;
      console.log(`SKIP ${name}`);
      return;
    }
    const started = Date.now();
    try {
      await withTimeout(fn(), ms, name);
      passed++;
      console.log(`PASS ${name} (${Date.now() - started} ms)`);
      if (ALL_SCREENSHOTS) await screenshot(page, `ok-${name}`);
    } catch (e) {
      failed++;
      broken = true;
      console.log(`FAIL ${name} (${Date.now() - started} ms): ${e.message}`);
      console.log(`     url: ${page.url()}`);
      console.log(`     screenshot: ${await screenshot(page, `fail-${name}`)}`);
    }
  }

  /** A new browser context and page, with the default timeouts; page errors are collected in pageErrors. */
  async function newPage(browser) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(ACTION_TIMEOUT_MS);
    page.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') console.log(`     browser console: ${m.text()}`);
    });
    return { context, page };
  }

  /** Runs main, prints "N passed, N failed" and exits non-zero on any failure. */
  async function run(main) {
    try {
      await main();
    } catch (e) {
      failed++;
      console.log(`FAIL setup: ${e.message}`);
    }
    console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
    process.exit(failed > 0 ? 1 : 0);
  }

  return { step, pageErrors, newPage, run };
}

/** Signs in through the local sign-in page with a role and a customer scope ("*" = all customers). */
export async function signIn(page, role, name, scope = '*') {
  await page.goto(`${BASE_URL}/#/signin`);
  await page.getByRole('heading', { name: 'Sign in to Seatwise' }).waitFor();
  await page.getByLabel('Role', { exact: true }).selectOption(role);
  await page.getByLabel('Scope', { exact: true }).fill(scope);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
  await page.getByLabel('Signed-in user', { exact: true }).getByText(role, { exact: true }).waitFor();
}

/**
 * Opens a customer from the customers list, adding it and syncing it first when needed (not synced, or the SKU
 * skuId not listed yet); returns its hash.
 */
export async function openSyncedCustomer(page, name, tenant, skuId = 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46') {
  await page.goto(`${BASE_URL}/#/customers`);
  const customersTable = page.getByRole('table', { name: 'Customers' });
  await customersTable.waitFor();
  const link = customersTable.getByRole('link', { name, exact: true });
  await until(async () => (await customersTable.locator('tbody tr').count()) > 0 && (await customersTable.getAttribute('aria-busy')) !== 'true', 10_000, 'the customers list');
  if ((await link.count()) === 0) {
    const form = page.getByRole('form', { name: 'Add customer' });
    await form.getByLabel('Name', { exact: true }).fill(name);
    await form.getByLabel('Microsoft tenant id', { exact: true }).fill(tenant);
    await form.getByRole('button', { name: 'Add customer' }).click();
    await link.waitFor();
    console.log(`     added ${name}`);
  }
  const hash = (await link.first().getAttribute('href')) || '';
  await link.first().click();
  await page.getByRole('heading', { name, level: 1 }).waitFor();
  const status = page.locator('[data-sync-status]').first();
  await status.waitFor();
  await page.getByRole('table', { name: 'Licences' }).locator('tbody tr[data-sku-id], tbody tr.message-row:not(:has-text("Loading"))').first().waitFor();
  const listed = page.getByRole('table', { name: 'Licences' }).locator(`tr[data-sku-id="${skuId}"]`);
  if ((await status.getAttribute('data-sync-status')) !== 'ok' || (await listed.count()) === 0) {
    await page.getByRole('button', { name: 'Sync now' }).click();
    const st = await until(async () => {
      const s = await status.getAttribute('data-sync-status');
      return s === 'ok' || s === 'failed' ? s : null;
    }, SYNC_TIMEOUT_MS, `the sync of ${name} to finish`);
    assert(st === 'ok', `the sync of ${name} failed: ${await page.locator('.sync-msg').textContent()}`);
    console.log(`     synced ${name}`);
  }
  await listed.waitFor();
  return hash;
}

/** Calls the API as the signed-in user (the page's token); the body is parsed as JSON when it is JSON. */
export function api(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const headers = { Authorization: `Bearer ${sessionStorage.getItem('seatwise.token')}`, 'Content-Type': 'application/json' };
      const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await r.text();
      let parsed = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
      return { status: r.status, body: parsed };
    },
    { method, path, body },
  );
}
