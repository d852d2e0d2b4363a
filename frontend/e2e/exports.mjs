// Browser test of the month-end exports (issue 8), through the UI, in headless Chromium, on the stack the other scripts
// ran on (e2e/usage.mjs has taken today's snapshot of Contoso Dental; this script takes it again, and adds and syncs
// the customer when run alone): as provider-admin, open Exports from the nav; export the current month with the month
// picker (a month in the future is refused at the field) and watch its run from queued to done without a reload; see
// its four files (anonymised CSV, partner CSV, raw JSON, manifest) with their sizes and SHA-256 sums, copy one; Re-run
// the month from its card, watch the progress to the new manifest; download the anonymised CSV through its presigned
// URL (the browser's download, and the URL fetched here: a BOM, the header, the SHA-256 the page shows, no customer
// name). Then as a viewer and as a customer admin: no Exports in the nav, and the page without a single control.
//
//   BASE_URL=http://127.0.0.1:8080 node e2e/exports.mjs
//
// Each step is bounded by a timeout; steps depend on each other, so after the first failure the rest are skipped. On
// failure a screenshot goes to e2e/artifacts/. Prints "N passed, N failed" and exits non-zero on any failure.
//
// Env: BASE_URL (default http://127.0.0.1:8080), CHROMIUM (default /usr/bin/chromium),
// SYNC_TIMEOUT_MS (default 30000), E2E_SCREENSHOTS=1 (also save a screenshot after every step).

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BASE_URL, SYNC_TIMEOUT_MS, api, assert, createHarness, launchBrowser, signIn, until } from './harness.mjs';

const CUSTOMER = 'Contoso Dental';
const TENANT = '7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11';
const ANON_HEADER = 'month,public_sector,category,code,name,measure,customers,last,peak';
const KINDS = ['anonymised', 'partner', 'snapshots', 'manifest'];
const RUN_TIMEOUT_MS = 30_000;

const { step, pageErrors, newPage, run } = createHarness({ stepTimeoutMs: 20_000, screenshotPrefix: 'exports-' });

const squash = (s) => (s ?? '').replace(/\s+/g, ' ').trim();
const month = new Date().toISOString().slice(0, 7); // the current month (UTC): today's snapshot is in it
const nextMonth = (() => {
  const d = new Date();
  const n = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
  return n.toISOString().slice(0, 7);
})();
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const monthLabel = (m) => `${MONTHS[Number(m.slice(5, 7)) - 1]} ${m.slice(0, 4)}`;

/** Makes sure Contoso Dental exists, is synced and has today's snapshot (Refresh); returns its id. */
async function ensureSnapshot(page) {
  const list = await api(page, 'GET', '/api/v1/customers?limit=200');
  assert(list.status === 200, `GET customers: HTTP ${list.status}`);
  let cust = list.body.items.find((c) => c.name === CUSTOMER);
  if (!cust) {
    const made = await api(page, 'POST', '/api/v1/customers', { name: CUSTOMER, tenantId: TENANT });
    assert(made.status === 201, `add ${CUSTOMER}: HTTP ${made.status} ${JSON.stringify(made.body)}`);
    cust = made.body;
    console.log(`     added ${CUSTOMER}`);
  }
  const id = encodeURIComponent(cust.id);
  if (cust.sync?.status !== 'ok') {
    const s = await api(page, 'POST', `/api/v1/customers/${id}/sync`);
    assert(s.status === 202, `sync ${CUSTOMER}: HTTP ${s.status}`);
    const st = await until(async () => {
      const c = await api(page, 'GET', `/api/v1/customers/${id}`);
      const v = c.body?.sync?.status;
      return v === 'ok' || v === 'failed' ? v : null;
    }, SYNC_TIMEOUT_MS, `the sync of ${CUSTOMER}`);
    assert(st === 'ok', `the sync of ${CUSTOMER} failed`);
    console.log(`     synced ${CUSTOMER}`);
  }
  const snap = await api(page, 'POST', `/api/v1/customers/${id}/snapshots`);
  assert(snap.status === 200, `Refresh ${CUSTOMER}: HTTP ${snap.status} ${JSON.stringify(snap.body)}`);
  return cust.id;
}

