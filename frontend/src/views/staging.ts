// The Staging tab of a customer: who is staged (waiting to appear in Teams), since when, attempts, next check, last
// result, error; filtered by status, server-side paged, and refreshed every few seconds while a row shown is under
// way. Admins "Un-stage now" (check Teams at once: provisions when the user is there, else says so) and remove a
// user from staging. A viewer sees the list without the buttons.

import { toApiError } from '../api/client';
import { checkStaging, listSites, listStaging, removeStaging } from '../api/provisioning';
import type { Site, Staging } from '../api/types';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { formatRelative } from '../lib/format';
import { CursorPager } from '../lib/paging';
import {
  formatIn,
  isActive,
  shouldAutoRefresh,
  STAGING_FILTERS,
  STAGING_REFRESH_MS,
  stagingBadgeClass,
  stagingNumber,
  stagingSiteId,
  stagingStatusLabel,
} from '../lib/staging';
import { fillPage } from '../lib/users';
import { can } from '../permissions';
import { href } from '../router';
import { errorAlert, messageRow, pagerControls, sleep, table, time, type Panel } from './common';
import { button, openDialog, refusal, summaryBox } from './licenceActions';

/** Staging records per page. */
export const STAGING_PAGE_SIZE = 50;

/** A staging status as a badge; `data-staging-status` carries the raw value. */
export function stagingBadge(status: string): HTMLElement {
  return h('span', { className: stagingBadgeClass(status), 'data-staging-status': status }, stagingStatusLabel(status));
}

