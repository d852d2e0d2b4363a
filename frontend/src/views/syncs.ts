// The Sync history tab of a customer: its sync runs, newest first, server-side paged.

import { toApiError } from '../api/client';
import type { SyncRun } from '../api/types';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { formatCount } from '../lib/format';
import { CursorPager } from '../lib/paging';
import { formatDuration, modeLabel, triggerLabel } from '../lib/sync';
import { errorAlert, messageRow, pagerControls, table, time, type Panel } from './common';

/** Runs per page of the sync history. */
export const SYNCS_PAGE_SIZE = 20;

const runStatusText: Record<string, string> = { running: 'Running', ok: 'OK', failed: 'Failed' };

/** A run's status badge; `data-run-status` carries the raw value (not data-sync-status: that is the customer's). */
export function runBadge(status: string): HTMLElement {
  return h('span', { className: `badge badge-${status}`, 'data-run-status': status }, runStatusText[status] ?? status);
}

export function syncHistoryPanel({ app, signal }: ViewProps, customerId: string): Panel {
  const pager = new CursorPager();
  const headers = ['Started', 'Mode', 'Trigger', 'Status', 'Duration', 'Users written', 'Users removed', 'SKUs written', 'Pages', 'Resumed'];
  const { el: tableEl, body } = table('Sync history', headers, 'table-syncs');
  const status = h('div');
  const controls = pagerControls('Sync history', pager, (c) => void loadPage(c));
  const el = h(
    'section',
    { className: 'card tab-panel', 'aria-labelledby': 'syncs-title' },
    h('h2', { id: 'syncs-title' }, 'Sync history'),
    status,
    h('div', { className: 'table-wrap' }, tableEl),
    controls.el,
  );

  const num = (n: number): HTMLTableCellElement => h('td', { className: 'num' }, typeof n === 'number' ? formatCount(n) : '—');

  function row(r: SyncRun): HTMLTableRowElement {
    return h(
      'tr',
      { 'data-run-id': r.id },
      h('th', { scope: 'row', className: 'nowrap' }, time(r.startedAt)),
      h('td', {}, modeLabel(r.mode)),
      h('td', { className: 'trigger' }, triggerLabel(r.trigger)),
      h(
        'td',
        {},
        runBadge(r.status),
        r.error
          ? h('div', { className: 'small text-error run-error' }, r.error, r.errorCode ? h('code', { className: 'code-chip' }, r.errorCode) : null)
          : null,
      ),
      h('td', { className: 'num nowrap' }, r.status === 'running' && !r.finishedAt ? h('span', { className: 'muted' }, 'running') : formatDuration(r.durationMs)),
      num(r.usersWritten),
      num(r.usersRemoved),
      num(r.skusWritten),
      num(r.pages),
      h('td', {}, r.resumed ? 'Yes' : 'No'),
    );
  }

  let seq = 0;
  async function loadPage(cursor: string): Promise<void> {
    const my = ++seq;
    controls.update(true);
    replace(status);
    if (body.rows.length === 0) replace(body, messageRow(headers.length, 'Loading…'));
    try {
      const page = await app.api.listSyncs(customerId, cursor, SYNCS_PAGE_SIZE, signal);
      if (my !== seq || signal.aborted) return;
      pager.loaded(page.nextCursor);
      const items = page.items ?? [];
      replace(
        body,
        ...(items.length > 0
          ? items.map(row)
          : [messageRow(headers.length, pager.pageNumber === 1 ? 'No syncs yet. Press "Sync now" to read the tenant.' : 'No more syncs.')]),
      );
    } catch (e) {
      if (my !== seq || signal.aborted) return;
      replace(body);
      replace(status, errorAlert(toApiError(e), 'Cannot load the sync history'));
    } finally {
      if (my === seq && !signal.aborted) controls.update(false);
    }
  }

  void loadPage('');
  return {
    el,
    // Newest first: after a sync the first page is the one that changed.
    async reload() {
      pager.reset();
      await loadPage('');
    },
  };
}
