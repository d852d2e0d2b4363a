// The audit log of a customer (its own tab) and of one user (the user page's Audit tab): newest first, paged on the
// server; who, when, what, which user, before → after, the outcome (with the error) and Graph's request-id.

import { listAudit } from '../api/licensing';
import type { AuditRecord } from '../api/types';
import type { ViewProps } from '../context';
import { actionLabel, changeLines, outcomeLabel, type Names } from '../lib/audit';
import { h, replace } from '../lib/dom';
import { CursorPager } from '../lib/paging';
import { href } from '../router';
import { messageRow, pagerControls, table, time, type Panel } from './common';
import { refusal } from './licenceActions';

/** Records per page. */
export const AUDIT_PAGE_SIZE = 25;

/** The audit log of a customer, or of one of its users when `userId` is given. */
export function auditPanel({ app, signal }: ViewProps, customerId: string, userId?: string): Panel {
  const pager = new CursorPager();
  const headers = userId
    ? ['When', 'Who', 'Action', 'Change', 'Outcome', 'Request id']
    : ['When', 'Who', 'Action', 'User', 'Change', 'Outcome', 'Request id'];
  const label = userId ? 'Audit log of the user' : 'Audit log';
  const { el: tableEl, body } = table(label, headers, 'table-audit');
  const status = h('div');
  const controls = pagerControls('Audit log', pager, (c) => void loadPage(c));
  const names: { sku: Map<string, string>; plan: Map<string, string> } = { sku: new Map(), plan: new Map() };
  const userNames = new Map<string, string>();

  const el = h(
    'section',
    { className: 'card tab-panel', 'aria-labelledby': 'audit-title' },
    h('h2', { id: 'audit-title' }, userId ? 'Audit' : 'Audit log'),
    h('p', { className: 'muted small' }, userId ? 'Every change of this user’s licences, newest first.' : 'Every change made in Seatwise for this customer, newest first.'),
    status,
    h('div', { className: 'table-wrap' }, tableEl),
    h('div', { className: 'table-foot' }, h('span'), controls.el),
  );
  replace(body, messageRow(headers.length, 'Loading…'));

  /** SKU and plan names, so that before → after reads as licences, not ids; the log works without them. */
  async function loadNames(): Promise<void> {
    try {
      const res = await app.api.customerSkus(customerId, signal);
      for (const k of res.items ?? []) {
        names.sku.set(k.skuId.toLowerCase(), k.name || k.partNumber);
        for (const p of k.servicePlans ?? []) names.plan.set(p.id.toLowerCase(), p.friendlyName || p.name);
      }
    } catch {
      // ids are shown instead
    }
  }

  function changeCell(r: AuditRecord, n: Names): HTMLTableCellElement {
    const lines = changeLines(r.before, r.after, n);
    if (lines.length === 0) return h('td', { className: 'muted' }, '—');
    return h(
      'td',
      { className: 'audit-change' },
      h(
        'ul',
        { className: 'changes' },
        ...lines.map((l) =>
          h(
            'li',
            {},
            l.label ? h('span', { className: 'change-label' }, `${l.label}: `) : null,
            ...(l.text !== undefined
              ? [h('span', { className: `change-text change-${l.label}` }, l.text)]
              : [
                  h('span', { className: 'change-before' }, l.before),
                  h('span', { className: 'change-arrow', 'aria-label': 'becomes' }, ' → '),
                  h('span', { className: 'change-after' }, l.after),
                ]),
          ),
        ),
      ),
    );
  }

  function userCell(r: AuditRecord): HTMLTableCellElement {
    if (!r.userId) return h('td', { className: 'muted' }, '—');
    const name = userNames.get(r.userId.toLowerCase()) || r.userId;
    return h('td', {}, h('a', { href: href({ name: 'user', id: customerId, userId: r.userId }), 'data-audit-user': r.userId.toLowerCase(), className: name === r.userId ? 'mono small' : '' }, name));
  }

  /** Puts the users' names in place of their ids (the records carry ids only); ids stay when a user cannot be read. */
  async function resolveUsers(items: readonly AuditRecord[]): Promise<void> {
    const ids = [...new Set(items.map((r) => (r.userId ?? '').toLowerCase()).filter((id) => id !== '' && !userNames.has(id)))];
    await Promise.allSettled(
      ids.map(async (id) => {
        const u = await app.api.getUser(customerId, id, signal);
        userNames.set(id, u.displayName || u.userPrincipalName);
      }),
    );
    if (signal.aborted) return;
    for (const a of body.querySelectorAll<HTMLAnchorElement>('a[data-audit-user]')) {
      const n = userNames.get(a.dataset['auditUser'] ?? '');
      if (n) {
        a.textContent = n;
        a.className = '';
      }
    }
  }

  function row(r: AuditRecord): HTMLTableRowElement {
    const failed = r.outcome !== 'ok';
    return h(
      'tr',
      { 'data-action': r.action, 'data-outcome': r.outcome, className: failed ? 'row-failed' : '' },
      h('td', { className: 'nowrap' }, time(r.at)),
      h('td', { className: 'small' }, r.actor),
      h('th', { scope: 'row' }, actionLabel(r.action), h('div', { className: 'mono small muted' }, r.action)),
      userId ? null : userCell(r),
      changeCell(r, names),
      h(
        'td',
        {},
        h('span', { className: `badge ${failed ? 'badge-failed' : 'badge-ok'}`, 'data-audit-outcome': r.outcome }, outcomeLabel(r.outcome)),
        r.error ? h('div', { className: 'small text-error audit-error' }, r.error) : null,
      ),
      h('td', { className: 'mono small' }, r.requestId || h('span', { className: 'muted' }, '—')),
    );
  }

  let seq = 0;
  async function loadPage(cursor: string): Promise<void> {
    const my = ++seq;
    controls.update(true);
    replace(status);
    tableEl.setAttribute('aria-busy', 'true');
    try {
      const page = await listAudit(app.api, customerId, { cursor, limit: AUDIT_PAGE_SIZE, ...(userId ? { userId } : {}) }, signal);
      if (my !== seq || signal.aborted) return;
      pager.loaded(page.nextCursor);
      const items = page.items ?? [];
      replace(
        body,
        ...(items.length > 0
          ? items.map(row)
          : [messageRow(headers.length, pager.pageNumber === 1 ? (userId ? 'No changes recorded for this user yet.' : 'No changes recorded yet.') : 'No more records.')]),
      );
      if (!userId) void resolveUsers(items);
    } catch (e) {
      if (my !== seq || signal.aborted) return;
      replace(body);
      replace(status, refusal(e, 'Cannot load the audit log'));
    } finally {
      if (my === seq && !signal.aborted) {
        controls.update(false);
        tableEl.removeAttribute('aria-busy');
      }
    }
  }

  const first = loadNames().then(() => loadPage(''));
  void first;

  return {
    el,
    async reload() {
      pager.reset();
      await loadPage('');
    },
  };
}
