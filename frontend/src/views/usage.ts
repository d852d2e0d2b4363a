// The Usage tab of a customer (the licence usage audit): acquired (the licence pool the provider entered) vs currently
// licensed; each factor's count with the users behind it (server-paged drill-down); the SKUs with acquired seats
// (editable by provider admins, with the unused-seat alert thresholds), Graph's prepaid and consumed units; the usage
// per site; the history chart; and the factor rules editor with its preview. "Refresh" takes today's snapshot now.
// A viewer sees the same without a single edit control.

import { toApiError } from '../api/client';
import type { User } from '../api/types';
import {
  getPool,
  getUsage,
  listSnapshots,
  listUsageUsers,
  previewFactorRules,
  savePool,
  takeSnapshot,
  UNMATCHED,
  type CurrentUsage,
  type LicencePool,
} from '../api/usage';
import type { ViewProps } from '../context';
import { h, replace } from '../lib/dom';
import { formatCount, formatDateTime } from '../lib/format';
import { seriesFromSnapshots, skuChoices } from '../lib/history';
import { CursorPager } from '../lib/paging';
import {
  acquiredOf,
  availableSeats,
  countRows,
  isStale,
  MAX_UNUSED_DAYS,
  poolDraft,
  poolInput,
  siteTable,
  sortSkus,
  validatePool,
  type PoolDraft,
} from '../lib/usage';
import { fillPage } from '../lib/users';
import { can } from '../permissions';
import { href } from '../router';
import { historyCard } from './chart';
import { countCell, messageRow, pagerControls, table, type Panel } from './common';
import { factorRulesEditor } from './factorRules';
import { button, refusal, summaryBox } from './licenceActions';
import { staleNotice } from './sites';

/** Users per page of the drill-down. */
export const DRILL_PAGE_SIZE = 25;

const stat = (label: string, value: string, testid: string, cls = ''): HTMLElement =>
  h('div', { className: `stat ${cls}`.trim(), 'data-testid': testid }, h('div', { className: 'stat-value' }, value), h('div', { className: 'stat-label' }, label));

