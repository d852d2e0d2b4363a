// Licences summary across every customer in scope, server-side paged.

import { toApiError } from '../api/client';
import type { Sku } from '../api/types';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { CursorPager } from '../lib/paging';
import { href } from '../router';
import { countCell, errorAlert, messageRow, pagerControls, table, utilisationBar } from './common';

/** Rows per page of the licences summary. */
export const LICENCES_PAGE_SIZE = 50;

export function licencesView({ app, root, signal }: ViewProps): void {
  const pager = new CursorPager();
  const headers = ['Customer', 'Licence', 'Part number', 'SKU id', 'Active', 'Used', 'Available', 'Utilisation'];
  const { el: tableEl, body } = table('Licences across customers', headers, 'table-licences');
  const status = h('div');
  const controls = pagerControls('Licences', pager, (c) => void loadPage(c));

  replace(
    root,
    h(
      'div',
      { className: 'page-head' },
      h('h1', {}, 'Licences'),
      h('p', { className: 'muted' }, 'Every licence SKU of every customer in your scope.'),
    ),
    h('section', { className: 'card', 'aria-label': 'Licences summary' }, status, h('div', { className: 'table-wrap' }, tableEl), controls.el),
  );

  function row(k: Sku): HTMLTableRowElement {
    return h(
      'tr',
      { 'data-customer-id': k.customerId, 'data-sku-id': k.skuId },
      h('td', { className: 'nowrap' }, h('a', { href: href({ name: 'customer', id: k.customerId }) }, k.customerName || k.customerId)),
      h('th', { scope: 'row' }, k.name || k.partNumber),
      h('td', { className: 'mono' }, k.partNumber),
      h('td', { className: 'mono small' }, k.skuId),
      countCell(k.active),
      countCell(k.used),
      countCell(k.available),
      h('td', {}, utilisationBar(k.used, k.active)),
    );
  }

  async function loadPage(cursor: string): Promise<void> {
    controls.update(true);
    replace(status);
    if (body.rows.length === 0) replace(body, messageRow(headers.length, 'Loading…'));
    try {
      const page = await app.api.listSkus(cursor, LICENCES_PAGE_SIZE, signal);
      if (signal.aborted) return;
      pager.loaded(page.nextCursor);
      const items = page.items;
      replace(
        body,
        ...(items.length > 0
          ? items.map(row)
          : [messageRow(headers.length, pager.pageNumber === 1 ? 'No licences yet. Sync a customer to read its licences.' : 'No more licences.')]),
      );
    } catch (e) {
      if (signal.aborted) return;
      replace(body);
      replace(status, errorAlert(toApiError(e), 'Cannot load licences'));
    } finally {
      if (!signal.aborted) controls.update(false);
    }
  }

  void loadPage('');
}