/** The month's card. */
const card = (page, m = month) => page.locator(`section.export-month[data-month="${m}"]`);

/** Waits until the month's card shows a run queued or running, then until it is done (the done message); returns what was seen. */
async function watchRun(page, before) {
  const c = card(page);
  const badge = c.locator('[data-export-status]');
  const seen = new Set();
  let progress = '';
  const done = await until(async () => {
    const s = await badge.getAttribute('data-export-status').catch(() => null);
    if (s) seen.add(s);
    if (s === 'queued' || s === 'running') {
      const t = await c.locator('[data-testid="export-progress-text"]').textContent().catch(() => '');
      if (t) progress = squash(t);
    }
    if (s === 'failed' || s === 'stalled') throw new Error(`the run ended ${s}: ${squash(await c.textContent())}`);
    const manifestRun = await c.getAttribute('data-manifest-run-id');
    return (await c.locator('[data-testid="export-done"]').count()) > 0 && manifestRun !== before ? manifestRun : null;
  }, RUN_TIMEOUT_MS, `the export of ${month} to be done`);
  assert(seen.has('queued') || seen.has('running'), `the card never showed the run going (saw ${[...seen].join(', ')})`);
  assert(seen.has('succeeded'), `the card did not end succeeded (saw ${[...seen].join(', ')})`);
  return { manifestRun: done, seen: [...seen], progress };
}

/** The files of the month's card: kind → {name, size, sha}. */
async function files(page) {
  const rows = await card(page).getByRole('table', { name: `Files of ${monthLabel(month)}` }).locator('tbody tr[data-kind]').evaluateAll((trs) =>
    trs.map((tr) => ({
      kind: tr.getAttribute('data-kind'),
      name: tr.getAttribute('data-name'),
      size: Number(tr.querySelector('[data-size]')?.getAttribute('data-size')),
      sha: tr.querySelector('code[data-sha256]')?.getAttribute('data-sha256') ?? '',
      shaText: tr.querySelector('code[data-sha256]')?.textContent ?? '',
    })),
  );
  return rows;
}

