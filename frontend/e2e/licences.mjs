// Browser test of the licence operations (issue 5), through the UI only, in headless Chromium: as provider-admin,
// on Contoso Dental (added and synced here, or reused when e2e/slice.mjs already did), assign a licence with one
// add-on off and see it off, reassign it to another user and see exactly what happened, remove it, try an assignment
// the server refuses and see its message, see the changes in the user's audit trail; then as a viewer, see the same
// pages without a single edit control.
//
//   BASE_URL=http://127.0.0.1:8080 node e2e/licences.mjs
//
// Needs a local stack (the dev runner) with the Graph simulator's Contoso Dental tenant. Each step is bounded by a
// timeout; steps depend on each other, so after the first failure the rest are skipped. On failure a screenshot goes
// to e2e/artifacts/. Prints "N passed, N failed" and exits non-zero on any failure. The seat it takes is given back
// (assign → reassign → remove), so it can run again on the same stack.
//
// Env: BASE_URL (default http://127.0.0.1:8080), CHROMIUM (default /usr/bin/chromium),
// SYNC_TIMEOUT_MS (default 30000), E2E_SCREENSHOTS=1 (also save a screenshot after every step).

import { BASE_URL, SYNC_TIMEOUT_MS, assert, createHarness, launchBrowser, until } from './harness.mjs';

const CUSTOMER = 'Contoso Dental';
const TENANT = '7d3c7a6e-1c2b-4f7e-9a51-2f3e8c9b0a11';
// The licence the test moves around: Exchange Online (Plan 1) has free seats in Contoso Dental (10, 6 used) and
// three add-ons; the Business Premium holders do not have it.
const BASE_SKU = 'Microsoft 365 Business Premium'; // SPB: its holders have a usage location
const SKU = 'Exchange Online (Plan 1)'; // EXCHANGESTANDARD
const SKU_ID = '4b9405b0-7788-4568-add1-99614e613b69';
const ADDON = 'To-Do (Plan 1)'; // BPOS_S_TODO_1, switched off on assignment
const ADDON_ID = '5e62787c-c316-451f-b873-1d05acd4d12c';
// A refusal Microsoft 365 gives whatever the seats: a Calling Plan for a user without Teams Phone (a dependency).
const CALLING = 'Skype for Business PSTN Domestic Calling'; // MCOPSTN1
const PHONE_SKU_ID = 'e43b5b99-8dfb-405f-9987-dc307f34bcbd'; // MCOEV
// A SKU without seats: Fabrikam Legal's Visio Plan 2 was reduced below its use at renewal (5 seats, 6 used).
const FULL_CUSTOMER = 'Fabrikam Legal';
const FULL_TENANT = 'a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const FULL_SKU = 'Visio Plan 2'; // VISIOCLIENT
const FULL_SKU_ID = 'c5928f49-12ba-48f7-ada3-0d743a3601d5';

const { step, pageErrors, newPage, run } = createHarness({ stepTimeoutMs: 20_000, screenshotPrefix: 'licences-' });

/** The rows of the users table: id, name, UPN, usage location, licence chips (skuId, via group only, error). */
function userRows(page) {
  return page.locator('table[aria-label="Users"] tbody tr[data-user-id]').evaluateAll((trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute('data-user-id'),
      name: tr.querySelector('th a')?.textContent?.trim() ?? '',
      upn: tr.querySelectorAll('td')[0]?.textContent?.trim() ?? '',
      usageLocation: tr.querySelectorAll('td')[2]?.textContent?.trim().replace(/^—$/, '') ?? '',
      account: tr.querySelector('[data-account]')?.getAttribute('data-account') ?? '',
      removed: tr.classList.contains('row-removed'),
      chips: [...tr.querySelectorAll('.chip')].map((c) => ({ sku: c.getAttribute('data-sku-id'), via: c.getAttribute('data-via-group') === 'true', error: c.getAttribute('data-error') })),
    })),
  );
}