/** The Staging tab. */
export function stagingPanel({ app, signal }: ViewProps, customerId: string): Panel {
  const canEdit = can(app.me?.role, 'licence:edit');
  const pager = new CursorPager();
  const headers = ['User', 'Status', 'Staged', 'Attempts', 'Next check', 'Last result', 'Site and number', ...(canEdit ? ['Actions'] : [])];
  const { el: tableEl, body } = table('Staged users', headers, 'table-staging');
  const status = h('div', { className: 'staging-msg', 'aria-live': 'polite' });
  const refreshNote = h('span', { className: 'small muted refresh-note', 'aria-live': 'off' });
  const controls = pagerControls('Staging', pager, (c) => void loadPage(c));
  const filter = h('select', { id: 'staging-status', name: 'status' }, ...STAGING_FILTERS.map((f) => h('option', { value: f.value }, f.label)));
  filter.value = '';
  let sites: Site[] = [];
  let rows: Staging[] = [];
  /** Users whose action is running: their row keeps its buttons disabled through refreshes. */
  const busyUsers = new Set<string>();

  const el = h(
    'section',
    { className: 'card tab-panel', 'aria-labelledby': 'staging-title' },
    h('div', { className: 'panel-head' }, h('h2', { id: 'staging-title' }, 'Staging'), refreshNote),
    h(
      'p',
      { className: 'muted small' },
      'Newly licensed users wait here until they appear in Microsoft Teams; then Seatwise places them on a site, applies its template and assigns a number.',
    ),
    h(
      'form',
      { className: 'toolbar', 'aria-label': 'Filter staged users', novalidate: true },
      h('div', { className: 'field' }, h('label', { for: 'staging-status' }, 'Show'), filter),
    ),
    status,
    h('div', { className: 'table-wrap' }, tableEl),
    h('div', { className: 'table-foot' }, h('span'), controls.el),
  );

  const siteName = (id: string): string => sites.find((s) => s.id === id)?.name ?? '';

  function row(s: Staging): HTMLTableRowElement {
    const name = s.displayName || s.userPrincipalName || s.userId;
    const number = stagingNumber(s);
    const siteId = stagingSiteId(s);
    const actions: HTMLElement[] = [];
    if (canEdit && isActive(s.status)) {
      const check = button('Un-stage now', () => void checkNow(s), 'btn btn-small btn-primary');
      const remove = button('Remove from staging', () => openRemove(s), 'btn btn-small');
      check.disabled = remove.disabled = busyUsers.has(s.userId);
      actions.push(check, remove);
    }
    return h(
      'tr',
      { 'data-user-id': s.userId, 'data-staging-status': s.status, className: s.status === 'failed' ? 'row-failed' : '' },
      h(
        'th',
        { scope: 'row' },
        h('a', { href: href({ name: 'user', id: customerId, userId: s.userId }) }, name),
        s.userPrincipalName && s.userPrincipalName !== name ? h('div', { className: 'mono small muted' }, s.userPrincipalName) : null,
        s.reason ? h('div', { className: 'small muted' }, s.reason) : null,
      ),
      h('td', {}, stagingBadge(s.status), s.error ? h('div', { className: 'small text-error staging-error', 'data-testid': 'staging-error' }, s.error) : null),
      h('td', { className: 'nowrap' }, time(s.stagedAt), h('div', { className: 'small muted' }, formatRelative(s.stagedAt))),
      h('td', { className: 'num' }, String(s.attempts)),
      h(
        'td',
        { className: 'nowrap' },
        isActive(s.status) && s.nextCheckAt
          ? h('span', {}, time(s.nextCheckAt), h('div', { className: 'small muted' }, formatIn(s.nextCheckAt)))
          : h('span', { className: 'muted' }, '—'),
        isActive(s.status) && s.deadline ? h('div', { className: 'small muted' }, 'Gives up ', time(s.deadline)) : null,
      ),
      h('td', { className: 'last-result' }, s.lastResult || h('span', { className: 'muted' }, '—'), s.lastCheckAt ? h('div', { className: 'small muted' }, time(s.lastCheckAt)) : null),
      h(
        'td',
        { 'data-testid': 'staging-outcome' },
        siteId ? h('div', { 'data-site-id': siteId }, siteName(siteId) || siteId) : null,
        number ? h('div', { className: 'mono', 'data-number': number }, number, s.assignedNumber ? null : h('span', { className: 'small muted' }, s.reservedNumber ? ' (reserved)' : ' (asked for)')) : null,
        !siteId && !number ? h('span', { className: 'muted' }, '—') : null,
      ),
      canEdit ? h('td', { className: 'nowrap' }, actions.length > 0 ? h('div', { className: 'actions', role: 'group', 'aria-label': `Actions for ${name}` }, ...actions) : null) : null,
    );
  }

  function render(): void {
    const empty =
      pager.hasNext
        ? 'No matching records in this part of the list. Press Next to keep looking.'
        : filter.value === ''
          ? 'Nobody has been staged yet. Users are staged when they get a Teams licence and the customer allows staging.'
          : 'Nobody matches this filter.';
    replace(body, ...(rows.length > 0 ? rows.map(row) : [messageRow(headers.length, empty)]));
  }

  /** Puts a fresh record into its row in place (after Un-stage now). */
  function updateRow(s: Staging): void {
    rows = rows.map((r) => (r.userId === s.userId ? s : r));
    render();
  }

  let seq = 0;
  async function loadPage(cursor: string, quiet = false): Promise<void> {
    const my = ++seq;
    if (!quiet) {
      controls.update(true);
      tableEl.setAttribute('aria-busy', 'true');
      if (body.rows.length === 0) replace(body, messageRow(headers.length, 'Loading…'));
    }
    try {
      const res = await fillPage((cur, limit) => listStaging(app.api, customerId, { status: filter.value, cursor: cur, limit }, signal), cursor, STAGING_PAGE_SIZE);
      if (my !== seq || signal.aborted) return;
      pager.loaded(res.nextCursor);
      rows = res.items;
      render();
      if (!quiet) replace(status);
    } catch (e) {
      if (my !== seq || signal.aborted) return;
      if (!quiet) {
        replace(body);
        replace(status, errorAlert(toApiError(e), 'Cannot load the staged users'));
      }
    } finally {
      if (my === seq && !signal.aborted) {
        controls.update(false);
        tableEl.removeAttribute('aria-busy');
        replace(refreshNote, shouldAutoRefresh(rows) ? `Refreshing every ${STAGING_REFRESH_MS / 1000} s while users are staged.` : '');
      }
    }
  }

  // Refreshes the page while a row shown is under way, so that staged → provisioned shows without a reload.
  void (async () => {
    while (!signal.aborted) {
      await sleep(STAGING_REFRESH_MS, signal);
      if (signal.aborted) return;
      if (shouldAutoRefresh(rows) && !document.hidden && !document.querySelector('dialog[open]')) await loadPage(pager.cursor, true);
    }
  })();

  filter.addEventListener('change', () => {
    pager.reset();
    void loadPage('');
  });

  async function checkNow(s: Staging): Promise<void> {
    const name = s.displayName || s.userPrincipalName;
    busyUsers.add(s.userId);
    render();
    replace(status, h('div', { className: 'alert alert-info', role: 'status' }, `Checking whether ${name} is in Teams…`));
    try {
      const res = await checkStaging(app.api, customerId, s.userId);
      if (signal.aborted) return;
      busyUsers.delete(s.userId);
      updateRow(res.staging);
      const st = res.staging.status;
      replace(
        status,
        h(
          'div',
          { 'data-testid': 'check-result', 'data-ready': String(res.ready), 'data-user-id': s.userId },
          summaryBox({
            level: st === 'provisioned' ? 'ok' : st === 'failed' ? 'failed' : 'partial',
            // The server's message names the user; without one, say it here.
            title: res.message || `${name}: ${res.ready ? stagingStatusLabel(st) : 'not in Teams yet; still staged.'}`,
            lines: [
              ...(res.staging.error ? [res.staging.error] : []),
              ...(stagingNumber(res.staging) && res.staging.assignedNumber ? [`Number ${res.staging.assignedNumber}`] : []),
            ],
          }),
        ),
      );
    } catch (e) {
      if (signal.aborted) return;
      busyUsers.delete(s.userId);
      render();
      replace(status, refusal(e, `Cannot check ${name}`));
    }
  }

  function openRemove(s: Staging): void {
    const name = s.displayName || s.userPrincipalName;
    const d = openDialog(`Remove ${name} from staging?`, 'dialog-remove');
    const error = h('div', { className: 'dialog-error' });
    replace(d.body, h('p', {}, `Seatwise stops watching for ${name}: they are not placed on a site nor given a number. Their licences stay.`), error);
    const ok = h('button', { type: 'button', className: 'btn btn-danger' }, 'Remove from staging');
    ok.addEventListener('click', () => {
      replace(error);
      ok.disabled = true;
      void (async () => {
        try {
          const res = await removeStaging(app.api, customerId, s.userId);
          d.close();
          if (signal.aborted) return;
          updateRow(res);
          replace(status, summaryBox({ level: 'ok', title: `Removed ${name} from staging.`, lines: [] }));
        } catch (e) {
          replace(error, refusal(e, `${name} was not removed from staging`));
          ok.disabled = false;
        }
      })();
    });
    d.footer.append(button('Cancel', d.close, 'btn btn-ghost'), ok);
  }

  async function loadSites(): Promise<void> {
    try {
      const res = await listSites(app.api, customerId, signal);
      if (signal.aborted) return;
      sites = res.items ?? [];
      if (rows.length > 0) render();
    } catch {
      // Without names the column shows site ids.
    }
  }

  async function reload(): Promise<void> {
    await Promise.all([loadSites(), loadPage(pager.cursor)]);
  }

  void reload();
  return { el, reload };
}