/** The Usage tab. */
export function usagePanel(props: ViewProps, customerId: string): Panel {
  const { app, signal } = props;
  const canRefresh = can(app.me?.role, 'usage:refresh');
  const canPool = can(app.me?.role, 'usage:pool');
  const canRules = can(app.me?.role, 'usage:rules');
  let current: CurrentUsage | null = null;
  let pool: LicencePool | null = null;

  // -- Summary and factor counts
  const refreshBtn = canRefresh ? button('Refresh', () => void refresh(), 'btn btn-primary') : null;
  const refreshMsg = h('div', { className: 'refresh-msg', 'aria-live': 'polite' });
  const computed = h('p', { className: 'muted small', 'data-testid': 'usage-computed' });
  const stats = h('div', { className: 'stats usage-stats', role: 'group', 'aria-label': 'Acquired and licensed' });
  const status = h('div', { className: 'usage-msg', 'aria-live': 'polite' });
  const factorHeaders = ['Factor', 'Users', 'Share of licensed', ''];
  const { el: factorTable, body: factorBody } = table('Licence factors', factorHeaders, 'table-factors');
  replace(factorBody, messageRow(factorHeaders.length, 'Loading…'));
  const drill = h('div', { className: 'drill', 'aria-live': 'polite' });

  const summary = h(
    'section',
    { className: 'card tab-panel', 'aria-labelledby': 'usage-title' },
    h('div', { className: 'panel-head' }, h('h2', { id: 'usage-title' }, 'Licence usage'), refreshBtn),
    h(
      'p',
      { className: 'muted small' },
      'Counted from the last sync with the factor rules below: each licensed user once, by the first rule that matches. Refresh takes today’s snapshot for the history.',
    ),
    computed,
    refreshMsg,
    status,
    stats,
    h('div', { className: 'table-wrap' }, factorTable),
    drill,
  );

  // -- Licences and the pool
  const poolMsg = h('div', { className: 'pool-msg', 'aria-live': 'polite' });
  const poolBox = h('div', { className: 'pool-box' }, h('p', { className: 'muted' }, 'Loading…'));
  const poolCard = h(
    'section',
    { className: 'card', 'aria-labelledby': 'pool-title' },
    h('h2', { id: 'pool-title' }, 'Acquired licences'),
    h(
      'p',
      { className: 'muted small' },
      'Acquired: the seats the provider bought (entered here), beside Microsoft’s prepaid units. An unused-seats alert is raised when a licence has at least the threshold of seats available on each of the last days.',
    ),
    poolMsg,
    poolBox,
  );

  // -- Sites
  const sitesBox = h('div', { className: 'table-wrap' });
  const sitesCard = h(
    'section',
    { className: 'card', 'aria-labelledby': 'usage-sites-title' },
    h('h2', { id: 'usage-sites-title' }, 'Usage by site'),
    h('p', { className: 'muted small' }, 'Each user counts on the site Seatwise placed them on (or whose criteria match them); the sites add up to the customer.'),
    sitesBox,
  );

  // -- History
  const history = historyCard(props, {
    idPrefix: 'usage-history',
    heading: 'Usage history',
    intro: 'Daily snapshots (taken every day, and by Refresh).',
    fetch: async (range, siteId, sig) => (await listSnapshots(app.api, customerId, range.from, range.to, siteId, sig)).items ?? [],
    build: seriesFromSnapshots,
    skus: (pts) => skuChoices(pts),
    siteChoices: () => (current?.sites ?? []).map((s) => ({ value: s.siteId, label: s.siteName || s.siteId })),
  });

  // -- Rules
  const rules = factorRulesEditor(props, {
    customerId,
    canEdit: canRules,
    preview: (rs, sig) => previewFactorRules(app.api, customerId, rs, sig),
    current: () => current?.usage ?? null,
    onChanged: () => void loadUsage(),
  });

  const el = h('div', { className: 'tab-panel usage-tab' }, summary, poolCard, sitesCard, history.el, rules.el);

  function renderUsage(c: CurrentUsage): void {
    current = c;
    replace(computed, `Computed ${formatDateTime(c.computedAt)}${c.rulesVersion > 0 ? ` with rules version ${c.rulesVersion}` : ''}.`);
    const spare = c.acquired - c.usage.licensed;
    replace(
      stats,
      stat('Acquired', c.acquired > 0 ? formatCount(c.acquired) : '—', 'stat-acquired'),
      stat('Currently licensed', formatCount(c.usage.licensed), 'stat-licensed'),
      c.acquired > 0 ? stat(spare >= 0 ? 'Acquired, not licensed' : 'Licensed beyond acquired', formatCount(Math.abs(spare)), 'stat-spare', spare < 0 ? 'stat-warn' : '') : null,
      stat('Active users', formatCount(c.users), 'stat-users'),
      stat('Unmatched', formatCount(c.usage.unmatched), 'stat-unmatched', c.usage.unmatched > 0 ? 'stat-warn' : ''),
    );
    const rows = countRows(c.usage);
    replace(
      factorBody,
      ...rows.map((r) => {
        const show = r.count > 0 ? button('Show users', () => void openDrill(r.key, r.name, r.count), 'btn btn-small') : null;
        show?.setAttribute('aria-label', `Show the ${r.count} users of ${r.name}`);
        show?.setAttribute('data-drill', r.key);
        return h(
          'tr',
          { 'data-rule-id': r.key, className: r.key === UNMATCHED ? 'row-unmatched' : r.enabled ? '' : 'row-off' },
          h('th', { scope: 'row' }, r.name, r.enabled ? null : h('span', { className: 'badge badge-disabled badge-inline' }, 'Off')),
          h('td', { className: 'num', 'data-count': String(r.count) }, formatCount(r.count)),
          h('td', { className: 'num muted' }, `${r.share}%`),
          h('td', {}, show),
        );
      }),
      h('tr', { className: 'row-total', 'data-rule-id': 'licensed' }, h('th', { scope: 'row' }, 'Licensed'), h('td', { className: 'num', 'data-count': String(c.usage.licensed) }, formatCount(c.usage.licensed)), h('td', { className: 'num muted' }, c.usage.licensed > 0 ? '100%' : '—'), h('td')),
    );
    renderSites(c);
    renderPool();
    history.updateSites();
  }

  function renderSites(c: CurrentUsage): void {
    const t = siteTable(c);
    if (t.rows.length === 0) {
      replace(sitesBox, h('p', { className: 'muted' }, 'No sites yet.'));
      return;
    }
    const headers = ['Site', 'Users', 'Licensed', ...t.columns.map((x) => x.name), 'Unmatched'];
    const { el: tEl, body } = table('Usage by site', headers, 'table-usage-sites');
    replace(
      body,
      ...t.rows.map((r) =>
        h(
          'tr',
          { 'data-site-id': r.siteId },
          h('th', { scope: 'row' }, r.siteName),
          countCell(r.users),
          countCell(r.licensed),
          ...r.counts.map((n, i) => h('td', { className: 'num', 'data-rule-id': t.columns[i]?.key ?? '' }, formatCount(n))),
          countCell(r.unmatched),
        ),
      ),
    );
    replace(sitesBox, tEl);
  }

  // -- Drill-down

  let drillSeq = 0;
  function openDrill(rule: string, name: string, count: number): void {
    const my = ++drillSeq;
    const pager = new CursorPager();
    const headers = ['User', 'User principal name', 'Licences'];
    const { el: tEl, body } = table(`Users counted under ${name}`, headers, 'table-drill');
    const controls = pagerControls('Users', pager, (c) => void load(c));
    const closeBtn = button('Close', () => {
      replace(drill);
      factorBody.querySelector<HTMLElement>(`[data-drill="${CSS.escape(rule)}"]`)?.focus();
    }, 'btn btn-small btn-ghost');
    const msg = h('div');
    const heading = h('h3', { id: 'drill-title', tabindex: '-1' }, `${name}: ${formatCount(count)} ${count === 1 ? 'user' : 'users'}`);
    replace(
      drill,
      h(
        'section',
        { className: 'drill-card', 'aria-labelledby': 'drill-title', 'data-rule-id': rule },
        h('div', { className: 'panel-head' }, heading, closeBtn),
        msg,
        h('div', { className: 'table-wrap' }, tEl),
        h('div', { className: 'table-foot' }, h('span'), controls.el),
      ),
    );
    heading.focus();

    function row(u: User): HTMLTableRowElement {
      const licences = (u.licences ?? []).map((l) => l.partNumber || l.skuId);
      return h(
        'tr',
        { 'data-user-id': u.id },
        h('th', { scope: 'row' }, h('a', { href: href({ name: 'user', id: customerId, userId: u.id }) }, u.displayName || u.userPrincipalName)),
        h('td', { className: 'mono small' }, u.userPrincipalName),
        h('td', { className: 'small' }, licences.join(', ') || '—'),
      );
    }

    async function load(cursor: string): Promise<void> {
      controls.update(true);
      if (body.rows.length === 0) replace(body, messageRow(headers.length, 'Loading…'));
      try {
        const res = await fillPage((cur, limit) => listUsageUsers(app.api, customerId, rule, cur, limit, signal), cursor, DRILL_PAGE_SIZE);
        if (my !== drillSeq || signal.aborted) return;
        pager.loaded(res.nextCursor);
        replace(body, ...(res.items.length > 0 ? res.items.map(row) : [messageRow(headers.length, 'Nobody: the counts changed since (sync or rules). Refresh the page.')]));
      } catch (e) {
        if (my !== drillSeq || signal.aborted) return;
        replace(body);
        replace(msg, refusal(e, 'Cannot list the users'));
      } finally {
        if (my === drillSeq && !signal.aborted) controls.update(false);
      }
    }
    void load('');
  }

  // -- Pool

  function renderPool(): void {
    const c = current;
    const p = pool;
    if (!c || !p) return;
    const skus = sortSkus(c.skus ?? []);
    const headers = ['Licence', 'Part number', 'Acquired', 'Prepaid (Microsoft)', 'Consumed', 'Available', 'Users holding it'];
    const { el: tEl, body } = table('Acquired licences', headers, 'table-pool');
    let draft: PoolDraft = poolDraft(p);
    let errs: Record<string, string> = {};
    const form = h('form', { className: 'form pool-form', novalidate: true, 'aria-label': 'Licence pool' });

    const render = (): void => {
      replace(
        body,
        ...(skus.length > 0
          ? skus.map((k) => {
              const key = k.skuId.toLowerCase();
              const entered = acquiredOf(p, k.skuId);
              let acquiredCell: HTMLElement;
              if (canPool) {
                const id = `pool-${key}`;
                const input = h('input', {
                  type: 'number',
                  id,
                  min: 0,
                  step: 1,
                  className: 'input-short',
                  value: draft.acquired[key] ?? '',
                  placeholder: '—',
                  'data-acquired': k.skuId,
                  'aria-label': `Acquired seats of ${k.name || k.partNumber}`,
                  'aria-invalid': errs[`acquired.${key}`] || errs[`acquired.${k.skuId}`] ? 'true' : null,
                  'aria-describedby': `${id}-error`,
                });
                input.addEventListener('input', () => (draft = { ...draft, acquired: { ...draft.acquired, [key]: input.value } }));
                acquiredCell = h('td', { className: 'num' }, input, h('p', { id: `${id}-error`, className: 'field-error' }, errs[`acquired.${key}`] ?? errs[`acquired.${k.skuId}`] ?? ''));
              } else {
                acquiredCell = h('td', { className: 'num', 'data-acquired': k.skuId }, entered === null ? h('span', { className: 'muted' }, '—') : formatCount(entered));
              }
              return h(
                'tr',
                { 'data-sku-id': k.skuId, 'data-part-number': k.partNumber },
                h('th', { scope: 'row' }, k.name || k.partNumber),
                h('td', { className: 'mono small' }, k.partNumber),
                acquiredCell,
                countCell(k.enabled),
                countCell(k.consumed),
                countCell(availableSeats(k)),
                countCell(k.assigned),
              );
            })
          : [messageRow(headers.length, 'No licences yet. Sync the customer to read them from Microsoft 365.')]),
      );
      const thresholds = canPool
        ? h(
            'div',
            { className: 'form-row pool-thresholds' },
            numberField('pool-threshold', 'unusedThreshold', 'Unused-seat alert: seats available', 'At least this many seats unused…'),
            numberField('pool-days', 'unusedDays', 'for days', `…on each of this many daily snapshots (1–${MAX_UNUSED_DAYS}).`),
          )
        : h('p', { className: 'small', 'data-testid': 'pool-thresholds' }, `Unused-seat alert: at least ${formatCount(p.unusedThreshold)} seats available on each of the last ${p.unusedDays} days.`);
      replace(
        form,
        h('div', { className: 'table-wrap' }, tEl),
        thresholds,
        canPool ? h('div', { className: 'form-actions' }, h('button', { type: 'submit', className: 'btn btn-primary' }, 'Save acquired licences'), h('span', { className: 'small muted' }, p.version > 0 ? `Version ${p.version}` : 'Not entered yet.')) : null,
      );
    };

    function numberField(id: string, key: 'unusedThreshold' | 'unusedDays', label: string, help: string): HTMLElement {
      const input = h('input', { type: 'number', id, min: 1, step: 1, className: 'input-short', value: draft[key], 'aria-invalid': errs[key] ? 'true' : null, 'aria-describedby': `${id}-help ${id}-error` });
      input.addEventListener('input', () => (draft = { ...draft, [key]: input.value }));
      return h('div', { className: 'field' }, h('label', { for: id }, label), input, h('p', { id: `${id}-help`, className: 'help' }, help), h('p', { id: `${id}-error`, className: 'field-error' }, errs[key] ?? ''));
    }

    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      replace(poolMsg);
      errs = validatePool(draft);
      if (Object.keys(errs).length > 0) {
        render();
        form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
        return;
      }
      const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]');
      if (submit) submit.disabled = true;
      void (async () => {
        try {
          const saved = await savePool(app.api, customerId, poolInput(draft, p.version));
          if (signal.aborted) return;
          pool = saved;
          replace(poolMsg, summaryBox({ level: 'ok', title: 'Acquired licences saved.', lines: [] }));
          await loadUsage();
        } catch (e) {
          if (signal.aborted) return;
          const err = toApiError(e);
          if (isStale(err)) {
            replace(poolMsg, staleNotice('The acquired licences were', () => void loadPool(true)));
          } else {
            replace(poolMsg, refusal(err, 'The acquired licences were not saved', (f) => {
              const k = f.replace(/^acquired\./, '');
              const sku = skus.find((x) => x.skuId.toLowerCase() === k.toLowerCase());
              return sku ? `Acquired ${sku.name || sku.partNumber}` : f;
            }));
            errs = err.fields;
            render();
          }
        } finally {
          if (submit) submit.disabled = false;
        }
      })();
    });

    render();
    replace(poolBox, form);
  }

  // -- Loading

  async function loadUsage(): Promise<void> {
    try {
      const c = await getUsage(app.api, customerId, signal);
      if (signal.aborted) return;
      replace(status);
      renderUsage(c);
    } catch (e) {
      if (signal.aborted) return;
      replace(factorBody);
      replace(status, refusal(e, 'Cannot compute the usage'));
    }
  }

  async function loadPool(reloaded = false): Promise<void> {
    try {
      const p = await getPool(app.api, customerId, signal);
      if (signal.aborted) return;
      pool = p;
      if (reloaded) replace(poolMsg, h('div', { className: 'alert alert-info', role: 'status' }, 'Reloaded: these are the acquired licences as saved now.'));
      renderPool();
    } catch (e) {
      if (signal.aborted) return;
      replace(poolBox, refusal(e, 'Cannot load the acquired licences'));
    }
  }

  async function refresh(): Promise<void> {
    if (refreshBtn) refreshBtn.disabled = true;
    replace(refreshMsg, h('div', { className: 'alert alert-info', role: 'status' }, 'Taking a snapshot…'));
    try {
      const res = await takeSnapshot(app.api, customerId);
      if (signal.aborted) return;
      const top = res.items?.[0];
      replace(
        refreshMsg,
        h(
          'div',
          { 'data-testid': 'refresh-result' },
          summaryBox({
            level: 'ok',
            title: `Snapshot taken for ${top?.date ?? 'today'}.`,
            lines: top ? [`${formatCount(top.licensed)} licensed of ${formatCount(top.users)} active users; ${res.items.length - 1} site ${res.items.length - 1 === 1 ? 'snapshot' : 'snapshots'}.`] : [],
          }),
        ),
      );
      await Promise.all([loadUsage(), history.reload()]);
    } catch (e) {
      if (signal.aborted) return;
      replace(refreshMsg, refusal(e, 'Cannot take a snapshot'));
    } finally {
      if (refreshBtn && !signal.aborted) refreshBtn.disabled = false;
    }
  }

  async function reload(): Promise<void> {
    await Promise.all([loadUsage(), loadPool(), history.reload()]);
  }

  void loadUsage();
  void loadPool();
  return { el, reload };
}
