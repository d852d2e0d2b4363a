// The dashboard (#/dashboard, the landing page of provider admins): the alerts of the customers in the caller's scope
// (unused seats, overused licences, licence assignment errors, staging failures), each linking to what it is about;
// the usage history across those customers; and, for provider admins, the provider's default factor rules (editable
// by one who sees every customer).

import { ApiError } from '../api/client';
import type { Customer } from '../api/types';
import { getUsage, listAlerts, previewFactorRules, usageHistory, type Alert } from '../api/usage';
import type { ViewProps } from '../context';
import { alertCounts, alertHref, alertLabel, alertLevel, alertLinkText, sortAlerts } from '../lib/alerts';
import { h, replace } from '../lib/dom';
import { formatCount } from '../lib/format';
import { seriesFromHistory, skuChoices } from '../lib/history';
import { canEditProviderRules } from '../permissions';
import { href } from '../router';
import { historyCard } from './chart';
import { messageRow, table, time } from './common';
import { factorRulesEditor } from './factorRules';
import { refusal } from './licenceActions';

export function dashboardView(props: ViewProps): void {
  const { app, root, signal } = props;
  const headers = ['Alert', 'Customer', 'What', 'Since', ''];
  const { el: alertsTable, body } = table('Alerts', headers, 'table-alerts');
  replace(body, messageRow(headers.length, 'Loading…'));
  const chips = h('ul', { className: 'alert-counts', 'aria-label': 'Alerts by kind' });
  const status = h('div', { 'aria-live': 'polite' });

  const alertsCard = h(
    'section',
    { className: 'card', 'aria-labelledby': 'alerts-title' },
    h('h2', { id: 'alerts-title' }, 'Alerts'),
    h('p', { className: 'muted small' }, 'From each customer’s last snapshot (daily, or Refresh on its Usage tab) and its last sync.'),
    chips,
    status,
    h('div', { className: 'table-wrap' }, alertsTable),
  );

  const history = historyCard(props, {
    idPrefix: 'all-history',
    heading: 'Usage across customers',
    intro: 'The customers’ daily snapshots added up; factors are added up by name.',
    fetch: async (range, _site, sig) => (await usageHistory(app.api, range.from, range.to, sig)).items ?? [],
    build: seriesFromHistory,
    skus: (pts) => skuChoices(pts),
  });

  const isProvider = app.me?.role === 'provider-admin';
  const canEditRules = canEditProviderRules(app.me);
  // The provider's rules are previewed on one customer at a time: the counts they would give it.
  const previewOn = h('select', { id: 'prules-preview-on', 'aria-label': 'Preview on customer' });
  const customers: Customer[] = [];
  const chosen = (): Customer | undefined => customers.find((c) => c.id === previewOn.value);
  const rules = isProvider
    ? factorRulesEditor(props, {
        customerId: '',
        canEdit: canEditRules,
        ...(canEditRules
          ? {
              previewOn: h('span', { className: 'field-inline preview-on' }, h('label', { for: 'prules-preview-on' }, 'Preview on'), previewOn),
              preview: (rs, sig) => {
                if (!previewOn.value) return Promise.reject(new ApiError(0, 'invalid', 'Choose a customer to preview on.'));
                return previewFactorRules(app.api, previewOn.value, rs, sig);
              },
              current: async (sig) => (previewOn.value ? (await getUsage(app.api, previewOn.value, sig)).usage : null),
              previewNote: () => {
                const c = chosen();
                return c ? `On ${c.name}; its current counts use the rules it has now (its own, or these as saved).` : '';
              },
            }
          : {}),
      })
    : null;

  replace(
    root,
    h('div', { className: 'page-head' }, h('h1', {}, 'Dashboard'), h('p', { className: 'muted' }, 'What needs attention across your customers, and how licences are used over time.')),
    alertsCard,
    history.el,
    rules?.el,
  );

  function row(a: Alert): HTMLTableRowElement {
    const link = alertHref(a);
    return h(
      'tr',
      { 'data-kind': a.kind, 'data-customer-id': a.customerId, className: `alert-row alert-row-${alertLevel(a.kind)}` },
      h('td', {}, h('span', { className: `badge ${alertLevel(a.kind) === 'error' ? 'badge-failed' : 'badge-queued'}`, 'data-alert-kind': a.kind }, alertLabel(a.kind))),
      h('td', { className: 'nowrap' }, h('a', { href: href({ name: 'customer', id: a.customerId }) }, a.customerName || a.customerId)),
      h('th', { scope: 'row', className: 'alert-message' }, a.message, a.partNumber ? h('span', { className: 'mono small muted' }, ` ${a.partNumber}`) : null),
      h('td', { className: 'nowrap' }, a.since ? time(a.since) : h('span', { className: 'muted' }, '—')),
      h('td', { className: 'nowrap' }, h('a', { href: link, className: 'btn btn-small', 'data-alert-link': '' }, alertLinkText(a.kind))),
    );
  }

  async function loadAlerts(): Promise<void> {
    try {
      const res = await listAlerts(app.api, signal);
      if (signal.aborted) return;
      const alerts = sortAlerts(res.items ?? []);
      replace(
        chips,
        ...alertCounts(alerts).map((c) =>
          h('li', { className: c.count > 0 ? `alert-count alert-count-${alertLevel(c.kind)}` : 'alert-count', 'data-kind': c.kind }, c.label, ' ', h('strong', {}, formatCount(c.count))),
        ),
      );
      replace(body, ...(alerts.length > 0 ? alerts.map(row) : [messageRow(headers.length, 'No alerts. All clear.')]));
    } catch (e) {
      if (signal.aborted) return;
      replace(body);
      replace(status, refusal(e, 'Cannot load the alerts'));
    }
  }

  async function loadCustomers(): Promise<void> {
    try {
      // The first page is enough to choose from; a provider with more can preview on a customer's Usage tab.
      const page = await app.api.listCustomers('', 100, signal);
      if (signal.aborted) return;
      customers.splice(0, customers.length, ...[...page.items].sort((a, b) => a.name.localeCompare(b.name)));
      replace(previewOn, ...customers.map((c) => h('option', { value: c.id }, c.name)));
      if (customers.length === 0) replace(previewOn, h('option', { value: '' }, 'No customers yet'));
    } catch {
      replace(previewOn, h('option', { value: '' }, 'Customers unavailable'));
    }
  }

  void loadAlerts();
  if (rules && canEditRules) void loadCustomers();
}
