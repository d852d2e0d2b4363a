// Customer page: tenant and sync panel (status, counts, licence errors by type, interval, "Sync now" with polling),
// then tabs: Licences | Users | Usage | Staging | Numbers | Sites & settings | Templates | Bulk upload | Sync history | Audit log;
// and the "Onboard users" action, whose form opens in place of a tab.

import { toApiError } from '../api/client';
import type { Customer, Sku, SyncStatus } from '../api/types';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { formatCount } from '../lib/format';
import { formatDuration, intervalLabel, intervalOptions, modeLabel, validInterval } from '../lib/sync';
import { errorSummary, parseListState } from '../lib/users';
import { can } from '../permissions';
import { href, parseRoute, type CustomerTab } from '../router';
import { countCell, errorAlert, facts, messageRow, sleep, syncBadge, table, tabBar, time, utilisationBar, type Panel } from './common';
import { auditPanel } from './audit';
import { bulkPanel } from './bulk';
import { numbersPanel } from './numbers';
import { onboardButton, onboardingPanel } from './onboarding';
import { sitesPanel } from './sites';
import { stagingPanel } from './staging';
import { syncHistoryPanel } from './syncs';
import { templatesPanel } from './templates';
import { usagePanel } from './usage';
import { lastUsersHash, usersPanel } from './users';

/** How often the sync state is polled after "Sync now". */
export const POLL_INTERVAL_MS = 1000;
/** Polling gives up after this long (the page still shows the last state and a hint). */
export const POLL_LIMIT_MS = 5 * 60 * 1000;

const terminal: ReadonlySet<SyncStatus> = new Set<SyncStatus>(['ok', 'failed', 'never']);

