// Browser test of the licence usage audit (issue 7), through the UI, in headless Chromium: as provider-admin, on
// Contoso Dental (added and synced here, or reused when e2e/slice.mjs already did), open the Usage tab and note the
// counts (licensed = the factors + unmatched), drill down into the users behind a count, Refresh (today's point in the
// history chart), add a factor rule at the top (licence SKU matches SPB) and Preview it (the counts change in the
// preview, not in the saved view), Save (the counts change), Refresh again (the chart's point for today shows the new
// factor, in the SVG and in its data table); a bad regular expression shows the server's error at its criterion row;
// a stale save says "changed by someone else" and reloads; enter acquired seats and an unused-seat threshold; the
// dashboard lists the resulting alert with a link that works, the history across customers and the provider's rules
// (previewed on the customer);
// reset the customer to the provider's rules. Then as a viewer: the Usage tab and the dashboard without a single edit
// control.
//
//   BASE_URL=http://127.0.0.1:8080 node e2e/usage.mjs
//
// Needs a local stack (the dev runner) with the Graph simulator's Contoso Dental tenant. Each step is bounded by a
// timeout; steps depend on each other, so after the first failure the rest are skipped. On failure a screenshot goes
// to e2e/artifacts/. Prints "N passed, N failed" and exits non-zero on any failure.
//
// Env: BASE_URL (default http://127.0.0.1:8080), CHROMIUM (default /usr/bin/chromium),
// SYNC_TIMEOUT_MS (default 30000), E2E_SCREENSHOTS=1 (also save a screenshot after every step).

import { BASE_URL, SYNC_TIMEOUT_MS, api, assert, createHarness, launchBrowser, openSyncedCustomer, signIn, until } from './harness.mjs';

const CUSTOMER = 'Contoso Dental';
const TENANT = '7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11';
const SPB = 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46'; // Microsoft 365 Business Premium: 42 of 50 seats used
const RULE = 'E2E Business Premium';

const { step, pageErrors, newPage, run } = createHarness({ stepTimeoutMs: 20_000, screenshotPrefix: 'usage-' });

const squash = (s) => (s ?? '').replace(/\s+/g, ' ').trim();
const today = () => new Date().toISOString().slice(0, 10);

/** The saved counts of the Usage tab's "Licence factors" table: rule id → {name, count}, and the stats. */
async function savedCounts(page) {
  const table = page.getByRole('table', { name: 'Licence factors' });
  await table.locator('tbody tr[data-rule-id="licensed"]').waitFor();
  const rows = await table.locator('tbody tr[data-rule-id]').evaluateAll((trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute('data-rule-id'),
      name: tr.querySelector('th')?.firstChild?.textContent?.trim() ?? '',
      count: Number(tr.querySelector('[data-count]')?.getAttribute('data-count')),
    })),
  );
  const by = Object.fromEntries(rows.map((r) => [r.id, r]));
  return { rows, by, licensed: by.licensed.count, unmatched: by.unmatched.count };
}

/** The preview table: rule id (or name) → {current, preview}. */
async function previewCounts(page) {
  const table = page.getByRole('table', { name: 'Preview of the counts' });
  await table.waitFor();
  const rows = await table.locator('tbody tr').evaluateAll((trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute('data-rule-id'),
      name: tr.querySelector('th')?.firstChild?.textContent?.trim() ?? '',
      current: tr.querySelector('[data-col="current"]')?.textContent?.trim() ?? '',
      preview: tr.querySelector('[data-col="preview"]')?.textContent?.trim() ?? '',
    })),
  );
  return rows;
}

const num = (s) => (s === '—' || s === '' ? null : Number(s.replace(/,/g, '').replace('−', '-')));

/** The chart's dot of a series on a date in a history card: its value, or null when there is none. */
async function chartValue(page, card, series, date) {
  const dot = page.locator(`[data-testid="${card}"] svg g[data-series="${series}"] circle[data-date="${date}"]`);
  if ((await dot.count()) === 0) return null;
  return Number(await dot.first().getAttribute('data-value'));
}