async function main() {
  const browser = await launchBrowser();
  let { context, page } = await newPage(browser);
  let firstRun = '';
  let anon = null;

  try {
    await step(page, 'sign in as provider-admin', () => signIn(page, 'provider-admin', 'E2E Exports Admin'));

    await step(page, `${CUSTOMER} has today’s snapshot`, async () => {
      await ensureSnapshot(page);
    }, SYNC_TIMEOUT_MS + 10_000);

    await step(page, 'Exports is in the nav; the page lists the months', async () => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Exports', exact: true }).click();
      await page.waitForURL(/#\/exports$/);
      await page.getByRole('heading', { name: 'Exports', level: 1 }).waitFor();
      await until(async () => (await page.locator('[data-testid="exports-list"]').getAttribute('aria-busy')) === 'false', 10_000, 'the months to load');
      await page.getByRole('form', { name: 'Export a past month' }).waitFor();
      // A marker that a reload would drop: the run is followed without one.
      await page.evaluate(() => {
        window.__noReload = true;
      });
    });

    await step(page, 'a month in the future is refused at the field', async () => {
      const form = page.getByRole('form', { name: 'Export a past month' });
      await form.getByLabel('Month', { exact: true }).fill(nextMonth);
      await form.getByRole('button', { name: 'Export…' }).click();
      await page.locator('#export-month-error').getByText(`${monthLabel(nextMonth)} has not started yet.`).waitFor();
      assert((await page.locator('dialog[open]').count()) === 0, 'a dialog opened for a future month');
    });

    await step(page, `export ${monthLabel(month)} with the month picker: confirm, then queued → done without a reload`, async () => {
      const before = (await card(page).count()) > 0 ? await card(page).getAttribute('data-manifest-run-id') : '';
      const form = page.getByRole('form', { name: 'Export a past month' });
      await form.getByLabel('Month', { exact: true }).fill(month);
      await form.getByRole('button', { name: 'Export…' }).click();
      const dialog = page.locator('dialog[open]');
      const confirm = squash(await dialog.locator('[data-testid="export-confirm"]').textContent());
      assert(confirm.includes(monthLabel(month)), `the confirmation says: ${confirm}`);
      await dialog.getByRole('button', { name: before ? 'Re-run' : 'Export', exact: true }).click();
      await dialog.waitFor({ state: 'detached' });
      const r = await watchRun(page, before);
      firstRun = r.manifestRun;
      assert(await page.evaluate(() => window.__noReload === true), 'the page was reloaded');
      console.log(`     ${month}: ${r.seen.join(' → ')}${r.progress ? ` (${r.progress})` : ''}; manifest of run ${firstRun}`);
    }, RUN_TIMEOUT_MS + 10_000);

    await step(page, 'the month’s four files with their sizes and SHA-256 sums; the facts of the manifest', async () => {
      const fs = await files(page);
      assert(JSON.stringify(fs.map((f) => f.kind)) === JSON.stringify(KINDS), `files: ${JSON.stringify(fs)}`);
      for (const f of fs) {
        assert(f.size > 0, `${f.name}: size ${f.size}`);
        assert(/^[0-9a-f]{64}$/.test(f.sha), `${f.name}: SHA-256 ${f.sha}`);
        assert(f.shaText === `${f.sha.slice(0, 8)}…${f.sha.slice(-4)}`, `${f.name}: shown as ${f.shaText}`);
      }
      assert(fs[0].name === `seatwise-usage-${month}-anonymised.csv`, `anonymised file: ${fs[0].name}`);
      const c = card(page);
      const version = squash(await c.locator('[data-testid="software-version"]').textContent());
      assert(version !== '' && version !== '—', `software version: ${version}`);
      const range = squash(await c.locator('[data-testid="data-range"]').textContent());
      assert(range.includes(new Date().toISOString().slice(0, 10)), `the data range does not reach today: ${range}`);
      // Newest month first.
      const order = await page.locator('section.export-month').evaluateAll((els) => els.map((e) => e.getAttribute('data-month')));
      assert(JSON.stringify(order) === JSON.stringify([...order].sort().reverse()), `months not newest first: ${order}`);
    });

    await step(page, 'copy a SHA-256', async () => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE_URL });
      const [f] = await files(page);
      await card(page).getByRole('button', { name: `Copy the SHA-256 of ${f.name}` }).click();
      await card(page).locator(`tr[data-kind="anonymised"] .copy-note`).getByText('Copied').waitFor();
      const clip = await page.evaluate(() => navigator.clipboard.readText());
      assert(clip === f.sha, `the clipboard holds ${clip}`);
    });

    await step(page, 'Re-run the month from its card: the progress, then the new manifest', async () => {
      const c = card(page);
      await c.getByRole('button', { name: 'Re-run…', exact: true }).click();
      const dialog = page.locator('dialog[open]');
      const confirm = squash(await dialog.locator('[data-testid="export-confirm"]').textContent());
      assert(/replace the current ones as a whole/.test(confirm), `the confirmation says: ${confirm}`);
      await dialog.getByRole('button', { name: 'Re-run', exact: true }).click();
      await dialog.waitFor({ state: 'detached' });
      // While it goes: the progress card, and Re-run disabled.
      await until(async () => (await c.getAttribute('data-active')) === 'true' || (await c.locator('[data-testid="export-done"]').count()) > 0, 5_000, 'the run to show');
      const r = await watchRun(page, firstRun);
      assert(r.manifestRun && r.manifestRun !== firstRun, `the manifest is still run ${r.manifestRun}`);
      assert(await c.getByRole('button', { name: 'Re-run…', exact: true }).isEnabled(), 'Re-run stays disabled');
      assert(await page.evaluate(() => window.__noReload === true), 'the page was reloaded');
      console.log(`     re-run: ${r.seen.join(' → ')}${r.progress ? ` (${r.progress})` : ''}; manifest of run ${r.manifestRun}`);
    }, RUN_TIMEOUT_MS + 10_000);

    await step(page, 'download the anonymised CSV through its presigned URL: a BOM, the header, no customer name', async () => {
      const [f] = await files(page);
      const urlResponse = page.waitForResponse((r) => r.url().includes(`/api/v1/exports/${month}/files/${encodeURIComponent(f.name)}/url`));
      const download = page.waitForEvent('download', { timeout: 10_000 });
      await card(page).getByRole('button', { name: `Download ${f.name}` }).click();
      const res = await urlResponse;
      assert(res.status() === 200, `the URL: HTTP ${res.status()}`);
      const d = await res.json();
      assert(/^https?:\/\//.test(d.url) && !d.url.startsWith(BASE_URL), `not a presigned URL of the bucket: ${d.url}`);
      assert(new Date(d.expiresAt).getTime() > Date.now(), `expired link: ${d.expiresAt}`);
      const dl = await download;
      assert(dl.suggestedFilename().endsWith('.csv'), `the browser saves ${dl.suggestedFilename()}`);
      const saved = await readFile(await dl.path());
      // The URL itself, without the API token.
      const r = await fetch(d.url);
      assert(r.ok, `the presigned GET: HTTP ${r.status}`);
      const body = Buffer.from(await r.arrayBuffer());
      assert(body.equals(saved), 'the browser saved other bytes than the URL serves');
      const sha = createHash('sha256').update(body).digest('hex');
      assert(sha === f.sha, `SHA-256 ${sha}, the page says ${f.sha}`);
      assert(body.length === f.size, `size ${body.length}, the page says ${f.size}`);
      assert(body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf, 'no UTF-8 BOM');
      const text = body.toString('utf8').slice(1);
      assert(text.startsWith(`${ANON_HEADER}\r\n`), `header: ${JSON.stringify(text.slice(0, 120))}`);
      assert(text.split('\r\n').filter((l) => l !== '').length > 1, 'no data rows');
      assert(!/contoso/i.test(text), 'the anonymised file names Contoso');
      await card(page).locator('[data-testid="export-download"]').waitFor();
      anon = { name: f.name, bytes: body.length };
      console.log(`     ${f.name}: ${body.length} bytes, SHA-256 ${sha.slice(0, 12)}…`);
    });

    await step(page, 'no uncaught errors in the page (admin)', async () => {
      assert(anon !== null, 'nothing downloaded');
      assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
    });

    // ---- A viewer and a customer admin: no Exports, and no control on the page.
    for (const [role, name] of [
      ['viewer', 'E2E Exports Viewer'],
      ['customer-admin', 'E2E Exports Customer Admin'],
    ]) {
      await context.close();
      ({ context, page } = await newPage(browser));
      await step(page, `sign in as ${role}`, () => signIn(page, role, name));
      await step(page, `a ${role}: no Exports in the nav, the page without controls`, async () => {
        const nav = page.getByRole('navigation', { name: 'Main' });
        await nav.getByRole('link', { name: 'Customers', exact: true }).waitFor();
        assert((await nav.getByRole('link', { name: 'Exports', exact: true }).count()) === 0, `a ${role} sees Exports in the nav`);
        await page.goto(`${BASE_URL}/#/exports`);
        await page.getByRole('heading', { name: 'Exports', level: 1 }).waitFor();
        await page.locator('[data-testid="exports-not-allowed"]').waitFor();
        for (const label of ['Export…', 'Re-run…']) {
          assert((await page.getByRole('button', { name: label, exact: true }).count()) === 0, `a ${role} sees "${label}"`);
        }
        assert((await page.getByRole('button', { name: /^Download / }).count()) === 0, `a ${role} sees Download`);
        assert((await page.locator('input[type="month"], section.export-month').count()) === 0, `a ${role} sees the months`);
        // The API refuses too.
        const r = await api(page, 'GET', '/api/v1/exports');
        assert(r.status === 403, `GET /exports as ${role}: HTTP ${r.status}`);
      });
    }

    await step(page, 'no uncaught errors in the page (viewer, customer admin)', async () => {
      assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
    });
  } finally {
    await browser.close().catch(() => {});
  }
}

await run(main);
