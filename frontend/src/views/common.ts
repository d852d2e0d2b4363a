// Pieces shared by the views: alerts, sync badges, field errors, pagers, utilisation bars.

import { ApiError } from '../api/client';
import type { SyncState, SyncStatus } from '../api/types';
import { h, replace } from '../lib/dom';
import { formatCount, formatDateTime, formatRelative, utilisation } from '../lib/format';
import type { CursorPager } from '../lib/paging';

/** An error box for a failed call; says what the server said. */
export function errorAlert(err: unknown, prefix = ''): HTMLElement {
  const e = err instanceof ApiError ? err : null;
  const msg = e ? e.message : String(err);
  return h(
    'div',
    { className: 'alert alert-error', role: 'alert', 'data-code': e?.code },
    prefix ? `${prefix}: ${msg}` : msg,
  );
}

const statusText: Record<SyncStatus, string> = {
  never: 'Never synced',
  queued: 'Queued',
  running: 'Running',
  ok: 'OK',
  failed: 'Failed',
};

/** A coloured badge for a sync status; `data-sync-status` carries the raw value. */
export function syncBadge(status: SyncStatus): HTMLElement {
  return h(
    'span',
    { className: `badge badge-${status}`, 'data-sync-status': status },
    statusText[status] ?? String(status),
  );
}

/** A timestamp as text, with the full ISO value and age in the tooltip. */
export function time(iso: string | null | undefined): HTMLElement {
  const text = formatDateTime(iso);
  if (text === '—') return h('span', { className: 'muted' }, '—');
  const rel = formatRelative(iso);
  return h('time', { datetime: iso ?? '', title: rel ? `${iso} (${rel})` : (iso ?? '') }, text);
}

/** The compact sync summary used in the customers table. */
export function syncSummary(s: SyncState): HTMLElement {
  const box = h('div', { className: 'sync-summary' }, syncBadge(s.status));
  if (s.lastSuccessAt && formatDateTime(s.lastSuccessAt) !== '—') {
    box.append(h('div', { className: 'small' }, 'Last success ', time(s.lastSuccessAt)));
  }
  if (s.lastError) {
    box.append(
      h(
        'div',
        { className: 'small text-error' },
        'Last error ',
        time(s.lastAttemptAt),
        `: ${s.lastError}`,
      ),
    );
  }
  return box;
}

/** The number cell of a count, red when negative. */
export function countCell(n: number): HTMLTableCellElement {
  return h('td', { className: n < 0 ? 'num negative' : 'num' }, formatCount(n));
}

/** The utilisation bar of a SKU (used / active). */
export function utilisationBar(used: number, active: number): HTMLElement {
  const u = utilisation(used, active);
  const fill = h('span', { className: 'util-fill' });
  fill.style.width = `${u.width}%`;
  return h(
    'div',
    { className: `util ${u.cls}`, role: 'img', 'aria-label': u.label, title: `${used} of ${active} used` },
    h('span', { className: 'util-track', 'aria-hidden': 'true' }, fill),
    h('span', { className: 'util-text', 'aria-hidden': 'true' }, u.text),
  );
}

/** Previous/Next buttons for a server-side paged list. */
export function pagerControls(
  label: string,
  pager: CursorPager,
  load: (cursor: string) => void,
): { el: HTMLElement; update: (busy: boolean) => void } {
  const prev = h('button', { type: 'button', className: 'btn' }, 'Previous');
  const next = h('button', { type: 'button', className: 'btn' }, 'Next');
  const info = h('span', { className: 'pager-info', 'aria-live': 'polite' });
  prev.addEventListener('click', () => {
    const c = pager.back();
    if (c !== null) load(c);
  });
  next.addEventListener('click', () => {
    const c = pager.forward();
    if (c !== null) load(c);
  });
  const el = h('nav', { className: 'pager', 'aria-label': `${label} pages` }, prev, info, next);
  const update = (busy: boolean): void => {
    prev.disabled = busy || !pager.hasPrevious;
    next.disabled = busy || !pager.hasNext;
    replace(info, busy ? 'Loading…' : `Page ${pager.pageNumber}`);
  };
  update(true);
  return { el, update };
}

/** A table with a caption-less accessible name and a header row. */
export function table(label: string, headers: string[], className = ''): { el: HTMLTableElement; body: HTMLTableSectionElement } {
  const body = h('tbody');
  const el = h(
    'table',
    { className: `table ${className}`.trim(), 'aria-label': label },
    h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
    body,
  );
  return { el, body };
}

/** A single row spanning the table, for "Loading…" / "No customers yet." / errors. */
export function messageRow(cols: number, ...content: (Node | string)[]): HTMLTableRowElement {
  return h('tr', { className: 'message-row' }, h('td', { colspan: cols }, ...content));
}

/** One link of a tab bar. */
export interface TabLink {
  id: string;
  label: string;
  href: string;
  /** Shown after the label in a small counter, when known. */
  count?: string | null;
}

/** A bar of tabs that are links (each tab is a route); the active one has aria-current="page". */
export function tabBar(label: string, tabs: TabLink[], active: string): HTMLElement {
  return h(
    'nav',
    { className: 'tabs', 'aria-label': label },
    ...tabs.map((t) =>
      h(
        'a',
        {
          href: t.href,
          className: t.id === active ? 'tab active' : 'tab',
          'aria-current': t.id === active ? 'page' : null,
          'data-tab': t.id,
        },
        t.label,
        t.count ? h('span', { className: 'tab-count' }, t.count) : null,
      ),
    ),
  );
}

/** Waits ms, or less when signal is aborted. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

/** A definition list of label → value pairs. */
export function facts(rows: [string, Node | string][], className = 'facts'): HTMLElement {
  return h('dl', { className }, ...rows.flatMap(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]));
}

/** Text, or a muted dash when empty. */
export function orDash(s: string | null | undefined): Node | string {
  return s && s.trim() !== '' ? s : h('span', { className: 'muted' }, '—');
}

/** A tab's content; reload() is called when something it shows may have changed (e.g. a sync finished). */
export interface Panel {
  el: HTMLElement;
  reload(): Promise<void>;
}
