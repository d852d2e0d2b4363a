// Browser test of mass configuration by CSV (issue 9), through the UI, in headless Chromium: as provider-admin, on
// Contoso Dental (added and synced here, or reused when the earlier scripts did), open the Bulk upload tab, download
// the sample; build a CSV from the customer's real users (read through the API with the page's token) that gives a
// licence with free seats to a few users, plus a row of an unknown user and a row with an unknown licence; drop it on
// the drop zone: the job page lists the problems with their row and column, and "apply only the valid rows" says
// how many rows are skipped (not started). Upload the fixed file through "Upload a fixed file": the preview shows
// each user's licence added and the totals per licence; Start, watch the progress bar to 100% without a page reload,
// see the summary and the per-row results, download the results CSV (a row per user), then give the seats back
// through the API (so that the test can run again on the same stack). Both uploads are in the list
// of previous uploads; a third upload is discarded; a file over 5 MB goes through a presigned URL of the bucket. Then as a viewer: the tab, the list and a job's page without a single upload, start or cancel
// control.
//
//   BASE_URL=http://127.0.0.1:8080 node e2e/bulk.mjs
//
// Needs a local stack (the dev runner) with the Graph simulator's Contoso Dental tenant. Each step is bounded by a
// timeout; steps depend on each other, so after the first failure the rest are skipped. On failure a screenshot goes
// to e2e/artifacts/. Prints "N passed, N failed" and exits non-zero on any failure.
//
// Env: BASE_URL (default http://127.0.0.1:8080), CHROMIUM (default /usr/bin/chromium),
// SYNC_TIMEOUT_MS (default 30000), E2E_SCREENSHOTS=1 (also save a screenshot after every step).

import { readFile } from 'node:fs/promises';
import { BASE_URL, SYNC_TIMEOUT_MS, api, assert, createHarness, launchBrowser, openSyncedCustomer, signIn, until } from './harness.mjs';

const CUSTOMER = 'Contoso Dental';
const TENANT = '7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11';
const SPB = 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46'; // Microsoft 365 Business Premium
/** Licences the file may give, in order of preference: base licences that need no other. */
const GIVE = ['SPB', 'EXCHANGESTANDARD', 'ENTERPRISEPACK'];
/** How many users the fixed file configures (fewer when fewer seats are free). */
const USERS = 4;
const UNKNOWN_UPN = 'nobody.e2e-bulk@contosodental.onmicrosoft.com';
const UNKNOWN_SKU = 'NOT_A_REAL_SKU_E2E';

const { step, pageErrors, newPage, run } = createHarness({ stepTimeoutMs: 20_000, screenshotPrefix: 'bulk-' });

const squash = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

