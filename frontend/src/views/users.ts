// The Users tab of a customer: server-side paged, searched and filtered; licences as chips.

import { toApiError } from '../api/client';
import type { Sku, User, UserLicence } from '../api/types';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { CursorPager } from '../lib/paging';
import {
  accountLabel,
  asUserFilter,
  fillPage,
  licenceChip,
  listHash,
  sortLicences,
  USER_FILTERS,
  userStatusLabel,
  type UsersListState,
} from '../lib/users';
import { href } from '../router';
import { errorAlert, messageRow, orDash, pagerControls, table, time, type Panel } from './common';
import { templateSelection } from './templates';

/** Users per page. */
export const USERS_PAGE_SIZE = 25;
/** Wait this long after the last keystroke before searching. */
export const SEARCH_DEBOUNCE_MS = 300;
/** Requests per page at most when the server returns short pages (filters are applied server-side). */
export const MAX_REQUESTS_PER_PAGE = 5;

/** The users tab's last hash per customer (search and filters), so that coming back keeps them. */
const lastUsers = new Map<string, string>();

export function lastUsersHash(customerId: string): string {
  return lastUsers.get(customerId) ?? listHash(customerId, { q: '', sku: '', filter: '' });
}

/** A licence as a chip: "via group" styling when not held directly, red when in error. */
export function licenceChipEl(l: UserLicence): HTMLElement {
  const c = licenceChip(l);
  return h(
    'li',
    {
      className: c.className,
      title: c.title,
      'data-sku-id': l.skuId,
      'data-via-group': c.viaGroup ? 'true' : null,
      'data-error': c.error ? (l.error && l.error !== 'None' ? l.error : l.state) : null,
    },
    c.text,
    c.viaGroup ? h('span', { className: 'visually-hidden' }, ' (via group)') : null,
    c.error ? h('span', { className: 'visually-hidden' }, ` (error: ${l.error && l.error !== 'None' ? l.error : l.state})`) : null,
  );
}

export function accountBadge(enabled: boolean): HTMLElement {
  return h('span', { className: enabled ? 'badge badge-enabled' : 'badge badge-disabled', 'data-account': enabled ? 'enabled' : 'disabled' }, accountLabel(enabled));
}

export function userStatusEl(u: Pick<User, 'status' | 'removedAt'>): HTMLElement {
  if (u.status === 'active') return h('span', { 'data-user-status': u.status }, userStatusLabel(u.status));
  return h(
    'span',
    { className: 'user-removed', 'data-user-status': u.status },
    h('span', { className: 'badge badge-removed' }, userStatusLabel(u.status)),
    u.removedAt ? h('span', { className: 'small muted' }, ' ', time(u.removedAt)) : null,
  );
}

