// Browser test of the walking-skeleton slice, through the UI only, in headless Chromium.
//
//   BASE_URL=http://127.0.0.1:8080 node e2e/slice.mjs
//
// Needs a fresh local stack (the dev runner: API, /config.json with {"auth":"local"}, /_dev/token and
// frontend/dist on one origin) with the Graph simulator's Contoso Dental tenant. Each step is bounded by a
// timeout; steps depend on each other, so after the first failure the rest are skipped. On failure a
// screenshot goes to e2e/artifacts/. Prints "N passed, N failed" and exits non-zero on any failure.
//
// Env: BASE_URL (default http://127.0.0.1:8080), CHROMIUM (default /usr/bin/chromium),
// SYNC_TIMEOUT_MS (default 30000), E2E_SCREENSHOTS=1 (also save a screenshot after every step).

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const SYNC_TIMEOUT_MS = Number(process.env.SYNC_TIMEOUT_MS || 30_000);
const STEP_TIMEOUT_MS = 15_000;
const ACTION_TIMEOUT_MS = 10_000;
const ALL_SCREENSHOTS = process.env.E2E_SCREENSHOTS === '1';
const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'artifacts');

const CUSTOMER = 'Contoso Dental';
const TENANT = '7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11';
const SKU_NAME = 'Microsoft 365 Business Premium';
const SKU_PART = 'SPB';
const COUNT = /^−?-?[\d,]+$/; // formatCount uses U+2212 for negatives

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

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function withTimeout(promise, ms, name) {
  let t;
  const timeout = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`step "${name}" timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(t));
}

function slug(s) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

async function screenshot(page, name) {
  try {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, `${slug(name)}.png`);
    await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
    return file;
  } catch (e) {
    return `(no screenshot: ${e.message})`;
  }
}

async function step(page, name, fn, ms = STEP_TIMEOUT_MS) {
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

/** The text of the element(s) that describe an input (aria-describedby), i.e. its field error. */
function describedBy(input) {
  return input.evaluate((el) =>
    (el.getAttribute('aria-describedby') || '')
      .split(/\s+/)
      .map((id) => document.getElementById(id)?.textContent?.trim() || '')
      .filter(Boolean)
      .join(' '),
  );
}

/** Waits until fn() returns a truthy value; returns it. */
async function until(fn, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

async function main() {
  const browser = await chromium.launch({
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
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(ACTION_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') console.log(`     browser console: ${m.text()}`);
  });

  let customerHref = '';

  try {
    await step(page, 'sign-in page loads', async () => {
      await page.goto(`${BASE_URL}/`);
      await page.getByRole('heading', { name: 'Sign in to Seatwise' }).waitFor();
      await page.getByLabel('Role').waitFor();
    });

    await step(page, 'sign in locally as provider-admin', async () => {
      await page.getByLabel('Role').selectOption('provider-admin');
      await page.getByLabel('Scope').fill('*');
      await page.getByLabel('Name').fill('E2E Admin');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
      const user = page.getByLabel('Signed-in user');
      await user.getByText('E2E Admin').waitFor();
      await user.getByText('provider-admin').waitFor();
      const token = await page.evaluate(() => sessionStorage.getItem('seatwise.token'));
      assert(token, 'no token in sessionStorage');
    });

    const form = page.getByRole('form', { name: 'Add customer' });
    const nameInput = form.getByLabel('Name');
    const tenantInput = form.getByLabel('Microsoft tenant id');
    const customersTable = page.getByRole('table', { name: 'Customers' });

    await step(page, 'invalid tenant id shows a field error', async () => {
      await nameInput.fill(CUSTOMER);
      await tenantInput.fill('not-a-guid');
      await form.getByRole('button', { name: 'Add customer' }).click();
      const msg = await until(() => describedBy(tenantInput), 5_000, 'a tenant id field error');
      assert(/guid/i.test(msg), `tenant id error does not mention a GUID: "${msg}"`);
      assert((await tenantInput.getAttribute('aria-invalid')) === 'true', 'tenant id input is not aria-invalid');
      console.log(`     field error: ${msg}`);
    });

    await step(page, `add customer "${CUSTOMER}"`, async () => {
      await nameInput.fill(CUSTOMER);
      await tenantInput.fill(TENANT);
      await form.getByRole('button', { name: 'Add customer' }).click();
      const added = page.getByRole('status').filter({ hasText: `Added ${CUSTOMER}` });
      const refused = form.locator('xpath=..').getByRole('alert');
      await added.or(refused).first().waitFor();
      if (!(await added.isVisible())) {
        const why = (await refused.first().textContent())?.trim();
        throw new Error(`adding was refused: "${why}" (the e2e needs a fresh stack without ${CUSTOMER})`);
      }
      assert((await describedBy(tenantInput)) === '', 'tenant id still shows an error');
      const link = customersTable.getByRole('link', { name: CUSTOMER, exact: true });
      await link.waitFor();
      const row = customersTable.getByRole('row').filter({ has: page.getByRole('link', { name: CUSTOMER, exact: true }) });
      await row.getByText(TENANT, { exact: true }).waitFor();
      customerHref = (await link.getAttribute('href')) || '';
      assert(/^#\/customers\/.+/.test(customerHref), `unexpected customer link ${customerHref}`);
    });

    await step(page, 'adding the same tenant again shows the conflict', async () => {
      await nameInput.fill(CUSTOMER);
      await tenantInput.fill(TENANT);
      await form.getByRole('button', { name: 'Add customer' }).click();
      const alert = page.locator('[role="alert"][data-code="conflict"]');
      await alert.waitFor();
      const text = (await alert.textContent())?.trim() ?? '';
      assert(text !== '', 'the conflict alert is empty');
      const fieldMsg = await describedBy(tenantInput);
      console.log(`     conflict: ${text}${fieldMsg ? ` | tenantId: ${fieldMsg}` : ''}`);
      const n = await customersTable.getByRole('link', { name: CUSTOMER, exact: true }).count();
      assert(n === 1, `expected one "${CUSTOMER}" row, found ${n}`);
    });

    await step(page, 'open the customer', async () => {
      await customersTable.getByRole('link', { name: CUSTOMER, exact: true }).click();
      await page.getByRole('heading', { name: CUSTOMER, level: 1 }).waitFor();
      await page.getByText(TENANT).first().waitFor();
      await page.locator('[data-sync-status]').waitFor();
      await page.getByRole('table', { name: 'Licences' }).waitFor();
    });

    await step(page, 'Sync now queues a sync', async () => {
      const btn = page.getByRole('button', { name: 'Sync now' });
      await btn.click();
      // The 202 answer says "queued"; a fast backend may already be running or done by the next poll.
      await until(
        async () => {
          const msg = (await page.locator('.sync-msg').textContent()) || '';
          const st = await page.locator('[data-sync-status]').getAttribute('data-sync-status');
          return /Sync (queued|running|finished)/.test(msg) || st === 'queued' || st === 'running';
        },
        5_000,
        'the sync to be queued',
      );
    });

    await step(
      page,
      'sync finishes with status ok',
      async () => {
        const st = await until(
          async () => {
            const s = await page.locator('[data-sync-status]').getAttribute('data-sync-status');
            return s === 'ok' || s === 'failed' ? s : null;
          },
          SYNC_TIMEOUT_MS,
          'sync status ok',
        );
        if (st === 'failed') {
          const msg = await page.locator('.sync-msg').textContent();
          throw new Error(`sync failed: ${msg}`);
        }
      },
      SYNC_TIMEOUT_MS + 5_000,
    );

    await step(page, `licences table shows ${SKU_NAME}`, async () => {
      const table = page.getByRole('table', { name: 'Licences' });
      const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: SKU_NAME, exact: true }) });
      await row.waitFor();
      const cells = (await row.getByRole('cell').allTextContents()).map((s) => s.trim());
      // part number, SKU id, active, used, available, utilisation
      assert(cells[0] === SKU_PART, `part number is "${cells[0]}", want ${SKU_PART}`);
      assert(/^[0-9a-f-]{36}$/i.test(cells[1] ?? ''), `SKU id is "${cells[1]}"`);
      for (const [i, label] of [[2, 'active'], [3, 'used'], [4, 'available']]) {
        assert(COUNT.test(cells[i] ?? ''), `${label} is "${cells[i]}", not a number`);
      }
      const bar = row.getByRole('img', { name: /^Utilisation (\d+%|over 100%)/ });
      await bar.waitFor();
      console.log(`     ${SKU_NAME}: active ${cells[2]}, used ${cells[3]}, available ${cells[4]}, ${await bar.getAttribute('aria-label')}`);
    });

    await step(page, 'licences summary lists the customer', async () => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Licences' }).click();
      await page.getByRole('heading', { name: 'Licences', level: 1 }).waitFor();
      const table = page.getByRole('table', { name: 'Licences across customers' });
      const row = table
        .getByRole('row')
        .filter({ has: page.getByRole('link', { name: CUSTOMER, exact: true }) })
        .filter({ has: page.getByRole('rowheader', { name: SKU_NAME, exact: true }) });
      await row.waitFor();
      await row.getByRole('cell', { name: SKU_PART, exact: true }).waitFor();
      const href = await row.getByRole('link', { name: CUSTOMER, exact: true }).getAttribute('href');
      assert(href === customerHref, `customer link is ${href}, want ${customerHref}`);
    });

    await step(page, 'sign out', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to Seatwise' }).waitFor();
      const token = await page.evaluate(() => sessionStorage.getItem('seatwise.token'));
      assert(token === null, 'token still stored after sign-out');
    });

    await step(page, 'no uncaught errors in the page', async () => {
      assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
    });
  } finally {
    await browser.close().catch(() => {});
  }
}

try {
  await main();
} catch (e) {
  failed++;
  console.log(`FAIL setup: ${e.message}`);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