async function main() {
  const browser = await launchBrowser();
  let { context, page } = await newPage(browser);

  let customerHref = '';
  let customerId = '';
  let before = null; // saved counts before the change
  let preview = null;
  let ruleId = '';
  let ruleCount = 0;

  try {
    await step(page, 'sign in as provider-admin', () => signIn(page, 'provider-admin', 'E2E Usage Admin'));

    await step(page, `${CUSTOMER} exists and is synced (added and synced when missing)`, async () => {
      customerHref = await openSyncedCustomer(page, CUSTOMER, TENANT);
      customerId = decodeURIComponent(customerHref.split('/')[2] ?? '');
      // A run that stopped half-way may have left rules of the customer's own: start from the provider's.
      const r = await api(page, 'GET', `/api/v1/customers/${encodeURIComponent(customerId)}/factors`);
      assert(r.status === 200, `GET factors: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      if (r.body.scope === 'customer') {
        const d = await api(page, 'DELETE', `/api/v1/customers/${encodeURIComponent(customerId)}/factors?version=${r.body.version}`);
        assert(d.status === 200, `reset factors: HTTP ${d.status}`);
        console.log('     reset the rules a previous run left');
      }
    });

    await step(page, 'the Usage tab: acquired vs licensed, each factor’s count; licensed = factors + unmatched', async () => {
      await page.getByRole('navigation', { name: 'Customer sections' }).getByRole('link', { name: 'Usage', exact: true }).click();
      await page.waitForURL(/\/usage$/);
      before = await savedCounts(page);
      const factors = before.rows.filter((r) => r.id !== 'licensed' && r.id !== 'unmatched');
      assert(factors.length >= 5, `expected the five default factors, got ${JSON.stringify(before.rows)}`);
      assert(factors[0].name === 'Managed Users – Direct Routing', `first factor: ${factors[0].name}`);
      const sum = factors.reduce((n, r) => n + r.count, 0) + before.unmatched;
      assert(before.licensed > 0 && sum === before.licensed, `licensed ${before.licensed} ≠ factors + unmatched ${sum}`);
      const stat = squash(await page.locator('[data-testid="stat-licensed"] .stat-value').textContent());
      assert(Number(stat.replace(/,/g, '')) === before.licensed, `the Currently licensed stat says ${stat}`);
      await page.locator('[data-testid="stat-acquired"]').waitFor();
      await page.getByRole('table', { name: 'Acquired licences' }).locator(`tr[data-sku-id="${SPB}"]`).waitFor();
      await page.getByRole('table', { name: 'Usage by site' }).waitFor();
      await page.getByRole('heading', { name: 'Licence factor rules' }).waitFor();
      const scope = squash(await page.locator('[data-testid="rules-scope"]').textContent());
      assert(/uses the provider’s rules/.test(scope), `scope note: ${scope}`);
      console.log(`     licensed ${before.licensed}: ${factors.map((r) => `${r.name} ${r.count}`).join(', ')}, unmatched ${before.unmatched}`);
    });

    await step(page, 'drill down: the users behind a count, server-paged', async () => {
      const row = before.rows.find((r) => r.id !== 'licensed' && r.count > 0);
      assert(row, 'no count above 0 to drill into');
      await page.getByRole('table', { name: 'Licence factors' }).locator(`tr[data-rule-id="${row.id}"]`).getByRole('button', { name: `Show the ${row.count} users of ${row.name}` }).click();
      const users = page.getByRole('table', { name: `Users counted under ${row.name}` });
      await users.locator('tbody tr[data-user-id]').first().waitFor();
      const n = await users.locator('tbody tr[data-user-id]').count();
      assert(n === Math.min(row.count, 25), `the drill-down lists ${n} users for a count of ${row.count}`);
      if (row.count > 25) {
        await page.locator('.drill-card').getByRole('button', { name: 'Next' }).click();
        await until(async () => (await users.locator('tbody tr[data-user-id]').count()) === Math.min(row.count - 25, 25), 10_000, 'the next page of the drill-down');
      }
      const href = await users.locator('tbody tr[data-user-id] a').first().getAttribute('href');
      assert(href && href.startsWith(`${customerHref}/users/`), `a user links to ${href}`);
      await page.locator('.drill-card').getByRole('button', { name: 'Close' }).click();
      await users.waitFor({ state: 'detached' });
    });

    await step(page, 'Refresh takes today’s snapshot: the history chart shows today’s point', async () => {
      await page.getByRole('button', { name: 'Refresh', exact: true }).click();
      const result = squash(await page.locator('[data-testid="refresh-result"]').textContent());
      assert(result.includes(`Snapshot taken for ${today()}`), `refresh says: ${result}`);
      const v = await until(() => chartValue(page, 'usage-history-card', 'licensed', today()), 10_000, 'today’s point in the chart');
      assert(v === before.licensed, `the chart's licensed point for today is ${v}, not ${before.licensed}`);
      const svg = page.locator('[data-testid="usage-history-card"] svg[role="img"]');
      const labelled = await svg.getAttribute('aria-labelledby');
      assert(labelled && (await page.locator(`[id="${labelled.split(' ')[1]}"]`).count()) === 1, 'the chart has a <desc>');
    });

    await step(page, 'change a rule: add one at the top (licence SKU matches SPB)', async () => {
      const card = page.locator('[data-testid="rules-card"]');
      await card.getByRole('button', { name: 'Add rule', exact: true }).click();
      const last = card.locator('ol.rules > li.rule').last();
      await last.getByLabel('Name', { exact: true }).fill(RULE);
      await last.locator('select[data-criterion-field]').selectOption('sku');
      await last.locator('input[data-criterion-pattern]').fill('SPB');
      const total = await card.locator('ol.rules > li.rule').count();
      for (let i = total - 1; i > 0; i--) {
        await card.getByRole('button', { name: `Move rule ${i + 1} up`, exact: true }).click();
      }
      const first = card.locator('ol.rules > li.rule').first();
      assert((await first.getByLabel('Name', { exact: true }).inputValue()) === RULE, 'the new rule is not at the top');
      await card.getByText('Unsaved changes').waitFor();
    });

    await step(page, 'Preview: the counts change in the preview, not in the saved view', async () => {
      await page.locator('[data-testid="rules-card"]').getByRole('button', { name: 'Preview', exact: true }).click();
      preview = await previewCounts(page);
      const added = preview.find((r) => r.name === RULE);
      assert(added && added.current === '—' && num(added.preview) > 0, `the preview of the new rule: ${JSON.stringify(added)}`);
      ruleCount = num(added.preview);
      const lic = preview.find((r) => r.id === 'licensed');
      assert(num(lic.preview) === before.licensed && num(lic.current) === before.licensed, `licensed in the preview: ${JSON.stringify(lic)}`);
      const others = preview.filter((r) => r.id !== 'licensed' && r.name !== RULE);
      const moved = others.reduce((n, r) => n + (num(r.current) ?? 0) - (num(r.preview) ?? 0), 0);
      assert(moved === ruleCount, `the new rule counts ${ruleCount}, the others lost ${moved}`);
      const now = await savedCounts(page);
      assert(JSON.stringify(now.rows) === JSON.stringify(before.rows), 'the saved counts changed on Preview');
      console.log(`     preview: ${RULE} ${ruleCount}`);
    });

    await step(page, 'Save: the counts change', async () => {
      const card = page.locator('[data-testid="rules-card"]');
      await card.getByRole('button', { name: 'Save rules', exact: true }).click();
      await card.getByText(/Rules saved \(version \d+\)/).waitFor();
      const scope = squash(await page.locator('[data-testid="rules-scope"]').textContent());
      assert(/has rules of its own/.test(scope), `scope note after saving: ${scope}`);
      const after = await until(async () => {
        const c = await savedCounts(page);
        return c.rows.some((r) => r.name === RULE) ? c : null;
      }, 10_000, 'the saved counts to show the new rule');
      const row = after.rows.find((r) => r.name === RULE);
      ruleId = row.id;
      assert(after.rows[0].name === RULE, `the new rule is not counted first: ${after.rows[0].name}`);
      assert(row.count === ruleCount, `saved count ${row.count} ≠ preview ${ruleCount}`);
      for (const p of preview) {
        const id = p.id;
        if (p.name === RULE || !after.by[id]) continue;
        assert(after.by[id].count === num(p.preview), `${p.name}: saved ${after.by[id].count} ≠ preview ${p.preview}`);
      }
      assert(after.licensed === before.licensed, 'licensed changed');
    });

    await step(page, 'Refresh again: the history chart’s point for today shows the new factor', async () => {
      assert((await chartValue(page, 'usage-history-card', `factor:${ruleId}`, today())) === null, 'the chart had the new factor before the refresh');
      await page.getByRole('button', { name: 'Refresh', exact: true }).click();
      const v = await until(() => chartValue(page, 'usage-history-card', `factor:${ruleId}`, today()), 10_000, 'the new factor in the chart');
      assert(v === ruleCount, `the chart's point is ${v}, not ${ruleCount}`);
      const legend = page.locator('[data-testid="usage-history-card"] .chart-legend');
      await legend.getByText(RULE).waitFor();
      // The same numbers as a table.
      const toggle = page.locator('[data-testid="usage-history-card"] button[aria-controls="usage-history-table"]');
      assert(squash(await toggle.textContent()) === 'Show data table', `the toggle says ${await toggle.textContent()}`);
      await toggle.click();
      assert((await toggle.getAttribute('aria-expanded')) === 'true' && squash(await toggle.textContent()) === 'Hide data table', 'the toggle is not expanded');
      const cell = page.getByRole('table', { name: 'Usage history: data' }).locator(`tr[data-date="${today()}"] td[data-series="factor:${ruleId}"]`);
      assert(num(squash(await cell.textContent())) === ruleCount, `the data table says ${await cell.textContent()}`);
      // Ranges: 7 days and 12 months still show today's point.
      for (const range of ['7 days', '12 months']) {
        await page.locator('[data-testid="usage-history-card"]').getByRole('button', { name: range, exact: true }).click();
        await until(async () => (await page.locator('[data-testid="usage-history-card"] [data-range][aria-pressed="true"]').textContent()) === range, 5_000, `${range} pressed`);
        await until(() => chartValue(page, 'usage-history-card', `factor:${ruleId}`, today()), 10_000, `today's point over ${range}`);
      }
    });

    await step(page, 'a bad regular expression shows the server’s error at its row', async () => {
      const card = page.locator('[data-testid="rules-card"]');
      const first = card.locator('ol.rules > li.rule').first();
      await first.getByRole('button', { name: 'Add criterion', exact: true }).click();
      const row = first.locator('li.criterion-row').nth(1);
      await row.locator('input[data-criterion-pattern]').fill('Sales([');
      await card.getByRole('button', { name: 'Save rules', exact: true }).click();
      const err = card.locator('li.criterion-row[data-criterion="0.1"] .field-error');
      await err.waitFor();
      const text = squash(await err.textContent());
      assert(/regexp|regular expression|pattern|missing/i.test(text), `the row's error says: ${text}`);
      assert((await card.locator('input[data-criterion-pattern="0.1"]').getAttribute('aria-invalid')) === 'true', 'the pattern is not marked invalid');
      assert((await card.locator('li.criterion-row[data-criterion="0.0"] .field-error').textContent()) === '', 'the good row shows an error');
      await card.locator('.refusal [data-field="rules[0].criteria[1].pattern"]').waitFor();
      await card.getByRole('button', { name: 'Discard changes', exact: true }).click();
      await card.locator('li.criterion-row[data-criterion="0.1"]').waitFor({ state: 'detached' });
    });

    await step(page, 'a stale save says "changed by someone else — reload"', async () => {
      const card = page.locator('[data-testid="rules-card"]');
      // Someone else renames the rule meanwhile.
      const r = await api(page, 'GET', `/api/v1/customers/${encodeURIComponent(customerId)}/factors`);
      const rules = r.body.rules.map((x) => (x.id === ruleId ? { ...x, name: `${RULE} (renamed)` } : x));
      const put = await api(page, 'PUT', `/api/v1/customers/${encodeURIComponent(customerId)}/factors`, { rules, version: r.body.version });
      assert(put.status === 200, `someone else's save: HTTP ${put.status} ${JSON.stringify(put.body)}`);
      await card.locator('ol.rules > li.rule').nth(1).locator('input[data-rule-enabled]').uncheck();
      await card.getByRole('button', { name: 'Save rules', exact: true }).click();
      const stale = card.locator('.stale');
      await stale.waitFor();
      assert(/changed by someone else — reload/.test(squash(await stale.textContent())), `the notice says: ${await stale.textContent()}`);
      await stale.getByRole('button', { name: 'Reload' }).click();
      await card.getByText('Reloaded: these are the rules as saved now.').waitFor();
      assert((await card.locator('ol.rules > li.rule').first().getByLabel('Name', { exact: true }).inputValue()) === `${RULE} (renamed)`, 'not reloaded');
    });

    await step(page, 'acquired licences: enter seats and an unused-seat threshold', async () => {
      const form = page.getByRole('form', { name: 'Licence pool' });
      await form.locator(`input[data-acquired="${SPB}"]`).fill('45');
      await form.getByLabel('Unused-seat alert: seats available').fill('1');
      await form.getByLabel('for days').fill('1');
      await form.getByRole('button', { name: 'Save acquired licences' }).click();
      await page.getByText('Acquired licences saved.').waitFor();
      const inputs = await page.getByRole('form', { name: 'Licence pool' }).locator('input[data-acquired]').evaluateAll((xs) => xs.map((x) => Number(x.value || 0)));
      const sum = inputs.reduce((a, b) => a + b, 0);
      await until(async () => Number(squash(await page.locator('[data-testid="stat-acquired"] .stat-value').textContent()).replace(/,/g, '')) === sum, 10_000, `Acquired ${sum}`);
      // Today's snapshot and alerts with the new threshold: SPB has seats available.
      await page.getByRole('button', { name: 'Refresh', exact: true }).click();
      await page.locator('[data-testid="refresh-result"]').waitFor();
      await until(async () => (await page.getByRole('button', { name: 'Refresh', exact: true }).isEnabled()), 10_000, 'the refresh to finish');
    });

    await step(page, 'the dashboard lists the alert; its link opens what it is about', async () => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
      await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
      const alerts = page.getByRole('table', { name: 'Alerts' });
      const row = alerts.locator(`tr[data-kind="unused"][data-customer-id="${customerId}"]`).filter({ hasText: 'SPB' });
      await row.first().waitFor();
      const text = squash(await row.first().textContent());
      assert(/unused/i.test(text) && text.includes(CUSTOMER), `the alert reads: ${text}`);
      await page.locator('.alert-counts [data-kind="unused"]').waitFor();
      await row.first().getByRole('link', { name: 'Open licences' }).click();
      await page.waitForURL(new RegExp(`#/customers/${encodeURIComponent(customerId)}/licences$`));
      await page.getByRole('heading', { name: CUSTOMER, level: 1 }).waitFor();
      await page.getByRole('table', { name: 'Licences' }).locator(`tr[data-sku-id="${SPB}"]`).waitFor();
      // Every alert's link is one of the SPA's routes.
      await page.goBack();
      await alerts.locator('tbody tr[data-kind]').first().waitFor();
      const hrefs = await alerts.locator('a[data-alert-link]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      assert(hrefs.length > 0 && hrefs.every((h) => h.startsWith('#/customers/')), `alert links: ${hrefs.join(', ')}`);
    });

    await step(page, 'the dashboard: history across customers and the provider’s rules', async () => {
      await until(() => chartValue(page, 'all-history-card', 'licensed', today()), 10_000, 'today’s point across customers');
      const card = page.locator('[data-testid="prules-card"]');
      await card.getByRole('heading', { name: 'Default licence factor rules' }).waitFor();
      await card.getByRole('button', { name: 'Save rules', exact: true }).waitFor();
      assert((await card.getByRole('button', { name: 'Reset to provider rules' }).count()) === 0, 'the provider has nothing to reset to');
      assert((await card.locator('ol.rules > li.rule').count()) >= 5, 'the provider’s rules are not listed');
      // Previewed on a customer: the counts they would give it, nothing saved.
      await card.getByLabel('Preview on customer').selectOption({ label: CUSTOMER });
      await card.getByRole('button', { name: 'Preview', exact: true }).click();
      const lic = card.getByRole('table', { name: 'Preview of the counts' }).locator('tr[data-rule-id="licensed"] [data-col="preview"]');
      await lic.waitFor();
      assert(num(squash(await lic.textContent())) === before.licensed, `the provider's rules preview ${await lic.textContent()} licensed on ${CUSTOMER}`);
      assert((await card.getByText('Unsaved changes').count()) === 0, 'a preview changed the provider’s rules');
    });

    await step(page, 'reset the customer to the provider’s rules', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/usage`);
      const card = page.locator('[data-testid="rules-card"]');
      await card.getByRole('button', { name: 'Reset to provider rules' }).click();
      const dialog = page.getByRole('dialog', { name: 'Reset to the provider’s rules?' });
      await dialog.getByRole('button', { name: 'Reset to provider rules' }).click();
      await dialog.waitFor({ state: 'detached' });
      await card.getByText('The customer uses the provider’s rules again.').waitFor();
      await until(async () => (await savedCounts(page)).rows.every((r) => !r.name.startsWith(RULE)), 10_000, 'the counts without the rule');
      const c = await savedCounts(page);
      assert(JSON.stringify(c.rows.map((r) => [r.id, r.count])) === JSON.stringify(before.rows.map((r) => [r.id, r.count])), `the counts are not back: ${JSON.stringify(c.rows)}`);
      // The thresholds back to the defaults (the unused alert goes at the next snapshot).
      const pool = await api(page, 'GET', `/api/v1/customers/${encodeURIComponent(customerId)}/pool`);
      const put = await api(page, 'PUT', `/api/v1/customers/${encodeURIComponent(customerId)}/pool`, { acquired: pool.body.acquired, unusedThreshold: 5, unusedDays: 7, version: pool.body.version });
      assert(put.status === 200, `restoring the thresholds: HTTP ${put.status}`);
    });

    await step(page, 'no uncaught errors in the page (admin)', async () => {
      assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
    });

    // ---- A viewer: no edit controls.
    await context.close();
    ({ context, page } = await newPage(browser));

    await step(page, 'sign in as viewer', () => signIn(page, 'viewer', 'E2E Usage Viewer'));

    await step(page, 'a viewer: the Usage tab without edit controls', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/usage`);
      await page.getByRole('table', { name: 'Licence factors' }).locator('tbody tr[data-rule-id="licensed"]').waitFor();
      await page.getByRole('list', { name: 'Rules, in order' }).waitFor();
      await page.locator(`[data-testid="usage-history-card"] svg g[data-series="licensed"]`).waitFor();
      for (const name of ['Refresh', 'Preview', 'Save rules', 'Add rule', 'Reset to provider rules', 'Discard changes', 'Save acquired licences', 'Add criterion']) {
        assert((await page.getByRole('button', { name, exact: true }).count()) === 0, `a viewer sees "${name}"`);
      }
      assert((await page.locator('[data-testid="rules-card"] input, [data-testid="rules-card"] select').count()) === 0, 'inputs in the rules card');
      assert((await page.getByRole('form', { name: 'Licence pool' }).locator('input').count()) === 0, 'inputs in the pool');
      // Reading is allowed: the drill-down.
      const drill = page.getByRole('table', { name: 'Licence factors' }).locator('button[data-drill]').first();
      if ((await drill.count()) > 0) {
        await drill.click();
        await page.locator('.drill-card tbody tr[data-user-id]').first().waitFor();
      }
    });

    await step(page, 'a viewer: the dashboard with alerts and history, without the provider’s rules', async () => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
      await page.getByRole('table', { name: 'Alerts' }).locator('tbody tr').first().waitFor();
      await page.locator('[data-testid="all-history-card"] svg').waitFor();
      assert((await page.locator('[data-testid="prules-card"]').count()) === 0, 'a viewer sees the provider’s rules');
      assert((await page.getByRole('button', { name: 'Save rules', exact: true }).count()) === 0, 'a viewer sees Save rules');
    });

    await step(page, 'no uncaught errors in the page (viewer)', async () => {
      assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
    });
  } finally {
    await browser.close().catch(() => {});
  }
}

await run(main);
