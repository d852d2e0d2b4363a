// Browser test of staging, sites and the number inventory (issue 6), through the UI only, in headless Chromium: as
// provider-admin, on Contoso Dental (added and synced here, or reused when e2e/slice.mjs already did), turn on
// Manage Licenses and Allow User Staging (a stale save says "changed by someone else" and reloads), create a voice
// template, create (or update) the default site "London" with ordered criteria, a template and a Direct Routing number
// policy, add a range of numbers and import the tenant's numbers from Teams; then onboard an unlicensed user with the
// template, site and number automatic, and watch their row go staged → provisioned with a number without reloading
// the page; see the site and number on the user page; onboard a second user with a chosen number and "Un-stage now"
// them from the Staging tab, which refreshes itself until they are provisioned; release a number (quarantine), and
// give the seats back (offboard). Then as a viewer, the new tabs without a single edit control.
//
//   BASE_URL=http://127.0.0.1:8080 node e2e/provisioning.mjs
//
// Needs a local stack (the dev runner) with the Graph simulator's Contoso Dental tenant, a Teams provisioning delay of
// a few seconds and fast staging re-checks. Each step is bounded by a timeout; steps depend on each other, so after the
// first failure the rest are skipped. On failure a screenshot goes to e2e/artifacts/. Prints "N passed, N failed" and
// exits non-zero on any failure.
//
// Env: BASE_URL (default http://127.0.0.1:8080), CHROMIUM (default /usr/bin/chromium),
// SYNC_TIMEOUT_MS (default 30000), PROVISION_TIMEOUT_MS (default 90000: onboarding until provisioned),
// E2E_SCREENSHOTS=1 (also save a screenshot after every step).

import { BASE_URL, SYNC_TIMEOUT_MS, api, assert, createHarness, launchBrowser, openSyncedCustomer, signIn, until } from './harness.mjs';

const CUSTOMER = 'Contoso Dental';
const TENANT = '7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11';
const SPB = 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46'; // Microsoft 365 Business Premium: Teams
const MCOEV = 'e43b5b99-8dfb-405f-9987-dc307f34bcbd'; // Microsoft Teams Phone Standard: needed for a number
const SITE = 'London';
// A range nobody uses (Ofcom's numbers for drama), of a type the site's policy does not assign (Operator Connect): it
// is not in Teams, so it must not be picked for an assignment.
const RANGE_FROM = '+44 20 7946 0000';
const RANGE_TO = '+44 20 7946 0009';
const PROVISION_TIMEOUT_MS = Number(process.env.PROVISION_TIMEOUT_MS || 90_000);

const { step, pageErrors, newPage, run } = createHarness({ stepTimeoutMs: 20_000, screenshotPrefix: 'provisioning-' });

const squash = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

/** The rows of the users table: id, name, UPN, usage location, licensed, removed, account. */
function userRows(page) {
  return page.locator('table[aria-label="Users"] tbody tr[data-user-id]').evaluateAll((trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute('data-user-id'),
      name: tr.querySelector('th a')?.textContent?.trim() ?? '',
      upn: tr.querySelectorAll('td')[0]?.textContent?.trim() ?? '',
      usageLocation: tr.querySelectorAll('td')[2]?.textContent?.trim().replace(/^—$/, '') ?? '',
      account: tr.querySelector('[data-account]')?.getAttribute('data-account') ?? '',
      removed: tr.classList.contains('row-removed'),
      chips: tr.querySelectorAll('.chip').length,
    })),
  );
}

/** A summary box's text and outcome. */
async function resultOf(box) {
  await box.waitFor();
  return { outcome: await box.getAttribute('data-outcome'), text: squash(await box.textContent()) };
}