/** Every user of the customer, through the paged list. */
async function allUsers(page, customerId) {
  const out = [];
  let cursor = '';
  for (let i = 0; i < 50; i++) {
    const r = await api(page, 'GET', `/api/v1/customers/${encodeURIComponent(customerId)}/users?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert(r.status === 200, `GET users: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    out.push(...r.body.items);
    cursor = r.body.nextCursor;
    if (!cursor) break;
  }
  return out;
}

/** A CSV cell, quoted when it holds a delimiter or a quote. */
const cell = (v) => (/[",;\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const csv = (rows) => `${rows.map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;

/**
 * A row giving user the licence `give` on top of the licences they hold directly, each held licence keeping its
 * switched-off plans (the licences cell is the full set of direct licences; add-ons become exactly the plans off).
 */
function rowFor(user, give) {
  const direct = (user.licences ?? []).filter((l) => l.direct);
  const licences = [...direct.map((l) => l.partNumber || l.skuId), give];
  const addOns = direct.flatMap((l) => (l.plans ?? []).filter((p) => !p.enabled).map((p) => `${l.partNumber || l.skuId}:${p.name}=off`));
  return [user.userPrincipalName, licences.join(';'), addOns.join(';')];
}

/** Drops a file on an element, as a user dragging it from the desktop would. */
async function dropFile(page, selector, name, text) {
  await page.evaluate(
    ({ selector, name, text }) => {
      const el = document.querySelector(selector);
      if (!el) throw new Error(`no ${selector}`);
      const dt = new DataTransfer();
      dt.items.add(new File([text], name, { type: 'text/csv' }));
      el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { selector, name, text },
  );
}

/** The job id of the job page shown. */
async function jobIdOf(page) {
  await page.waitForURL(/\/bulk\/[^/]+$/);
  return decodeURIComponent(page.url().split('/bulk/')[1] ?? '');
}

async function main() {
  const browser = await launchBrowser();
  let { context, page } = await newPage(browser);

  let customerHref = '';
  let customerId = '';
  let give = ''; // the part number the file gives
  let giveSku = ''; // and its skuId
  let users = []; // the users the fixed file configures
  let spare = null; // a real user of the first file's unknown-licence row
  let badJob = '';
  let goodJob = '';
  let badFile = '';
  let goodFile = '';

  try {
    await step(page, 'sign in as provider-admin', () => signIn(page, 'provider-admin', 'E2E Bulk Admin'));

    await step(page, `${CUSTOMER} exists and is synced (added and synced when missing)`, async () => {
      customerHref = await openSyncedCustomer(page, CUSTOMER, TENANT);
      customerId = decodeURIComponent(customerHref.split('/')[2] ?? '');
    }, SYNC_TIMEOUT_MS + 15_000);

    await step(page, 'build the files from the customer’s users: a licence with free seats for a few users', async () => {
      const skus = await api(page, 'GET', `/api/v1/customers/${encodeURIComponent(customerId)}/skus`);
      assert(skus.status === 200, `GET skus: HTTP ${skus.status}`);
      const all = await allUsers(page, customerId);
      const candidatesFor = (part) => {
        const sku = skus.body.items.find((s) => s.partNumber === part);
        if (!sku) return null;
        const us = all
          .filter((u) => u.status === 'active' && u.accountEnabled && !u.hasErrors && u.usageLocation)
          .filter((u) => !(u.licences ?? []).some((l) => l.skuId === sku.skuId || /Rooms/i.test(l.partNumber)))
          .sort((a, b) => (a.licences ?? []).filter((l) => l.direct).length - (b.licences ?? []).filter((l) => l.direct).length || a.userPrincipalName.localeCompare(b.userPrincipalName));
        return { sku, users: us, n: Math.min(USERS, sku.available, us.length - 1) };
      };
      const pick = GIVE.map(candidatesFor).filter((c) => c && c.n >= 2).sort((a, b) => b.n - a.n)[0];
      assert(pick, `no licence with 2 free seats and users without it: ${JSON.stringify(skus.body.items.map((s) => [s.partNumber, s.available]))}`);
      give = pick.sku.partNumber;
      giveSku = pick.sku.skuId;
      users = pick.users.slice(0, pick.n);
      spare = users[users.length - 1];
      const header = ['userPrincipalName', 'licences', 'addOns'];
      // The first file: every user but the last with the licence, an unknown user, and the last user with an
      // unknown licence. The fixed file: every user with the licence.
      const first = [header, ...users.slice(0, -1).map((u) => rowFor(u, give)), [UNKNOWN_UPN, give, ''], [spare.userPrincipalName, UNKNOWN_SKU, '']];
      badFile = csv(first);
      goodFile = csv([header, ...users.map((u) => rowFor(u, give))]);
      console.log(`     ${give}: ${pick.sku.available} free; users ${users.map((u) => u.userPrincipalName).join(', ')}`);
    });

    await step(page, 'the Bulk upload tab: the sample CSV downloads', async () => {
      await page.getByRole('navigation', { name: 'Customer sections' }).getByRole('link', { name: 'Bulk upload', exact: true }).click();
      await page.waitForURL(/\/bulk$/);
      await page.getByRole('heading', { name: 'Bulk upload', level: 2 }).waitFor();
      await page.getByRole('table', { name: 'Previous uploads' }).waitFor();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the sample CSV' }).click()]);
      assert(download.suggestedFilename() === 'seatwise-bulk-sample.csv', `sample named ${download.suggestedFilename()}`);
      const text = (await readFile(await download.path(), 'utf8')).replace(/^\uFEFF/, '');
      assert(text.startsWith('userPrincipalName,licences,addOns,number,extension,site,template'), `sample starts with ${JSON.stringify(text.slice(0, 80))}`);
    });

    await step(page, 'drop a file with errors: the problems with row and column, nothing applied', async () => {
      await dropFile(page, '[data-testid="dropzone"]', 'e2e-users.csv', badFile);
      badJob = await jobIdOf(page);
      await page.locator('[data-bulk-status="invalid"]').waitFor();
      const problems = page.getByRole('table', { name: 'Problems' });
      const unknownUserRow = users.length + 1; // header is row 1, then users.length - 1 rows, then the unknown user
      const unknownSkuRow = users.length + 2;
      const userProblem = problems.locator(`tbody tr[data-row="${unknownUserRow}"][data-column="userPrincipalName"]`);
      const skuProblem = problems.locator(`tbody tr[data-row="${unknownSkuRow}"][data-column="licences"]`);
      await userProblem.waitFor();
      await skuProblem.waitFor();
      const userText = squash(await userProblem.textContent());
      assert(userText.includes(UNKNOWN_UPN) && /not a user of/.test(userText), `unknown user problem: ${userText}`);
      const skuText = squash(await skuProblem.textContent());
      assert(skuText.includes(UNKNOWN_SKU), `unknown licence problem: ${skuText}`);
      const n = await problems.locator('tbody tr[data-row]').count();
      assert(n === 2, `expected 2 problems, got ${n}: ${squash(await problems.locator('tbody').textContent())}`);
      const summary = squash(await page.locator('[data-testid="problems-summary"]').textContent());
      assert(/2 problems in 2 rows\. Nothing is applied while problems remain/.test(summary), `summary: ${summary}`);
      // The preview marks the two rows; Start is not offered, only the valid rows.
      await page.getByRole('table', { name: 'Preview' }).locator(`tr[data-row="${unknownUserRow}"][data-valid="false"]`).waitFor();
      assert((await page.getByRole('button', { name: /^Start/ }).count()) === 0, 'Start is offered for a file with problems');
    });

    await step(page, '“apply only the valid rows” says how many rows are skipped (and is not started)', async () => {
      const valid = users.length - 1;
      await page.getByRole('button', { name: `Apply only the ${valid} valid ${valid === 1 ? 'row' : 'rows'}…` }).click();
      const text = squash(await page.locator('[data-testid="start-confirm"]').textContent());
      assert(text.includes(`Apply only the ${valid} ${valid === 1 ? 'row' : 'rows'} without problems`) && text.includes('2 rows with 2 problems are skipped'), `confirmation: ${text}`);
      await page.getByRole('dialog').getByRole('button', { name: 'Back' }).click();
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      const st = await api(page, 'GET', `/api/v1/customers/${encodeURIComponent(customerId)}/bulk/${encodeURIComponent(badJob)}`);
      assert(st.body.status === 'invalid', `the job is ${st.body.status}`);
    });

    await step(page, 'upload the fixed file: the preview per user and the totals per licence', async () => {
      await page.locator('.bulk-fix input[type="file"]').setInputFiles({ name: 'e2e-users-fixed.csv', mimeType: 'text/csv', buffer: Buffer.from(goodFile) });
      await until(async () => page.url().includes('/bulk/') && !page.url().endsWith(`/bulk/${encodeURIComponent(badJob)}`), 15_000, 'the new job page');
      goodJob = await jobIdOf(page);
      await page.locator('[data-bulk-status="validated"]').waitFor();
      assert((await page.locator('[data-testid="bulk-problems"]').count()) === 0, 'problems shown for the fixed file');
      const preview = page.getByRole('table', { name: 'Preview' });
      await preview.locator('tbody tr[data-row]').first().waitFor();
      for (const u of users) {
        const row = preview.locator(`tbody tr[data-upn="${u.userPrincipalName}"]`);
        await row.waitFor();
        assert((await row.getAttribute('data-valid')) === 'true', `${u.userPrincipalName} is not valid`);
        const added = squash(await row.locator('[data-change="add"]').textContent());
        assert(added.startsWith('+ '), `${u.userPrincipalName}: ${added}`);
      }
      const seats = page.getByRole('table', { name: 'Licence totals' });
      const seatRow = seats.locator(`tbody tr[data-sku-id="${giveSku}"]`);
      await seatRow.waitFor();
      assert((await seatRow.getAttribute('data-short')) === '0', 'seats short');
      const cells = await seatRow.locator('td').allTextContents();
      assert(Number(cells[0]) === users.length, `seats needed ${cells[0]}, expected ${users.length}`);
    });

    await step(page, 'Start: the progress bar runs to 100% without a page reload', async () => {
      await page.evaluate(() => {
        window.__bulkNoReload = true;
      });
      await page.getByRole('button', { name: `Start: apply ${users.length} rows` }).click();
      const text = squash(await page.locator('[data-testid="start-confirm"]').textContent());
      assert(text.startsWith(`Apply e2e-users-fixed.csv to ${users.length} rows?`), `confirmation: ${text}`);
      await page.getByRole('dialog').getByRole('button', { name: 'Start', exact: true }).click();
      const bar = page.locator('[data-testid="bulk-progress"]');
      await bar.waitFor();
      const seen = [];
      const end = await until(async () => {
        const [status, percent, done, failed, total] = await Promise.all(['status', 'percent', 'done', 'failed', 'total'].map((k) => bar.getAttribute(`data-${k}`)));
        if (seen.at(-1) !== `${status} ${percent}%`) seen.push(`${status} ${percent}%`);
        return status === 'completed' || status === 'failed' || status === 'cancelled' ? { status, percent: Number(percent), done: Number(done), failed: Number(failed), total: Number(total) } : null;
      }, 60_000, 'the job to end');
      console.log(`     progress: ${seen.join(' → ')}`);
      assert(end.status === 'completed', `the job ended ${end.status}`);
      assert(end.percent === 100 && end.total === users.length && end.done + end.failed === users.length, `final progress ${JSON.stringify(end)}`);
      assert(end.failed === 0, `${end.failed} rows failed`);
      assert(Number(await page.getByRole('progressbar').getAttribute('aria-valuenow')) === 100, 'the bar is not full');
      assert(await page.evaluate(() => window.__bulkNoReload === true), 'the page was reloaded');
      const summary = squash(await page.locator('[data-testid="bulk-summary"]').textContent());
      assert(summary.startsWith(`Done: ${users.length} rows applied.`), `summary: ${summary}`);
      assert((await page.getByRole('button', { name: 'Cancel…' }).count()) === 0, 'Cancel is offered for a job that ended');
    }, 75_000);

    await step(page, 'the results per row, and the results CSV with a row per user', async () => {
      const results = page.getByRole('table', { name: 'Results' });
      for (const u of users) {
        const row = results.locator(`tbody tr[data-upn="${u.userPrincipalName}"]`);
        await row.waitFor();
        const outcome = await row.getAttribute('data-outcome');
        assert(['ok', 'staged', 'unchanged'].includes(outcome), `${u.userPrincipalName}: ${outcome}`);
      }
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download results (CSV)' }).click()]);
      assert(download.suggestedFilename() === 'e2e-users-fixed-results.csv', `results named ${download.suggestedFilename()}`);
      const raw = await readFile(await download.path(), 'utf8');
      assert(raw.startsWith('\uFEFF'), 'the results have no byte order mark');
      const lines = raw.replace(/^\uFEFF/, '').split(/\r\n/).filter((l) => l !== '');
      assert(lines[0] === 'row,userPrincipalName,outcome,changes,error', `header: ${lines[0]}`);
      assert(lines.length === users.length + 1, `${lines.length - 1} result rows for ${users.length} users`);
      for (const u of users) {
        const line = lines.find((l) => l.split(',')[1] === u.userPrincipalName);
        assert(line, `no result row for ${u.userPrincipalName}`);
        assert(/^\d+,[^,]+,(ok|staged|unchanged),/.test(line), `result row: ${line}`);
      }
    });

    await step(page, 'give the seats back (through the API), so that the test can run again', async () => {
      for (const u of users) {
        const r = await api(page, 'DELETE', `/api/v1/customers/${encodeURIComponent(customerId)}/users/${encodeURIComponent(u.id)}/licences/${encodeURIComponent(giveSku)}`);
        assert(r.status === 200, `remove ${give} from ${u.userPrincipalName}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      }
    });

    await step(page, 'both uploads are in the list of previous uploads', async () => {
      await page.getByRole('link', { name: '← All uploads' }).click();
      await page.waitForURL(/\/bulk$/);
      const list = page.getByRole('table', { name: 'Previous uploads' });
      await list.locator(`tr[data-job-id="${goodJob}"][data-status="completed"]`).waitFor();
      await list.locator(`tr[data-job-id="${badJob}"][data-status="invalid"]`).waitFor();
    });

    await step(page, 'discard an upload: confirmed, then it can no longer be started', async () => {
      await dropFile(page, '[data-testid="dropzone"]', 'e2e-users.csv', badFile);
      await until(async () => /\/bulk\/[^/]+$/.test(page.url()), 15_000, 'the new job page');
      const job = await jobIdOf(page);
      await page.locator('[data-bulk-status="invalid"]').waitFor();
      await page.getByRole('button', { name: 'Discard…' }).click();
      const text = squash(await page.locator('[data-testid="cancel-confirm"]').textContent());
      assert(text.startsWith('Discard e2e-users.csv? Nothing of it was applied'), `confirmation: ${text}`);
      await page.getByRole('dialog').getByRole('button', { name: 'Discard', exact: true }).click();
      await page.locator('[data-bulk-status="cancelled"]').waitFor();
      const summary = squash(await page.locator('[data-testid="bulk-summary"]').textContent());
      assert(summary.startsWith('Discarded by'), `summary: ${summary}`);
      assert((await page.getByRole('button', { name: /^(Apply only|Start|Discard)/ }).count()) === 0, 'a discarded upload can be started');
      const st = await api(page, 'GET', `/api/v1/customers/${encodeURIComponent(customerId)}/bulk/${encodeURIComponent(job)}`);
      assert(st.body.status === 'cancelled' && st.body.applied === 0, `the job is ${JSON.stringify(st.body.status)}`);
    });

    await step(page, 'a file over 5 MB goes to a presigned URL of the bucket, then is validated from there', async () => {
      await page.getByRole('link', { name: '← All uploads' }).click();
      await page.waitForURL(/\/bulk$/);
      const rows = ['userPrincipalName,site'];
      for (let i = 0; rows.length <= 22_000; i++) rows.push(`e2e.big.${i}@contosodental.onmicrosoft.com,${'Site '.repeat(50)}`);
      const big = Buffer.from(`${rows.join('\r\n')}\r\n`);
      assert(big.length > 5 * 1024 * 1024, `the big file is ${big.length} bytes`);
      const seen = [];
      const onRequest = (r) => {
        if (!r.url().includes('/assets/')) seen.push(`${r.method()} ${r.url().startsWith(BASE_URL) ? r.url().slice(BASE_URL.length).replace(/\?.*$/, '') : 'bucket'}`);
      };
      page.on('request', onRequest);
      try {
        await page.locator('[data-testid="dropzone"] input[type="file"]').setInputFiles({ name: 'e2e-big.csv', mimeType: 'text/csv', buffer: big });
        await until(async () => /\/bulk\/[^/]+$/.test(page.url()), 30_000, 'the big file’s job page');
        await page.locator('[data-bulk-status="invalid"]').waitFor();
      } finally {
        page.off('request', onRequest);
      }
      const bulk = `/api/v1/customers/${encodeURIComponent(customerId)}/bulk`;
      const steps = seen.filter((r) => r.startsWith('PUT bucket') || r.startsWith(`POST ${bulk}`));
      assert(JSON.stringify(steps) === JSON.stringify([`POST ${bulk}/upload-url`, 'PUT bucket', `POST ${bulk}/from-upload`]), `requests: ${JSON.stringify(steps)}`);
      const summary = squash(await page.locator('[data-testid="problems-summary"]').textContent());
      assert(summary.includes('in 22,000 rows'), `summary: ${summary}`);
    }, 45_000);

    await step(page, 'no uncaught errors in the page (admin)', async () => {
      assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
    });

    // ---- A viewer reads the jobs and cannot upload, start or cancel.
    await context.close();
    ({ context, page } = await newPage(browser));

    await step(page, 'sign in as viewer', () => signIn(page, 'viewer', 'E2E Viewer'));

    await step(page, 'a viewer: the Bulk upload tab without upload controls', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/bulk`);
      await page.getByRole('table', { name: 'Previous uploads' }).locator(`tr[data-job-id="${goodJob}"]`).waitFor();
      await page.locator('[data-testid="bulk-readonly"]').waitFor();
      assert((await page.locator('[data-testid="dropzone"], input[type="file"]').count()) === 0, 'a viewer gets an upload control');
      await page.getByRole('button', { name: 'Download the sample CSV' }).waitFor();
    });

    await step(page, 'a viewer: a job’s pages without start, cancel or a fixed file', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/bulk/${encodeURIComponent(badJob)}`);
      await page.getByRole('table', { name: 'Problems' }).locator('tbody tr[data-row]').first().waitFor();
      await page.getByRole('table', { name: 'Preview' }).locator('tbody tr[data-row]').first().waitFor();
      assert((await page.locator('[data-testid="dropzone"], input[type="file"]').count()) === 0, 'a viewer gets an upload control');
      assert((await page.getByRole('button', { name: /^(Apply only|Start|Discard|Cancel)/ }).count()) === 0, 'a viewer gets a start or discard button');
      await page.goto(`${BASE_URL}/${customerHref}/bulk/${encodeURIComponent(goodJob)}`);
      await page.getByRole('table', { name: 'Results' }).locator('tbody tr[data-row]').first().waitFor();
      await page.locator('[data-testid="bulk-summary"]').waitFor();
      assert((await page.getByRole('button', { name: /^(Start|Discard|Cancel)/ }).count()) === 0, 'a viewer gets a start or cancel button');
      await page.getByRole('button', { name: 'Download results (CSV)' }).waitFor();
    });

    await step(page, 'no uncaught errors in the page (viewer)', async () => {
      assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
    });
  } finally {
    await browser.close().catch(() => {});
  }
}

await run(main);