/** The plans of a licence card on the user page: id → enabled. */
function cardPlans(page, skuId) {
  return page.locator(`article.licence[data-sku-id="${skuId}"] .plans li`).evaluateAll((ls) =>
    Object.fromEntries(ls.map((l) => [l.getAttribute('data-plan-id'), l.getAttribute('data-enabled') === 'true'])),
  );
}

/** Text of the last change's result on the user page. */
async function actionResult(page) {
  const box = page.locator('.action-result .result').first();
  await box.waitFor();
  return { outcome: await box.getAttribute('data-outcome'), text: ((await box.textContent()) ?? '').replace(/\s+/g, ' ').trim() };
}

async function signIn(page, role, name) {
  await page.goto(`${BASE_URL}/#/signin`);
  await page.getByRole('heading', { name: 'Sign in to Seatwise' }).waitFor();
  await page.getByLabel('Role').selectOption(role);
  await page.getByLabel('Scope').fill('*');
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
  await page.getByLabel('Signed-in user').getByText(role, { exact: true }).waitFor();
}

/** Opens a customer from the customers list, adding it and syncing it first when needed; returns its hash. */
async function openSyncedCustomer(page, name, tenant, mustList) {
  await page.goto(`${BASE_URL}/#/customers`);
  const customersTable = page.getByRole('table', { name: 'Customers' });
  await customersTable.waitFor();
  const link = customersTable.getByRole('link', { name, exact: true });
  await until(async () => (await customersTable.locator('tbody tr').count()) > 0 && (await customersTable.getAttribute('aria-busy')) !== 'true', 10_000, 'the customers list');
  if ((await link.count()) === 0) {
    const form = page.getByRole('form', { name: 'Add customer' });
    await form.getByLabel('Name').fill(name);
    await form.getByLabel('Microsoft tenant id').fill(tenant);
    await form.getByRole('button', { name: 'Add customer' }).click();
    await link.waitFor();
    console.log(`     added ${name}`);
  }
  const hash = (await link.first().getAttribute('href')) || '';
  await link.first().click();
  await page.getByRole('heading', { name, level: 1 }).waitFor();
  const status = page.locator('[data-sync-status]').first();
  await status.waitFor();
  const listed = page.getByRole('table', { name: 'Licences' }).getByRole('rowheader', { name: mustList, exact: true });
  // The licences table has loaded (SKU rows, or its "no licences yet" row).
  await page.getByRole('table', { name: 'Licences' }).locator('tbody tr[data-sku-id], tbody tr.message-row:not(:has-text("Loading"))').first().waitFor();
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

async function openUsersWithLicence(page, customerHref, skuLabel) {
  await page.goto(`${BASE_URL}/${customerHref}/users`);
  const usersTable = page.getByRole('table', { name: 'Users', exact: true });
  await usersTable.waitFor();
  const select = page.getByLabel('Licence', { exact: true });
  await until(async () => (await select.locator('option').count()) > 1, 10_000, 'the licence filter options');
  const value = await select.locator('option').evaluateAll((os, label) => os.find((o) => o.textContent.trim() === label)?.value ?? '', skuLabel);
  assert(value, `no "${skuLabel}" in the licence filter`);
  await select.selectOption(value);
  return until(async () => {
    const r = await userRows(page);
    return (await usersTable.getAttribute('aria-busy')) !== 'true' && r.length > 0 && r.every((u) => u.chips.some((c) => c.sku === value)) ? r : null;
  }, 10_000, `${skuLabel} holders`);
}

async function main() {
  const browser = await launchBrowser();
  let { context, page } = await newPage(browser);

  let customerHref = '';
  let userA = null; // gets the licence, then gives it to B
  let userB = null;
  let userC = null; // the refused assignment
  let userAHref = '';
  let fullHref = ''; // Fabrikam Legal

  try {
    await step(page, 'sign in as provider-admin', () => signIn(page, 'provider-admin', 'E2E Licences Admin'));

    await step(page, `${CUSTOMER} exists and is synced (added and synced when missing)`, async () => {
      customerHref = await openSyncedCustomer(page, CUSTOMER, TENANT, SKU);
    }, SYNC_TIMEOUT_MS + 10_000);

    await step(page, 'choose the users: two Business Premium holders without Exchange Online (Plan 1), one without Teams Phone', async () => {
      const rows = await openUsersWithLicence(page, customerHref, BASE_SKU);
      const ok = rows.filter((u) => !u.removed && u.account === 'enabled' && u.usageLocation !== '' && !u.chips.some((c) => c.sku === SKU_ID || c.error));
      assert(ok.length >= 3, `want 3 enabled ${BASE_SKU} holders without ${SKU}, found ${ok.length}`);
      [userA, userB] = ok;
      userC = ok.slice(2).find((u) => !u.chips.some((c) => c.sku === PHONE_SKU_ID)) ?? null;
      assert(userC, `no ${BASE_SKU} holder without Teams Phone on the first page`);
      console.log(`     A ${userA.name}, B ${userB.name}, C ${userC.name}`);
      userAHref = `${customerHref}/users/${encodeURIComponent(userA.id)}`;
    });

    await step(page, `assign ${SKU} to A with "${ADDON}" off, and see it off`, async () => {
      await page.goto(`${BASE_URL}/${userAHref}`);
      await page.getByRole('heading', { name: userA.name, level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Assign licence' }).click();
      const dialog = page.getByRole('dialog', { name: `Assign a licence to ${userA.name}` });
      const select = dialog.getByLabel('Licence', { exact: true });
      await select.waitFor();
      const opt = await select.locator(`option[value="${SKU_ID}"]`).evaluate((o) => ({ text: o.textContent, available: Number(o.getAttribute('data-available')) }));
      assert(opt.text.startsWith(`${SKU} — `), `the option says "${opt.text}"`);
      assert(opt.available > 0, `${SKU} has no free seat: ${opt.text}`);
      await select.selectOption(SKU_ID);
      const sw = dialog.getByRole('switch', { name: ADDON, exact: true });
      assert(await sw.isChecked(), `"${ADDON}" is not on to start with`);
      const switches = await dialog.getByRole('switch').count();
      assert(switches >= 2, `${SKU} shows ${switches} add-on switches`);
      await sw.uncheck();
      await dialog.getByText(`off: ${ADDON}`).waitFor();
      const checks = await dialog.locator('[data-check]').allTextContents();
      assert(checks.length === 0, `pre-checks before assigning: ${checks.join(' | ')}`);
      await dialog.getByRole('button', { name: 'Assign', exact: true }).click();
      await dialog.waitFor({ state: 'detached' });
      const res = await actionResult(page);
      assert(res.outcome === 'ok' && res.text.startsWith(`Assigned ${SKU} to ${userA.name}.`), `result: ${res.text}`);
      const card = page.locator(`article.licence[data-sku-id="${SKU_ID}"]`);
      await card.waitFor();
      const plans = await cardPlans(page, SKU_ID);
      assert(plans[ADDON_ID] === false, `"${ADDON}" is ${plans[ADDON_ID]} on the card: ${JSON.stringify(plans)}`);
      assert(Object.entries(plans).every(([id, on]) => id === ADDON_ID || on), `other add-ons are off: ${JSON.stringify(plans)}`);
      const held = await card.getByRole('list', { name: 'How it is held' }).textContent();
      assert(/Direct/.test(held ?? ''), `held: ${held}`);
      console.log(`     ${res.text}`);
    });

    await step(page, 'the add-on stays off after a reload (stored as Microsoft 365 answered)', async () => {
      await page.reload();
      await page.locator(`article.licence[data-sku-id="${SKU_ID}"]`).waitFor();
      const plans = await cardPlans(page, SKU_ID);
      assert(plans[ADDON_ID] === false, `after a reload "${ADDON}" is ${plans[ADDON_ID]}`);
    });

    await step(page, `reassign ${SKU} from A to B, and see exactly what happened`, async () => {
      const card = page.locator(`article.licence[data-sku-id="${SKU_ID}"]`);
      await card.getByRole('button', { name: 'Reassign to…' }).click();
      const dialog = page.getByRole('dialog', { name: `Reassign ${SKU}` });
      await dialog.getByLabel('Find a user').fill(userB.name.slice(0, 6));
      const pick = dialog.locator(`button.user-pick[data-user-id="${userB.id}"]`);
      await pick.waitFor();
      await pick.click();
      assert((await pick.getAttribute('aria-pressed')) === 'true', 'B is not marked as chosen');
      await dialog.getByRole('button', { name: 'Continue' }).click();
      await dialog.getByText(`from ${userA.name} to ${userB.name}`, { exact: false }).waitFor();
      await dialog.getByRole('button', { name: 'Reassign', exact: true }).click();
      await dialog.waitFor({ state: 'detached' });
      const res = await actionResult(page);
      assert(res.outcome === 'ok', `the reassignment did not complete: ${res.text}`);
      assert(res.text.includes(userA.name) && res.text.includes(userB.name), `the result does not name both users: ${res.text}`);
      assert(/request-id/.test(res.text), `the result gives no request-id: ${res.text}`);
      await card.waitFor({ state: 'detached' });
      console.log(`     ${res.text}`);
    });

    await step(page, 'B holds the licence with the same add-on off', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/users/${encodeURIComponent(userB.id)}`);
      await page.getByRole('heading', { name: userB.name, level: 1 }).waitFor();
      await page.locator(`article.licence[data-sku-id="${SKU_ID}"]`).waitFor();
      const plans = await cardPlans(page, SKU_ID);
      assert(plans[ADDON_ID] === false, `B's "${ADDON}" is ${plans[ADDON_ID]}`);
    });

    await step(page, `remove ${SKU} from B`, async () => {
      const card = page.locator(`article.licence[data-sku-id="${SKU_ID}"]`);
      await card.getByRole('button', { name: 'Remove' }).click();
      const dialog = page.getByRole('dialog', { name: `Remove ${SKU}?` });
      await dialog.getByRole('button', { name: 'Remove licence' }).click();
      await dialog.waitFor({ state: 'detached' });
      const res = await actionResult(page);
      assert(res.outcome === 'ok' && res.text.startsWith(`Removed ${SKU} from ${userB.name}.`), `result: ${res.text}`);
      await card.waitFor({ state: 'detached' });
    });

    await step(page, 'a licence held only via a group cannot be removed, and says which group', async () => {
      // Teams Phone users get MCOEV from the "Teams Phone users" group: find one on the user page of a holder.
      const rows = await openUsersWithLicence(page, customerHref, 'Microsoft Teams Phone Standard');
      const via = rows.find((u) => u.chips.some((c) => c.sku === PHONE_SKU_ID && c.via));
      assert(via, 'no user holds Teams Phone only via a group');
      await page.locator(`tr[data-user-id="${via.id}"] th a`).click();
      const card = page.locator(`article.licence[data-sku-id="${PHONE_SKU_ID}"]`);
      await card.waitFor();
      const remove = card.getByRole('button', { name: 'Remove' });
      assert(await remove.isDisabled(), 'Remove is enabled for a group-held licence');
      const why = (await card.locator('.held-why').textContent())?.trim() ?? '';
      assert(/^Held via group .+: remove the user from the group/.test(why), `the reason says "${why}"`);
      console.log(`     ${via.name}: ${why}`);
    });

    await step(page, `a refused assignment shows the server's message (${CALLING} without Teams Phone)`, async () => {
      await page.goto(`${BASE_URL}/${customerHref}/users/${encodeURIComponent(userC.id)}`);
      await page.getByRole('heading', { name: userC.name, level: 1 }).waitFor();
      const before = await page.locator('article.licence').count();
      await page.getByRole('button', { name: 'Assign licence' }).click();
      const dialog = page.getByRole('dialog', { name: `Assign a licence to ${userC.name}` });
      const select = dialog.getByLabel('Licence', { exact: true });
      await select.waitFor();
      const value = await select.locator('option').evaluateAll((os, name) => os.find((o) => o.textContent.startsWith(`${name} — `))?.value ?? '', CALLING);
      assert(value, `no ${CALLING} in the licences`);
      await select.selectOption(value);
      await dialog.getByRole('button', { name: /^Assign( anyway)?$/ }).click();
      const alert = dialog.locator('.refusal[role="alert"]');
      await alert.waitFor();
      const text = ((await alert.textContent()) ?? '').replace(/\s+/g, ' ').trim();
      const code = await alert.getAttribute('data-code');
      assert(code === 'conflict' || code === 'invalid', `refusal code ${code}: ${text}`);
      assert(/Teams Phone|Phone System|depends|needs/i.test(text), `the message does not say what is missing: ${text}`);
      console.log(`     ${code}: ${text}`);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
      assert((await page.locator('article.licence').count()) === before, 'a licence appeared after the refusal');
    });

    await step(page, `a SKU without seats: said before submitting, and refused by the server (${FULL_CUSTOMER}'s ${FULL_SKU})`, async () => {
      fullHref = await openSyncedCustomer(page, FULL_CUSTOMER, FULL_TENANT, FULL_SKU);
      await page.goto(`${BASE_URL}/${fullHref}/users`);
      const rows = await until(async () => {
        const r = await userRows(page);
        return r.length > 0 ? r : null;
      }, 10_000, `${FULL_CUSTOMER}'s users`);
      const u = rows.find((x) => !x.removed && x.account === 'enabled' && x.usageLocation !== '' && x.chips.length > 0 && !x.chips.some((c) => c.sku === FULL_SKU_ID));
      assert(u, `no licensed ${FULL_CUSTOMER} user without ${FULL_SKU} on the first page`);
      await page.locator(`tr[data-user-id="${u.id}"] th a`).click();
      await page.getByRole('heading', { name: u.name, level: 1 }).waitFor();
      const before = await page.locator('article.licence').count();
      await page.getByRole('button', { name: 'Assign licence' }).click();
      const dialog = page.getByRole('dialog', { name: `Assign a licence to ${u.name}` });
      const select = dialog.getByLabel('Licence', { exact: true });
      await select.waitFor();
      await select.selectOption(FULL_SKU_ID);
      const option = (await select.locator(`option[value="${FULL_SKU_ID}"]`).textContent()) ?? '';
      assert(/none available/.test(option), `the menu says "${option}"`);
      const check = dialog.locator('[data-check="no_seats"]');
      await check.waitFor();
      const said = ((await check.textContent()) ?? '').trim();
      assert(said.startsWith(`No seats left in ${FULL_SKU}`), `the pre-check says "${said}"`);
      await dialog.getByRole('button', { name: 'Assign anyway' }).click();
      const alert = dialog.locator('.refusal[role="alert"]');
      await alert.waitFor();
      const text = ((await alert.textContent()) ?? '').replace(/\s+/g, ' ').trim();
      assert((await alert.getAttribute('data-code')) === 'conflict', `refusal: ${text}`);
      assert(/no seats/i.test(text) && text.includes(FULL_SKU), `the refusal does not say ${FULL_SKU} has no seats: ${text}`);
      console.log(`     before: ${said}`);
      console.log(`     server: ${text}`);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
      assert((await page.locator('article.licence').count()) === before, 'a licence appeared after the refusal');
    }, SYNC_TIMEOUT_MS + 10_000);

    await step(page, `a user without a usage location: said before submitting, and refused by the server (${FULL_CUSTOMER})`, async () => {
      await page.goto(`${BASE_URL}/${fullHref}/users?filter=unlicensed`);
      const usersTable = page.getByRole('table', { name: 'Users', exact: true });
      const rows = await until(async () => {
        const r = await userRows(page);
        return (await usersTable.getAttribute('aria-busy')) !== 'true' && (r.length > 0 || (await usersTable.locator('.message-row').count()) > 0) ? r : null;
      }, 10_000, 'unlicensed users');
      const noUL = rows.find((u) => !u.removed && u.usageLocation === '');
      assert(noUL, `no unlicensed ${FULL_CUSTOMER} user without a usage location on the first page`);
      await page.locator(`tr[data-user-id="${noUL.id}"] th a`).click();
      await page.getByRole('heading', { name: noUL.name, level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Assign licence' }).click();
      const dialog = page.getByRole('dialog', { name: `Assign a licence to ${noUL.name}` });
      const select = dialog.getByLabel('Licence', { exact: true });
      await select.waitFor();
      // A licence with free seats, so that the usage location is the only thing against it.
      const free = await select.locator('option').evaluateAll((os) => os.find((o) => Number(o.getAttribute('data-available')) > 0)?.value ?? '');
      assert(free, 'no licence with a free seat');
      await select.selectOption(free);
      const check = dialog.locator('[data-check="no_usage_location"]');
      await check.waitFor();
      assert(/has no usage location/.test((await check.textContent()) ?? ''), 'the pre-check does not say so');
      await dialog.getByRole('button', { name: 'Assign anyway' }).click();
      const alert = dialog.locator('.refusal[role="alert"]');
      await alert.waitFor();
      const text = ((await alert.textContent()) ?? '').replace(/\s+/g, ' ').trim();
      assert(/usage location/i.test(text), `the refusal does not mention the usage location: ${text}`);
      assert((await alert.getAttribute('data-code')) === 'invalid', `refusal code ${await alert.getAttribute('data-code')}`);
      console.log(`     ${noUL.name}: ${text}`);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
      assert((await page.locator('article.licence').count()) === 0, 'a licence appeared after the refusal');
    });

    await step(page, "A's audit trail shows the assignment and the reassignment, newest first", async () => {
      await page.goto(`${BASE_URL}/${userAHref}/audit`);
      const table = page.getByRole('table', { name: 'Audit log of the user' });
      const rows = await until(async () => {
        const r = await table.locator('tbody tr[data-action]').evaluateAll((trs) =>
          trs.map((tr) => ({ action: tr.getAttribute('data-action'), outcome: tr.getAttribute('data-outcome'), cells: [...tr.querySelectorAll('th,td')].map((c) => c.textContent.replace(/\s+/g, ' ').trim()) })),
        );
        return r.length >= 2 ? r : null;
      }, 10_000, 'two audit records for A');
      const actions = rows.map((r) => r.action);
      const assignAt = actions.indexOf('licence.assign');
      assert(assignAt >= 0, `no licence.assign record: ${actions.join(', ')}`);
      const moveAt = actions.findIndex((a) => a.startsWith('licence.reassign'));
      assert(moveAt >= 0 && moveAt < assignAt, `the reassignment is not listed before the assignment: ${actions.join(', ')}`);
      const assign = rows[assignAt];
      assert(assign.outcome === 'ok', `the assignment is recorded as ${assign.outcome}`);
      // When, Who, Action, Change, Outcome, Request id
      assert(/\d{4}-\d\d-\d\d/.test(assign.cells[0]), `when: ${assign.cells[0]}`);
      assert(assign.cells[3].includes(SKU) && assign.cells[3].includes(ADDON), `the change does not show ${SKU} with ${ADDON} off: ${assign.cells[3]}`);
      assert(assign.cells[5] !== '—' && assign.cells[5] !== '', 'no request-id');
      console.log(`     ${rows.length} records: ${actions.join(', ')}`);
    });

    const templateName = `E2E template ${Date.now().toString(36)}`;
    await step(page, 'templates: create one; a stale edit says "changed by someone else" and reloads', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/templates`);
      const newBtn = page.getByRole('button', { name: 'New template' });
      await until(() => newBtn.isEnabled(), 10_000, 'New template to be ready');
      await newBtn.click();
      let dialog = page.getByRole('dialog', { name: 'New template' });
      await dialog.getByLabel('Name').fill(templateName);
      await dialog.getByLabel('Description').fill('made by the browser test');
      await dialog.locator(`input[data-sku-id="${SKU_ID}"]`).check();
      await dialog.getByRole('switch', { name: ADDON, exact: true }).uncheck();
      await dialog.getByRole('button', { name: 'Create template' }).click();
      await dialog.waitFor({ state: 'detached' });
      const row = page.getByRole('table', { name: 'Templates' }).getByRole('row').filter({ has: page.getByRole('rowheader', { name: templateName, exact: true }) });
      await row.waitFor();
      const chip = ((await row.locator(`[data-sku-id="${SKU_ID}"]`).textContent()) ?? '').trim();
      assert(chip.includes(SKU) && chip.includes(`off: ${ADDON}`), `the template's licence reads "${chip}"`);

      await row.getByRole('button', { name: 'Edit' }).click();
      dialog = page.getByRole('dialog', { name: `Edit ${templateName}` });
      await dialog.getByLabel('Description').waitFor();
      // Someone else saves the template first (through the API, with the version they read).
      const other = await page.evaluate(async ({ path, name }) => {
        const headers = { Authorization: `Bearer ${sessionStorage.getItem('seatwise.token')}`, 'Content-Type': 'application/json' };
        const list = await (await fetch(path, { headers })).json();
        const t = list.items.find((x) => x.name === name);
        const body = { name: t.name, description: 'changed by someone else', licences: t.licences.map((l) => ({ skuId: l.skuId, disabledPlans: l.disabledPlans })), version: t.version };
        const r = await fetch(`${path}/${encodeURIComponent(t.id)}`, { method: 'PUT', headers, body: JSON.stringify(body) });
        return { status: r.status, body: await r.json() };
      }, { path: `/api/v1/customers/${customerHref.split('/')[2]}/templates`, name: templateName });
      assert(other.status === 200, `the other edit: ${JSON.stringify(other)}`);
      await dialog.getByLabel('Description').fill('my stale edit');
      await dialog.getByRole('button', { name: 'Save template' }).click();
      const alert = dialog.locator('[role="alert"][data-code="conflict"]');
      await alert.waitFor();
      assert(/changed by someone else — reloaded/i.test((await alert.textContent()) ?? ''), `the conflict says "${await alert.textContent()}"`);
      await until(async () => (await dialog.getByLabel('Description').inputValue()) === 'changed by someone else', 5_000, 'the reloaded description');
      // Saving again, from the reloaded version, goes through.
      await dialog.getByLabel('Description').fill('saved after the reload');
      await dialog.getByRole('button', { name: 'Save template' }).click();
      await dialog.waitFor({ state: 'detached' });
      await row.getByText('saved after the reload').waitFor();
    });

    await step(page, 'apply the template to a ticked user, see the result per user, then give the seat back', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/users`);
      await page.getByRole('searchbox', { name: 'Search' }).fill(userA.name);
      const box = page.locator(`input[data-select-user="${userA.id}"]`);
      await box.waitFor();
      await box.check();
      await page.getByText('1 user selected').waitFor();
      await page.getByLabel('Template', { exact: true }).selectOption({ label: templateName });
      await page.getByRole('button', { name: 'Apply template' }).click();
      const dialog = page.getByRole('dialog', { name: `Apply ${templateName}?` });
      await dialog.getByRole('button', { name: 'Apply to 1' }).click();
      await dialog.waitFor({ state: 'detached' });
      const res = page.locator('.apply-result .result');
      await res.waitFor();
      const text = ((await res.textContent()) ?? '').replace(/\s+/g, ' ').trim();
      assert((await res.getAttribute('data-outcome')) === 'ok', `the template was not applied: ${text}`);
      assert(text.includes(`${templateName}: Applied to 1 of 1 user.`) && text.includes(`${userA.name}: done`), `result: ${text}`);
      console.log(`     ${text}`);
      // A now holds it as the template says; remove it again so that the test leaves the seats as it found them.
      await page.goto(`${BASE_URL}/${userAHref}`);
      const card = page.locator(`article.licence[data-sku-id="${SKU_ID}"]`);
      await card.waitFor();
      assert((await cardPlans(page, SKU_ID))[ADDON_ID] === false, `the template's "${ADDON}" is not off`);
      await card.getByRole('button', { name: 'Remove' }).click();
      const rm = page.getByRole('dialog', { name: `Remove ${SKU}?` });
      await rm.getByRole('button', { name: 'Remove licence' }).click();
      await rm.waitFor({ state: 'detached' });
      await card.waitFor({ state: 'detached' });
    });

    await step(page, 'delete the template', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/templates`);
      const row = page.getByRole('table', { name: 'Templates' }).getByRole('row').filter({ has: page.getByRole('rowheader', { name: templateName, exact: true }) });
      await row.getByRole('button', { name: 'Delete' }).click();
      const dialog = page.getByRole('dialog', { name: `Delete ${templateName}?` });
      await dialog.getByRole('button', { name: 'Delete template' }).click();
      await dialog.waitFor({ state: 'detached' });
      await row.waitFor({ state: 'detached' });
    });

    await step(page, 'no uncaught errors in the page (admin)', async () => {
      assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
    });

    // ---- A viewer sees the same pages without edit controls.
    await context.close();
    ({ context, page } = await newPage(browser));

    await step(page, 'sign in as viewer', () => signIn(page, 'viewer', 'E2E Viewer'));

    await step(page, 'a viewer sees licences but no edit controls on the user page', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/users/${encodeURIComponent(userC.id)}`);
      await page.getByRole('heading', { name: userC.name, level: 1 }).waitFor();
      await page.locator('article.licence').first().waitFor();
      for (const name of ['Assign licence', 'Offboard…', 'Change add-ons', 'Reassign to…', 'Remove']) {
        const n = await page.getByRole('button', { name, exact: true }).count();
        assert(n === 0, `a viewer sees ${n} "${name}" button(s)`);
      }
      assert((await page.locator('.licence-actions, .licence-toolbar, input[role="switch"]').count()) === 0, 'licence edit controls are on the page');
    });

    await step(page, 'a viewer sees no selection or "Apply template" in the users list, and no template edits', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/users`);
      await page.locator('table[aria-label="Users"] tbody tr[data-user-id]').first().waitFor();
      assert((await page.locator('input[data-select-user], .selection-bar').count()) === 0, 'the users list has selection controls');
      assert((await page.getByRole('button', { name: 'Apply template' }).count()) === 0, 'Apply template is shown');
      await page.goto(`${BASE_URL}/${customerHref}/templates`);
      await page.getByRole('heading', { name: 'Templates', level: 2 }).waitFor();
      await page.getByRole('table', { name: 'Templates' }).locator('tbody tr').first().waitFor();
      for (const name of ['New template', 'Edit', 'Delete']) {
        assert((await page.getByRole('button', { name, exact: true }).count()) === 0, `a viewer sees "${name}"`);
      }
    });

    await step(page, 'a viewer can read the audit log', async () => {
      await page.goto(`${BASE_URL}/${customerHref}/audit`);
      const table = page.getByRole('table', { name: 'Audit log' });
      await table.locator('tbody tr[data-action]').first().waitFor();
      const first = await table.locator('tbody tr[data-action]').first().getAttribute('data-action');
      console.log(`     newest record: ${first}`);
    });

    await step(page, 'no uncaught errors in the page (viewer)', async () => {
      assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
    });
  } finally {
    await browser.close().catch(() => {});
  }
}

await run(main);
