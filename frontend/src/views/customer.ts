// Customer detail: tenant, sync state, "Sync now" (with polling) and the licences table.

import { toApiError } from '../api/client';
import type { Customer, Sku, SyncStatus } from '../api/types';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { formatCount } from '../lib/format';
import { can } from '../permissions';
import { href } from '../router';
import { countCell, errorAlert, messageRow, syncBadge, table, time, utilisationBar } from './common';

/** How often the sync state is polled after "Sync now". */
export const POLL_INTERVAL_MS = 1000;
/** Polling gives up after this long (the page still shows the last state and a hint). */
export const POLL_LIMIT_MS = 5 * 60 * 1000;

const terminal: ReadonlySet<SyncStatus> = new Set<SyncStatus>(['ok', 'failed', 'never']);

export function customerView({ app, root, signal }: ViewProps, id: string): void {
  const title = h('h1', {}, 'Customer');
  const subtitle = h('p', { className: 'muted mono' });
  const syncMsg = h('div', { className: 'sync-msg', role: 'status', 'aria-live': 'polite' });
  const details = h('section', { className: 'card', 'aria-labelledby': 'sync-title' });
  const skusHeaders = ['Licence', 'Part number', 'SKU id', 'Active', 'Used', 'Available', 'Utilisation'];
  const { el: skusTable, body: skusBody } = table('Licences', skusHeaders, 'table-licences');
  const skusStatus = h('div');
  const canSync = can(app.me?.role, 'customer:sync');
  const syncBtn = h('button', { type: 'button', className: 'btn btn-primary' }, 'Sync now');
  let polling = false;

  replace(
    root,
    h('nav', { className: 'breadcrumb', 'aria-label': 'Breadcrumb' }, h('a', { href: href({ name: 'customers' }) }, 'Customers'), ' / ', h('span', { 'aria-current': 'page' }, 'Detail')),
    h('div', { className: 'page-head page-head-row' }, h('div', {}, title, subtitle), canSync ? syncBtn : null),
    syncMsg,
    details,
    h(
      'section',
      { className: 'card', 'aria-labelledby': 'licences-title' },
      h('h2', { id: 'licences-title' }, 'Licences'),
      skusStatus,
      h('div', { className: 'table-wrap' }, skusTable),
    ),
  );
  replace(details, h('p', { className: 'muted' }, 'Loading…'));
  replace(skusBody, messageRow(skusHeaders.length, 'Loading…'));

  function renderCustomer(c: Customer): void {
    replace(title, c.name);
    replace(subtitle, `Tenant ${c.tenantId}`);
    document.title = `${c.name} · Seatwise`;
    const s = c.sync;
    const row = (label: string, value: Node | string): Node[] => [h('dt', {}, label), h('dd', {}, value)];
    replace(
      details,
      h('h2', { id: 'sync-title' }, 'Tenant and sync'),
      h(
        'dl',
        { className: 'facts' },
        ...row('Name', c.name),
        ...row('Microsoft tenant id', h('span', { className: 'mono' }, c.tenantId)),
        ...row('Public sector', c.publicSector ? 'Yes' : 'No'),
        ...row('Sync status', syncBadge(s.status)),
        ...row('Last attempt', time(s.lastAttemptAt)),
        ...row('Last success', time(s.lastSuccessAt)),
        ...row(
          'Last error',
          s.lastError
            ? h('span', { className: 'text-error' }, s.lastError, s.lastErrorCode ? h('code', { className: 'code-chip' }, s.lastErrorCode) : null)
            : h('span', { className: 'muted' }, 'None'),
        ),
        ...row('Licence SKUs', formatCount(s.skuCount)),
      ),
    );
    syncBtn.disabled = polling || s.status === 'queued' || s.status === 'running';
  }

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

  async function loadSkus(): Promise<void> {
    try {
      const res = await app.api.customerSkus(id, signal);
      if (signal.aborted) return;
      replace(skusStatus);
      const items = [...res.items].sort((a, b) => (a.name || a.partNumber).localeCompare(b.name || b.partNumber));
      replace(
        skusBody,
        ...(items.length > 0
          ? items.map(skuRow)
          : [messageRow(skusHeaders.length, 'No licences yet. Sync the customer to read them from Microsoft 365.')]),
      );
    } catch (e) {
      if (signal.aborted) return;
      replace(skusBody);
      replace(skusStatus, errorAlert(toApiError(e), 'Cannot load licences'));
    }
  }

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

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
    });

  /** Polls the customer until its sync finishes, then reloads the licences. */
  async function pollUntilDone(): Promise<void> {
    polling = true;
    syncBtn.disabled = true;
    const deadline = Date.now() + POLL_LIMIT_MS;
    let failures = 0;
    try {
      while (!signal.aborted && Date.now() < deadline) {
        await sleep(POLL_INTERVAL_MS);
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
              : h('div', { className: 'alert alert-error' }, `Sync failed${c.sync.lastError ? `: ${c.sync.lastError}` : '.'}`),
          );
          await loadSkus();
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
    if (!c) {
      replace(skusBody);
      return;
    }
    await loadSkus();
    // A sync started elsewhere (or before a reload) is followed too.
    if (c.sync.status === 'queued' || c.sync.status === 'running') {
      replace(syncMsg, h('div', { className: 'alert alert-info' }, `Sync ${c.sync.status}…`));
      void pollUntilDone();
    }
  })();
}