export function customerView(props: ViewProps, id: string, tab: CustomerTab = 'licences'): void {
  const { app, root, signal } = props;
  const title = h('h1', {}, 'Customer');
  const subtitle = h('p', { className: 'muted mono' });
  const crumb = h('span', { 'aria-current': 'page' }, 'Customer');
  const syncMsg = h('div', { className: 'sync-msg', role: 'status', 'aria-live': 'polite' });
  const details = h('section', { className: 'card', 'aria-labelledby': 'sync-title' });
  const canSync = can(app.me?.role, 'customer:sync');
  const canEdit = can(app.me?.role, 'customer:settings');
  const syncBtn = h('button', { type: 'button', className: 'btn btn-primary' }, 'Sync now');
  let polling = false;
  let current: Customer | null = null;

  // The interval control is built once, so that a poll never resets it under the user's hand.
  const intervalSelect = h('select', { id: 'sync-interval', name: 'syncIntervalMinutes', disabled: !canEdit });
  const intervalMsg = h('div', { className: 'interval-msg', role: 'status', 'aria-live': 'polite' });
  let savingInterval = false;
  const intervalField = h(
    'div',
    { className: 'field field-inline' },
    h('label', { for: 'sync-interval' }, 'Sync every'),
    intervalSelect,
    canEdit ? null : h('span', { className: 'help' }, 'Only admins can change it.'),
  );

  const usersCount = h('span', { className: 'tab-count', hidden: true });
  const tabs = tabBar(
    'Customer sections',
    [
      { id: 'licences', label: 'Licences', href: href({ name: 'customer', id }) },
      // The users tab keeps the search and filters of the last visit (they live in the hash).
      { id: 'users', label: 'Users', href: lastUsersHash(id) },
      { id: 'usage', label: 'Usage', href: href({ name: 'customer', id, tab: 'usage' }) },
      { id: 'staging', label: 'Staging', href: href({ name: 'customer', id, tab: 'staging' }) },
      { id: 'numbers', label: 'Numbers', href: href({ name: 'customer', id, tab: 'numbers' }) },
      { id: 'sites', label: 'Sites & settings', href: href({ name: 'customer', id, tab: 'sites' }) },
      { id: 'templates', label: 'Templates', href: href({ name: 'customer', id, tab: 'templates' }) },
      { id: 'bulk', label: 'Bulk upload', href: href({ name: 'customer', id, tab: 'bulk' }) },
      { id: 'syncs', label: 'Sync history', href: href({ name: 'customer', id, tab: 'syncs' }) },
      { id: 'audit', label: 'Audit log', href: href({ name: 'customer', id, tab: 'audit' }) },
    ],
    tab,
  );
  tabs.querySelector('[data-tab="users"]')?.append(usersCount);

  const panels: Record<CustomerTab, () => Panel> = {
    licences: () => licencesPanel(props, id),
    users: () => usersPanel(props, id, parseListState(location.hash)),
    usage: () => usagePanel(props, id),
    syncs: () => syncHistoryPanel(props, id),
    templates: () => templatesPanel(props, id),
    staging: () => stagingPanel(props, id),
    numbers: () => numbersPanel(props, id),
    sites: () => sitesPanel(props, id),
    onboard: () => onboardingPanel(props, id),
    audit: () => auditPanel(props, id),
    bulk: () => {
      // The bulk tab shows one upload's job when the hash names it.
      const r = parseRoute(location.hash);
      return bulkPanel(props, id, r.name === 'customer' && r.tab === 'bulk' ? r.jobId : undefined);
    },
  };
  const panel: Panel = panels[tab]();
  const onboard = onboardButton(app, id);

  replace(
    root,
    h(
      'nav',
      { className: 'breadcrumb', 'aria-label': 'Breadcrumb' },
      h('a', { href: href({ name: 'customers' }) }, 'Customers'),
      ' / ',
      crumb,
    ),
    h(
      'div',
      { className: 'page-head page-head-row' },
      h('div', {}, title, subtitle),
      onboard || canSync ? h('div', { className: 'page-actions' }, onboard, canSync ? syncBtn : null) : null,
    ),
    syncMsg,
    details,
    tabs,
    panel.el,
  );
  replace(details, h('p', { className: 'muted' }, 'Loading…'));

  function renderCustomer(c: Customer): void {
    current = c;
    replace(title, c.name);
    replace(crumb, c.name);
    replace(subtitle, `Tenant ${c.tenantId}`);
    document.title = `${c.name} · Seatwise`;
    const s = c.sync;
    const synced = Boolean(s.lastSuccessAt);
    const count = (n: number | undefined): string => (synced && typeof n === 'number' ? formatCount(n) : '—');
    const stat = (label: string, value: string, cls = ''): HTMLElement =>
      h('div', { className: `stat ${cls}`.trim() }, h('div', { className: 'stat-value' }, value), h('div', { className: 'stat-label' }, label));
    const errors = errorSummary(s.errorsByType);
    replace(
      details,
      h('h2', { id: 'sync-title' }, 'Tenant and sync'),
      h(
        'div',
        { className: 'sync-panel' },
        facts([
          ['Microsoft tenant id', h('span', { className: 'mono' }, c.tenantId)],
          ['Public sector', c.publicSector ? 'Yes' : 'No'],
          ['Sync status', syncBadge(s.status)],
          ['Last attempt', time(s.lastAttemptAt)],
          ['Last success', time(s.lastSuccessAt)],
          ['Last full sync', time(s.lastFullSyncAt)],
          ['Last duration', synced || s.lastDurationMs ? formatDuration(s.lastDurationMs) : h('span', { className: 'muted' }, '—')],
          ['Mode', modeLabel(s.mode)],
          [
            'Last error',
            s.lastError
              ? h('span', { className: 'text-error', 'data-testid': 'sync-error' }, s.lastError, s.lastErrorCode ? h('code', { className: 'code-chip' }, s.lastErrorCode) : null)
              : h('span', { className: 'muted' }, 'None'),
          ],
        ]),
        h(
          'div',
          { className: 'sync-side' },
          h(
            'div',
            { className: 'stats', role: 'group', 'aria-label': 'User counts' },
            stat('Users', count(s.userCount)),
            stat('Licensed', count(s.licensedCount)),
            stat('Disabled', count(s.disabledCount)),
            stat('With licence errors', count(s.errorCount), synced && s.errorCount > 0 ? 'stat-error' : ''),
            stat('Licence SKUs', synced || s.skuCount ? formatCount(s.skuCount) : '—'),
          ),
          h(
            'div',
            { className: 'errors-by-type' },
            h('span', { className: 'muted small' }, 'Licence errors by type'),
            errors.length > 0
              ? h(
                  'ul',
                  { className: 'error-chips', 'aria-label': 'Licence errors by type' },
                  ...errors.map((e) =>
                    h('li', { className: 'error-chip', title: e.title, 'data-error-code': e.code }, e.code, ' ', h('strong', {}, formatCount(e.count))),
                  ),
                )
              : h('span', { className: 'small' }, synced ? 'None' : '—'),
          ),
          intervalField,
          intervalMsg,
        ),
      ),
    );
    renderInterval(c.syncIntervalMinutes);
    syncBtn.disabled = polling || s.status === 'queued' || s.status === 'running';
    if (synced && typeof s.userCount === 'number') {
      replace(usersCount, formatCount(s.userCount));
      usersCount.hidden = false;
    }
  }

  function renderInterval(minutes: number | undefined): void {
    if (savingInterval) return;
    const opts = intervalOptions(minutes);
    const want = opts.map((o) => `${o.value}`).join(',');
    if (intervalSelect.dataset['options'] !== want) {
      replace(intervalSelect, ...opts.map((o) => h('option', { value: String(o.value) }, o.label)));
      intervalSelect.dataset['options'] = want;
    }
    intervalSelect.value = typeof minutes === 'number' ? String(minutes) : '';
  }

  intervalSelect.addEventListener('change', () => {
    const c = current;
    const minutes = Number(intervalSelect.value);
    if (!c || !validInterval(minutes) || minutes === c.syncIntervalMinutes) return;
    savingInterval = true;
    intervalSelect.disabled = true;
    replace(intervalMsg, h('span', { className: 'muted small' }, 'Saving…'));
    app.api
      .updateCustomer(id, { syncIntervalMinutes: minutes, version: c.version })
      .then((updated) => {
        if (signal.aborted) return;
        savingInterval = false;
        renderCustomer(updated);
        replace(intervalMsg, h('span', { className: 'small text-ok' }, `Saved: every ${intervalLabel(updated.syncIntervalMinutes)}.`));
      })
      .catch(async (e: unknown) => {
        if (signal.aborted) return;
        savingInterval = false;
        const err = toApiError(e);
        if (err.code === 'conflict') {
          replace(
            intervalMsg,
            h('div', { className: 'alert alert-warn', role: 'alert', 'data-code': 'conflict' }, 'Changed by someone else — reloaded. Check the interval and choose again if needed.'),
          );
          await loadCustomer();
        } else {
          renderInterval(c.syncIntervalMinutes);
          replace(intervalMsg, errorAlert(err, 'Cannot change the sync interval'));
        }
      })
      .finally(() => {
        if (!signal.aborted) intervalSelect.disabled = !canEdit;
      });
  });

  async function loadCustomer(): Promise<Customer | null> {
    try {
      const c = await app.api.getCustomer(id, signal);
      if (signal.aborted) return null;
      renderCustomer(c);
      return c;
    } catch (e) {
      if (signal.aborted) return null;
      replace(details, errorAlert(toApiError(e), 'Cannot load the customer'));
      return null;
    }
  }

  /** Polls the customer until its sync finishes, then reloads the tab. */
  async function pollUntilDone(): Promise<void> {
    polling = true;
    syncBtn.disabled = true;
    const deadline = Date.now() + POLL_LIMIT_MS;
    let failures = 0;
    try {
      while (!signal.aborted && Date.now() < deadline) {
        await sleep(POLL_INTERVAL_MS, signal);
        if (signal.aborted) return;
        let c: Customer;
        try {
          c = await app.api.getCustomer(id, signal);
        } catch (e) {
          if (signal.aborted) return;
          const err = toApiError(e);
          if (++failures >= 5 || err.status === 401 || err.status === 403 || err.status === 404) {
            replace(syncMsg, errorAlert(err, 'Cannot follow the sync'));
            return;
          }
          continue;
        }
        failures = 0;
        if (signal.aborted) return;
        renderCustomer(c);
        const st = c.sync.status;
        if (terminal.has(st)) {
          replace(
            syncMsg,
            st === 'ok'
              ? h('div', { className: 'alert alert-success' }, 'Sync finished.')
              : h(
                  'div',
                  { className: 'alert alert-error' },
                  `Sync failed${c.sync.lastError ? `: ${c.sync.lastError}` : '.'}`,
                  c.sync.lastErrorCode ? h('code', { className: 'code-chip' }, c.sync.lastErrorCode) : null,
                ),
          );
          await panel.reload();
          return;
        }
        replace(syncMsg, h('div', { className: 'alert alert-info' }, `Sync ${st}…`));
      }
      if (!signal.aborted) {
        replace(syncMsg, h('div', { className: 'alert alert-info' }, 'The sync is taking a while; reload the page later to see the result.'));
      }
    } finally {
      polling = false;
      if (!signal.aborted) syncBtn.disabled = false;
    }
  }

  syncBtn.addEventListener('click', () => {
    syncBtn.disabled = true;
    replace(syncMsg, h('div', { className: 'alert alert-info' }, 'Requesting a sync…'));
    app.api
      .syncCustomer(id)
      .then((c) => {
        if (signal.aborted) return;
        renderCustomer(c);
        replace(syncMsg, h('div', { className: 'alert alert-info' }, `Sync ${c.sync.status}.`));
        if (tab === 'syncs') void panel.reload();
        void pollUntilDone();
      })
      .catch((e: unknown) => {
        if (signal.aborted) return;
        syncBtn.disabled = false;
        replace(syncMsg, errorAlert(toApiError(e), 'Cannot start a sync'));
      });
  });

  void (async () => {
    const c = await loadCustomer();
    if (!c) return;
    // A sync started elsewhere (or before a reload) is followed too.
    if (c.sync.status === 'queued' || c.sync.status === 'running') {
      replace(syncMsg, h('div', { className: 'alert alert-info' }, `Sync ${c.sync.status}…`));
      void pollUntilDone();
    }
  })();
}