export function usersPanel({ app, signal }: ViewProps, customerId: string, initial: UsersListState): Panel {
  let state: UsersListState = { q: initial.q.trim(), sku: initial.sku, filter: initial.filter };
  const pager = new CursorPager();
  const headers = ['Display name', 'UPN', 'Licences', 'Usage location', 'Account', 'Status'];
  const { el: tableEl, body } = table('Users', headers, 'table-users');
  const status = h('div');
  const controls = pagerControls('Users', pager, (c) => void loadPage(c));
  // Admins tick users to apply a template to them (null for a viewer).
  const selection = templateSelection({ app, signal }, customerId, () => void loadPage(pager.cursor));
  const nameHeader = tableEl.tHead?.rows[0]?.cells[0];
  if (selection && nameHeader) selection.header(nameHeader);

  const search = h('input', {
    type: 'search',
    id: 'users-search',
    name: 'q',
    placeholder: 'Display name or UPN starts with…',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  search.value = state.q;
  const skuSelect = h('select', { id: 'users-sku', name: 'sku' });
  const filterSelect = h(
    'select',
    { id: 'users-filter', name: 'filter' },
    ...USER_FILTERS.map((f) => h('option', { value: f.value }, f.label)),
  );
  filterSelect.value = state.filter;
  const clear = h('button', { type: 'button', className: 'btn btn-ghost' }, 'Clear');
  let skus: Sku[] = [];
  renderSkuOptions();

  const form = h(
    'form',
    { className: 'toolbar', role: 'search', 'aria-label': 'Search and filter users', novalidate: true },
    h('div', { className: 'field field-grow' }, h('label', { for: 'users-search' }, 'Search'), search),
    h('div', { className: 'field' }, h('label', { for: 'users-sku' }, 'Licence'), skuSelect),
    h('div', { className: 'field' }, h('label', { for: 'users-filter' }, 'Show'), filterSelect),
    h('div', { className: 'field field-submit' }, clear),
  );

  const el = h(
    'section',
    { className: 'card tab-panel', 'aria-labelledby': 'users-title' },
    h('h2', { id: 'users-title' }, 'Users'),
    form,
    status,
    selection ? selection.el : null,
    h('div', { className: 'table-wrap' }, tableEl),
    h(
      'div',
      { className: 'table-foot' },
      h(
        'p',
        { className: 'legend small muted', 'aria-label': 'Licence chips' },
        h('span', { className: 'chip chip-legend' }, 'Direct'),
        h('span', { className: 'chip chip-group chip-legend' }, 'Via group'),
        h('span', { className: 'chip chip-error chip-legend' }, 'In error'),
      ),
      controls.el,
    ),
  );

  function renderSkuOptions(): void {
    const names = new Map<string, number>();
    for (const k of skus) names.set(k.name || k.partNumber, (names.get(k.name || k.partNumber) ?? 0) + 1);
    const sorted = [...skus].sort((a, b) => (a.name || a.partNumber).localeCompare(b.name || b.partNumber));
    const opts = sorted.map((k) => {
      const name = k.name || k.partNumber;
      return h('option', { value: k.skuId }, (names.get(name) ?? 0) > 1 ? `${name} (${k.partNumber})` : name);
    });
    // A licence from the hash that the customer does not (or no longer) have stays selectable.
    if (state.sku && !skus.some((k) => k.skuId === state.sku)) opts.push(h('option', { value: state.sku }, `SKU ${state.sku}`));
    replace(skuSelect, h('option', { value: '' }, 'Any licence'), ...opts);
    skuSelect.value = state.sku;
  }

  async function loadSkus(): Promise<void> {
    try {
      const res = await app.api.customerSkus(customerId, signal);
      if (signal.aborted) return;
      skus = res.items ?? [];
      renderSkuOptions();
    } catch (e) {
      if (signal.aborted) return;
      replace(status, errorAlert(toApiError(e), 'Cannot load the licences to filter by'));
    }
  }

  function filtered(): boolean {
    return state.q !== '' || state.sku !== '' || state.filter !== '';
  }

  function row(u: User): HTMLTableRowElement {
    const licences = sortLicences(u.licences);
    return h(
      'tr',
      { 'data-user-id': u.id, className: u.status !== 'active' ? 'row-removed' : '' },
      h('th', { scope: 'row' }, selection ? selection.box(u) : null, h('a', { href: href({ name: 'user', id: customerId, userId: u.id }) }, u.displayName || u.userPrincipalName)),
      h('td', { className: 'mono small' }, u.userPrincipalName),
      h(
        'td',
        { className: 'licences-cell' },
        licences.length > 0
          ? h('ul', { className: 'chips', 'aria-label': 'Licences' }, ...licences.map(licenceChipEl))
          : h('span', { className: 'muted' }, 'Unlicensed'),
      ),
      h('td', {}, orDash(u.usageLocation)),
      h('td', {}, accountBadge(u.accountEnabled)),
      h('td', {}, userStatusEl(u)),
    );
  }

  let inflight: AbortController | null = null;
  let seq = 0;

  async function loadPage(cursor: string): Promise<void> {
    inflight?.abort();
    const ctrl = new AbortController();
    inflight = ctrl;
    const stop = (): void => ctrl.abort();
    signal.addEventListener('abort', stop, { once: true });
    const my = ++seq;
    const q = { ...state };
    controls.update(true);
    replace(status);
    tableEl.setAttribute('aria-busy', 'true');
    if (body.rows.length === 0) replace(body, messageRow(headers.length, 'Loading…'));
    try {
      const res = await fillPage(
        (cur, limit) => app.api.listUsers(customerId, { cursor: cur, limit, q: q.q, sku: q.sku, filter: q.filter }, ctrl.signal),
        cursor,
        USERS_PAGE_SIZE,
        MAX_REQUESTS_PER_PAGE,
      );
      if (my !== seq || signal.aborted) return;
      pager.loaded(res.nextCursor);
      let empty: string;
      if (res.nextCursor !== '') empty = 'No matching users in this part of the list. Press Next to keep looking.';
      else if (filtered()) empty = pager.pageNumber === 1 ? 'No users match the search and filters.' : 'No more matching users.';
      else empty = pager.pageNumber === 1 ? 'No users yet. Sync the customer to read its users from Microsoft 365.' : 'No more users.';
      replace(body, ...(res.items.length > 0 ? res.items.map(row) : [messageRow(headers.length, empty)]));
      selection?.shown(res.items);
    } catch (e) {
      if (my !== seq || signal.aborted) return;
      replace(body);
      replace(status, errorAlert(toApiError(e), 'Cannot load users'));
    } finally {
      signal.removeEventListener('abort', stop);
      if (my === seq && !signal.aborted) {
        controls.update(false);
        tableEl.removeAttribute('aria-busy');
      }
    }
  }

  function apply(): void {
    const next: UsersListState = { q: search.value.trim(), sku: skuSelect.value, filter: asUserFilter(filterSelect.value) };
    if (next.q === state.q && next.sku === state.sku && next.filter === state.filter) return;
    state = next;
    const hash = listHash(customerId, state);
    lastUsers.set(customerId, hash);
    if (!signal.aborted && location.hash !== hash) history.replaceState(null, '', hash);
    pager.reset();
    void loadPage('');
  }

  let debounce: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener('abort', () => clearTimeout(debounce), { once: true });
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(apply, SEARCH_DEBOUNCE_MS);
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearTimeout(debounce);
    apply();
  });
  skuSelect.addEventListener('change', apply);
  filterSelect.addEventListener('change', apply);
  clear.addEventListener('click', () => {
    clearTimeout(debounce);
    search.value = '';
    skuSelect.value = '';
    filterSelect.value = '';
    apply();
    search.focus();
  });

  lastUsers.set(customerId, listHash(customerId, state));
  void loadSkus();
  void loadPage('');

  return {
    el,
    async reload() {
      await Promise.all([loadSkus(), loadPage(pager.cursor)]);
    },
  };
}