async function main() {
  const browser = await launchBrowser();
  let { context, page } = await newPage(browser);

  let customerHref = '';
  let customerId = '';
  let templateName = '';
  let userA = null; // onboarded automatically (site and number by the site)
  let userB = null; // onboarded with a chosen number, then "Un-stage now"
  let numberA = '';
  let numberB = '';

  try {
    await step(page, 'sign in as provider-admin', () => signIn(page, 'provider-admin', 'E2E Provisioning Admin'));

    await step(page, `${CUSTOMER} exists and is synced (added and synced when missing)`, async () => {
      customerHref = await openSyncedCustomer(page, CUSTOMER, TENANT);
      customerId = decodeURIComponent(customerHref.split('/')[2] ?? '');
      for (const tab of ['Staging', 'Numbers', 'Sites & settings']) {
        await page.getByRole('navigation', { name: 'Customer sections' }).getByRole('link', { name: tab, exact: true }).waitFor();
      }
      await page.getByRole('link', { name: 'Onboard users' }).waitFor();
    }, SYNC_TIMEOUT_MS + 10_000);

    await step(page, 'settings: turn on Manage Licenses and Allow User Staging, default usage location US', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/sites`);
      const form = page.getByRole('form', { name: 'Provisioning settings' });
      const refused = page.locator('.settings-box [role="alert"]');
      await form.or(refused).first().waitFor();
      if ((await refused.count()) > 0) throw new Error(`the settings did not load: ${squash(await refused.first().textContent())}`);
      await form.getByLabel('Manage Licenses', { exact: true }).check();
      await form.getByLabel('Allow User Staging', { exact: true }).check();
      await form.getByLabel('Default usage location', { exact: true }).fill('US');
      await form.getByLabel('Number quarantine (days)', { exact: true }).fill('1');
      await form.getByRole('button', { name: 'Save settings' }).click();
      const res = await resultOf(page.locator('.settings-msg .result'));
      assert(res.outcome === 'ok' && res.text.startsWith('Settings saved.'), `saving: ${res.text}`);
      assert(/are staged and provisioned/.test(res.text), `the switches say: ${res.text}`);
    });

    await step(page, 'settings: a stale save says "changed by someone else — reload"; after Reload it saves', async () => {
      const form = page.getByRole('form', { name: 'Provisioning settings' });
      // Someone else saves first, with the version they read.
      const cur = await api(page, 'GET', `/api/v1/customers/${encodeURIComponent(customerId)}/settings`);
      assert(cur.status === 200, `GET settings: ${JSON.stringify(cur)}`);
      const s = cur.body;
      const other = await api(page, 'PUT', `/api/v1/customers/${encodeURIComponent(customerId)}/settings`, {
        manageLicenses: s.manageLicenses, allowStaging: s.allowStaging, defaultUsageLocation: s.defaultUsageLocation,
        stagingLimitMinutes: 120, quarantineDays: s.quarantineDays, version: s.version,
      });
      assert(other.status === 200, `the other save: ${JSON.stringify(other)}`);
      await form.getByLabel('Staging limit (minutes)', { exact: true }).fill('90');
      await form.getByRole('button', { name: 'Save settings' }).click();
      const stale = page.locator('.settings-msg [role="alert"][data-code="conflict"]');
      await stale.waitFor();
      assert(/changed by someone else — reload/i.test(squash(await stale.textContent())), `the conflict says: ${squash(await stale.textContent())}`);
      await stale.getByRole('button', { name: 'Reload' }).click();
      await until(async () => (await form.getByLabel('Staging limit (minutes)', { exact: true }).inputValue()) === '120', 5_000, 'the reloaded staging limit (120)');
      await form.getByLabel('Staging limit (minutes)', { exact: true }).fill('1440');
      await form.getByRole('button', { name: 'Save settings' }).click();
      const res = await resultOf(page.locator('.settings-msg .result'));
      assert(res.outcome === 'ok', `saving after the reload: ${res.text}`);
    });

    await step(page, 'create a voice template (Business Premium + Teams Phone)', async () => {
      templateName = `E2E voice ${Date.now().toString(36)}`;
      await page.goto(`${BASE_URL}/${customerHref}/templates`);
      const newBtn = page.getByRole('button', { name: 'New template' });
      await until(() => newBtn.isEnabled(), 10_000, 'New template to be ready');
      await newBtn.click();
      const dialog = page.getByRole('dialog', { name: 'New template' });
      await dialog.getByLabel('Name', { exact: true }).fill(templateName);
      await dialog.locator(`input[data-sku-id="${SPB}"]`).check();
      await dialog.locator(`input[data-sku-id="${MCOEV}"]`).check();
      await dialog.getByRole('button', { name: 'Create template' }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.getByRole('table', { name: 'Templates' }).getByRole('rowheader', { name: templateName, exact: true }).waitFor();
    });

    await step(page, `site "${SITE}": default, ordered criteria, the template, Direct Routing numbers`, async () => {
      await page.goto(`${BASE_URL}/${customerHref}/sites`);
      const sitesTable = page.getByRole('table', { name: 'Sites' });
      await sitesTable.locator('tbody tr[data-site-id], tbody tr.message-row:not(:has-text("Loading"))').first().waitFor();
      const existing = sitesTable.locator(`tr[data-site-name="${SITE}"]`);
      let dialog;
      if ((await existing.count()) > 0) {
        await existing.getByRole('button', { name: 'Edit' }).click();
        dialog = page.getByRole('dialog', { name: `Edit site ${SITE}` });
        // Start the criteria afresh.
        while ((await dialog.getByRole('button', { name: /^Remove criterion/ }).count()) > 0) await dialog.getByRole('button', { name: /^Remove criterion/ }).first().click();
      } else {
        const newBtn = page.getByRole('button', { name: 'New site' });
        await until(() => newBtn.isEnabled(), 10_000, 'New site to be ready');
        await newBtn.click();
        dialog = page.getByRole('dialog', { name: 'New site' });
        await dialog.getByLabel('Name', { exact: true }).fill(SITE);
      }
      await dialog.getByLabel(/^Default site/).check();
      // Criteria: City is Nowhere, then Usage location is US; move US up, remove Nowhere.
      await dialog.getByRole('button', { name: 'Add criterion' }).click();
      await dialog.getByLabel('Criterion 1: what to match', { exact: true }).selectOption('city');
      await dialog.getByLabel('Criterion 1: value', { exact: true }).fill('Nowhere');
      await dialog.getByRole('button', { name: 'Add criterion' }).click();
      await dialog.getByLabel('Criterion 2: what to match', { exact: true }).selectOption('usageLocation');
      await dialog.getByLabel('Criterion 2: value', { exact: true }).fill('US');
      await dialog.getByRole('button', { name: 'Move criterion 2 up' }).click();
      assert((await dialog.getByLabel('Criterion 1: value', { exact: true }).inputValue()) === 'US', 'moving the criterion up did not reorder the rows');
      assert((await dialog.getByLabel('Criterion 1: what to match', { exact: true }).inputValue()) === 'usageLocation', 'the moved row lost its field');
      await dialog.getByRole('button', { name: 'Remove criterion 2' }).click();
      assert((await dialog.locator('.criterion-row').count()) === 1, 'removing a criterion left the rows as they were');
      await dialog.getByLabel('Template', { exact: true }).selectOption({ label: templateName });
      await dialog.getByLabel('Allow staging for users placed here', { exact: true }).check();
      await dialog.getByLabel(/^Assign a number from this site/).check();
      await dialog.getByLabel('Number type', { exact: true }).selectOption('directRouting');
      await dialog.getByRole('button', { name: /^(Create|Save) site$/ }).click();
      await dialog.waitFor({ state: 'detached' });
      const row = sitesTable.locator(`tr[data-site-name="${SITE}"]`);
      // The list reloads after the save (an edited site's old row is there meanwhile).
      await page.locator('.sites-msg .result').filter({ hasText: `site ${SITE}.` }).waitFor();
      await until(async () => (await row.count()) === 1 && squash(await row.textContent()).includes(templateName), 10_000, `the ${SITE} row with ${templateName}`);
      const text = squash(await row.textContent());
      assert((await row.locator('[data-default="true"]').count()) === 1, `${SITE} is not the default: ${text}`);
      assert(text.includes('Usage location is US') && !text.includes('Nowhere'), `criteria: ${text}`);
      assert(text.includes(templateName), `template: ${text}`);
      assert((await row.locator('[data-number-policy]').getAttribute('data-number-policy')) === 'directRouting', `number policy: ${text}`);
      console.log(`     ${text}`);
    });

    await step(page, 'add a range of numbers: shows how many were added and already there', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/numbers`);
      const addBtn = page.getByRole('button', { name: 'Add numbers' });
      await addBtn.click();
      const dialog = page.getByRole('dialog', { name: 'Add numbers' });
      await dialog.getByLabel('A range', { exact: true }).check();
      await dialog.getByLabel('First number', { exact: true }).fill(RANGE_FROM);
      await dialog.getByLabel('Last number', { exact: true }).fill('+44 20 7946');
      await dialog.getByText(/as many digits/).waitFor(); // the preview says what is wrong while typing
      await dialog.getByLabel('Last number', { exact: true }).fill(RANGE_TO);
      await dialog.getByLabel('Type', { exact: true }).selectOption('operatorConnect');
      await dialog.getByLabel('Site', { exact: true }).selectOption({ label: SITE });
      await dialog.getByLabel('Extension digits', { exact: true }).fill('3');
      await dialog.getByText('10 numbers. Extensions 000…009.').waitFor();
      await dialog.getByRole('button', { name: 'Add 10 numbers' }).click();
      await dialog.waitFor({ state: 'detached' });
      const box = page.locator('[data-testid="add-result"]');
      await box.waitFor();
      const added = Number(await box.getAttribute('data-added'));
      const existing = Number(await box.getAttribute('data-existing'));
      assert(added + existing === 10, `added ${added}, existing ${existing}`);
      console.log(`     ${squash(await box.textContent())}`);
    });

    await step(page, `import the tenant's numbers from Teams onto ${SITE}`, async () => {
      await page.getByRole('button', { name: 'Import from Teams' }).click();
      const dialog = page.getByRole('dialog', { name: 'Import numbers from Teams' });
      await dialog.getByLabel('Site of the new numbers', { exact: true }).selectOption({ label: SITE });
      await dialog.getByRole('button', { name: 'Import' }).click();
      await dialog.waitFor({ state: 'detached' });
      const box = page.locator('[data-testid="import-result"]');
      await box.waitFor();
      assert(Number(await box.getAttribute('data-read')) > 0, `nothing read from Teams: ${squash(await box.textContent())}`);
      console.log(`     ${squash(await box.textContent())}`);
    }, 40_000);

    await step(page, `the numbers list: search, filters; ${SITE} has free Direct Routing numbers`, async () => {
      const table = page.getByRole('table', { name: 'Numbers' });
      await page.getByLabel('Search', { exact: true }).fill('+4420794600');
      await until(async () => (await table.locator('tbody tr[data-number]').count()) === 10 && (await table.getAttribute('aria-busy')) !== 'true', 10_000, 'the 10 numbers of the range');
      await page.getByRole('button', { name: 'Clear' }).click();
      await page.getByLabel('Site', { exact: true }).selectOption({ label: SITE });
      await page.getByLabel('Status', { exact: true }).selectOption('available');
      await page.getByLabel('Type', { exact: true }).selectOption('directRouting');
      const rows = await until(async () => {
        if ((await table.getAttribute('aria-busy')) === 'true') return null;
        const r = await table.locator('tbody tr[data-number]').evaluateAll((trs) => trs.map((tr) => ({ number: tr.getAttribute('data-number'), status: tr.getAttribute('data-status') })));
        return r.length > 0 && r.every((x) => x.status === 'available') ? r : null;
      }, 10_000, `free Direct Routing numbers on ${SITE}`);
      assert(rows.length >= 2, `the test needs two free Direct Routing numbers on ${SITE}, found ${rows.length}`);
      console.log(`     ${rows.length} free: ${rows.map((r) => r.number).join(', ')}`);
    });

    await step(page, 'choose two unlicensed users with a usage location', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/users?filter=unlicensed`);
      const usersTable = page.getByRole('table', { name: 'Users', exact: true });
      const rows = await until(async () => {
        const r = await userRows(page);
        return (await usersTable.getAttribute('aria-busy')) !== 'true' && r.length > 0 ? r : null;
      }, 10_000, 'unlicensed users');
      const ok = rows.filter((u) => !u.removed && u.account === 'enabled' && u.usageLocation !== '' && u.chips === 0);
      assert(ok.length >= 2, `want 2 enabled unlicensed users with a usage location, found ${ok.length}`);
      [userA, userB] = ok;
      console.log(`     A ${userA.name}, B ${userB.name}`);
    });

    await step(page, 'onboard A (site and number automatic): staged → provisioned with a number, without a reload', async () => {
      await page.goto(`${BASE_URL}/${customerHref}`);
      await page.getByRole('link', { name: 'Onboard users' }).click();
      await page.getByRole('heading', { name: 'Onboard users', level: 2 }).waitFor();
      const form = page.getByRole('form', { name: 'Onboard users' });
      await form.getByLabel('Users', { exact: true }).fill(userA.name);
      const pick = form.locator(`button.user-pick[data-user-id="${userA.id}"]`);
      await pick.waitFor();
      await pick.click();
      await form.locator(`.picked-user[data-user-id="${userA.id}"]`).waitFor();
      const templateSel = form.getByLabel('Template', { exact: true });
      await until(async () => (await templateSel.locator('option').allTextContents()).includes(templateName), 10_000, 'the template in the menu');
      await templateSel.selectOption({ label: templateName });
      assert((await form.getByLabel('Site', { exact: true }).inputValue()) === '', 'the site is not automatic');
      assert((await form.getByLabel('Number', { exact: true }).inputValue()) === '', 'the number is not automatic');
      // Marks this document: a reload (or a navigation) would lose it.
      await page.evaluate(() => { window.__e2eNoReload = true; });
      await form.getByRole('button', { name: 'Onboard', exact: true }).click();
      const row = page.getByRole('table', { name: 'Onboarding status' }).locator(`tr[data-user-id="${userA.id}"]`);
      await row.waitFor();
      const seen = [];
      const status = await until(async () => {
        const s = await row.getAttribute('data-staging-status');
        if (s && seen[seen.length - 1] !== s) seen.push(s);
        return s === 'provisioned' || s === 'failed' ? s : null;
      }, PROVISION_TIMEOUT_MS, `${userA.name} to be provisioned`);
      const text = squash(await row.textContent());
      console.log(`     statuses seen: ${seen.join(' → ')}`);
      assert(status === 'provisioned', `${userA.name} ended ${status}: ${text}`);
      assert(seen.includes('staged') || seen.includes('provisioning'), `never saw ${userA.name} staged: ${seen.join(' → ')}`);
      numberA = (await row.locator('[data-number]').getAttribute('data-number')) ?? '';
      assert(/^\+\d{8,15}$/.test(numberA), `no number on the row: ${text}`);
      assert(text.includes(SITE), `the row does not say ${SITE}: ${text}`);
      assert(await page.evaluate(() => window.__e2eNoReload === true), 'the page was reloaded');
      await page.locator('.onboard-status[data-done="true"]').waitFor();
      console.log(`     ${text}`);
    }, PROVISION_TIMEOUT_MS + 20_000);

    await step(page, "A's user page shows the site and the number", async () => {
      await page.goto(`${BASE_URL}/${customerHref}/users/${encodeURIComponent(userA.id)}`);
      await page.getByRole('heading', { name: userA.name, level: 1 }).waitFor();
      const line = page.locator('.user-telephony');
      await line.locator('[data-testid="user-number"][data-number]').waitFor();
      assert((await line.locator('[data-testid="user-number"]').getAttribute('data-number')) === numberA, `the user page shows ${await line.locator('[data-testid="user-number"]').getAttribute('data-number')}, not ${numberA}`);
      assert(squash(await line.locator('[data-testid="user-site"]').textContent()) === SITE, `the user page says site ${squash(await line.locator('[data-testid="user-site"]').textContent())}`);
      assert((await line.locator('[data-staging-status="provisioned"]').count()) === 1, `staging: ${squash(await line.textContent())}`);
      console.log(`     ${squash(await line.textContent())}`);
    });

    await step(page, 'onboard B with a chosen number, then "Un-stage now" on the Staging tab; it refreshes until provisioned', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/onboard`);
      const form = page.getByRole('form', { name: 'Onboard users' });
      await form.getByLabel('Users', { exact: true }).fill(userB.name);
      await form.locator(`button.user-pick[data-user-id="${userB.id}"]`).click();
      await form.locator(`.picked-user[data-user-id="${userB.id}"]`).waitFor();
      const templateSel = form.getByLabel('Template', { exact: true });
      await until(async () => (await templateSel.locator('option').allTextContents()).includes(templateName), 10_000, 'the template in the menu');
      await templateSel.selectOption({ label: templateName });
      const siteSel = form.getByLabel('Site', { exact: true });
      await siteSel.selectOption({ label: `${SITE} (default)` });
      const siteId = await siteSel.inputValue();
      const numberSel = form.getByLabel('Number', { exact: true });
      // The menu reloads with the site's free numbers.
      await until(async () => {
        if (!(await numberSel.isEnabled())) return false;
        const sitesOf = await numberSel.locator('option[data-site-id]').evaluateAll((os) => os.map((o) => o.getAttribute('data-site-id')));
        return sitesOf.length > 0 && sitesOf.every((x) => x === siteId);
      }, 10_000, `free numbers of ${SITE} in the menu`);
      // A Direct Routing number (the import put every type on the site; B has no Calling Plan licence).
      numberB = await numberSel.locator('option').evaluateAll((os) => os.find((o) => o.value && o.textContent.includes('Direct Routing'))?.value ?? '');
      assert(numberB, `no free Direct Routing number of ${SITE} in the menu`);
      await numberSel.selectOption(numberB);
      await form.getByRole('button', { name: 'Onboard', exact: true }).click();
      const row = page.getByRole('table', { name: 'Onboarding status' }).locator(`tr[data-user-id="${userB.id}"]`);
      await until(async () => ['staged', 'provisioning', 'provisioned', 'failed'].includes(await row.getAttribute('data-staging-status')), 15_000, `${userB.name} to be staged`);
      assert((await row.getAttribute('data-staging-status')) !== 'failed', `${userB.name} was not staged: ${squash(await row.textContent())}`);

      await page.getByRole('navigation', { name: 'Customer sections' }).getByRole('link', { name: 'Staging', exact: true }).click();
      const table = page.getByRole('table', { name: 'Staged users' });
      const srow = table.locator(`tr[data-user-id="${userB.id}"]`);
      await srow.waitFor();
      const check = srow.getByRole('button', { name: 'Un-stage now' });
      if ((await check.count()) > 0) {
        await check.click();
        const box = page.locator(`[data-testid="check-result"][data-user-id="${userB.id}"]`);
        await box.waitFor({ timeout: 30_000 });
        console.log(`     Un-stage now: ready=${await box.getAttribute('data-ready')}: ${squash(await box.textContent())}`);
      } else {
        console.log(`     ${userB.name} was ${await srow.getAttribute('data-staging-status')} before Un-stage now could be pressed`);
      }
      const status = await until(async () => {
        const s = await srow.getAttribute('data-staging-status');
        return s === 'provisioned' || s === 'failed' ? s : null;
      }, PROVISION_TIMEOUT_MS, `${userB.name}'s row to show provisioned (the tab refreshes itself)`);
      const text = squash(await srow.textContent());
      assert(status === 'provisioned', `${userB.name} ended ${status}: ${text}`);
      assert((await srow.locator(`[data-number="${numberB}"]`).count()) === 1, `${userB.name} did not get ${numberB}: ${text}`);
      console.log(`     ${text}`);
    }, PROVISION_TIMEOUT_MS + 40_000);

    await step(page, 'the Staging tab filters by status', async () => {
      const table = page.getByRole('table', { name: 'Staged users' });
      await page.getByLabel('Show', { exact: true }).selectOption('provisioned');
      await until(async () => {
        const st = await table.locator('tbody tr[data-user-id]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-staging-status')));
        return st.length >= 2 && st.every((s) => s === 'provisioned') && (await table.locator(`tr[data-user-id="${userA.id}"]`).count()) === 1;
      }, 10_000, 'only provisioned rows, A among them');
    });

    await step(page, "release A's number by hand: the confirmation says quarantine, and the number is quarantined", async () => {
      await page.goto(`${BASE_URL}/${customerHref}/numbers`);
      const table = page.getByRole('table', { name: 'Numbers' });
      await page.getByLabel('Search', { exact: true }).fill(numberA);
      const row = table.locator(`tr[data-number="${numberA}"]`);
      await row.waitFor();
      assert((await row.getAttribute('data-status')) === 'assigned' && (await row.getAttribute('data-user-id')) === userA.id, `the inventory says ${squash(await row.textContent())}`);
      await row.getByRole('button', { name: 'Release…' }).click();
      const dialog = page.getByRole('dialog', { name: `Release ${numberA}?` });
      const said = squash(await dialog.locator('[data-testid="release-text"]').textContent());
      assert(/quarantine/i.test(said), `the confirmation says: ${said}`);
      await dialog.getByRole('button', { name: 'Release number' }).click();
      await dialog.waitFor({ state: 'detached' });
      const res = await resultOf(page.locator('.numbers-msg .result'));
      assert(res.outcome === 'ok', `release: ${res.text}`);
      await until(async () => (await row.getAttribute('data-status')) === 'quarantined', 10_000, `${numberA} to be quarantined`);
      console.log(`     ${said} → ${res.text}`);
    });

    await step(page, 'give the seats back: offboard A and B', async () => {
      for (const u of [userA, userB]) {
        await page.goto(`${BASE_URL}/${customerHref}/users/${encodeURIComponent(u.id)}`);
        await page.getByRole('heading', { name: u.name, level: 1 }).waitFor();
        await page.locator(`article.licence[data-sku-id="${SPB}"]`).waitFor();
        await page.getByRole('button', { name: 'Offboard…' }).click();
        const dialog = page.getByRole('dialog', { name: `Offboard ${u.name}?` });
        await dialog.getByRole('button', { name: 'Remove direct licences' }).click();
        await dialog.waitFor({ state: 'detached' });
        await page.locator(`article.licence[data-sku-id="${SPB}"]`).waitFor({ state: 'detached' });
      }
    }, 30_000);

    await step(page, 'no uncaught errors in the page (admin)', async () => {
      assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
    });

    // ---- A viewer sees the new tabs without edit controls.
    await context.close();
    ({ context, page } = await newPage(browser));

    await step(page, 'sign in as viewer', () => signIn(page, 'viewer', 'E2E Viewer'));

    await step(page, 'a viewer: settings and sites without edit controls', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/sites`);
      await page.getByRole('table', { name: 'Sites' }).locator(`tr[data-site-name="${SITE}"]`).waitFor();
      await page.locator('[data-testid="staging-switches"]').waitFor();
      assert((await page.getByRole('form', { name: 'Provisioning settings' }).count()) === 0, 'the settings form is shown');
      for (const name of ['Save settings', 'New site', 'Edit', 'Delete']) {
        assert((await page.getByRole('button', { name, exact: true }).count()) === 0, `a viewer sees "${name}"`);
      }
      assert((await page.locator('.sites-tab input, .sites-tab select').count()) === 0, 'inputs on the Sites & settings tab');
    });

    await step(page, 'a viewer: numbers without edit controls', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/numbers`);
      await page.getByRole('table', { name: 'Numbers' }).locator('tbody tr[data-number]').first().waitFor();
      for (const name of ['Add numbers', 'Import from Teams', 'Assign…', 'Release…', 'Edit', 'Remove']) {
        assert((await page.getByRole('button', { name, exact: true }).count()) === 0, `a viewer sees "${name}"`);
      }
    });

    await step(page, 'a viewer: staging without Un-stage now or Remove, and no Onboard users', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/staging`);
      await page.getByRole('table', { name: 'Staged users' }).locator(`tr[data-user-id="${userA.id}"]`).waitFor();
      for (const name of ['Un-stage now', 'Remove from staging']) {
        assert((await page.getByRole('button', { name, exact: true }).count()) === 0, `a viewer sees "${name}"`);
      }
      assert((await page.getByRole('link', { name: 'Onboard users' }).count()) === 0, 'a viewer sees Onboard users');
      await page.goto(`${BASE_URL}/${customerHref}/onboard`);
      await page.getByText('Only admins can onboard users.').waitFor();
      assert((await page.getByRole('form', { name: 'Onboard users' }).count()) === 0, 'a viewer gets the onboarding form');
    });

    await step(page, 'no uncaught errors in the page (viewer)', async () => {
      assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
    });
  } finally {
    await browser.close().catch(() => {});
  }
}

await run(main);