/** The Licences tab: the customer's SKUs with seats and utilisation. */
function licencesPanel({ app, signal }: ViewProps, id: string): Panel {
  const headers = ['Licence', 'Part number', 'SKU id', 'Active', 'Used', 'Available', 'Utilisation'];
  const { el: skusTable, body: skusBody } = table('Licences', headers, 'table-licences');
  const status = h('div');
  const el = h(
    'section',
    { className: 'card tab-panel', 'aria-labelledby': 'licences-title' },
    h('h2', { id: 'licences-title' }, 'Licences'),
    status,
    h('div', { className: 'table-wrap' }, skusTable),
  );
  replace(skusBody, messageRow(headers.length, 'Loading…'));

  function skuRow(k: Sku): HTMLTableRowElement {
    return h(
      'tr',
      { 'data-sku-id': k.skuId },
      h('th', { scope: 'row' }, k.name || k.partNumber),
      h('td', { className: 'mono' }, k.partNumber),
      h('td', { className: 'mono small' }, k.skuId),
      countCell(k.active),
      countCell(k.used),
      countCell(k.available),
      h('td', {}, utilisationBar(k.used, k.active)),
    );
  }

  async function reload(): Promise<void> {
    try {
      const res = await app.api.customerSkus(id, signal);
      if (signal.aborted) return;
      replace(status);
      const items = [...(res.items ?? [])].sort((a, b) => (a.name || a.partNumber).localeCompare(b.name || b.partNumber));
      replace(
        skusBody,
        ...(items.length > 0
          ? items.map(skuRow)
          : [messageRow(headers.length, 'No licences yet. Sync the customer to read them from Microsoft 365.')]),
      );
    } catch (e) {
      if (signal.aborted) return;
      replace(skusBody);
      replace(status, errorAlert(toApiError(e), 'Cannot load licences'));
    }
  }

  void reload();
  return { el, reload };
}
