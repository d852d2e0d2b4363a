// The Exports page (#/exports, issue 8): the month-end licence usage exports, newest month first. Each month shows its
// latest run (status, and while it runs its progress), its manifest's facts (when it was generated, by which
// software version, from which days of data) and its four files — the anonymised CSV, the partner CSV, the raw JSON
// and the manifest — each with its size, its SHA-256 (shortened, with a copy button) and Download, which asks the API
// for a short-lived presigned link and opens it. "Re-run" (after a confirmation) queues a new run of the month and
// polls the month every 1–2 s, showing the progress, until the new manifest is there — no reload. "Export a past
// month" does the same for a month chosen with a month picker (not in the future, not past the two-year retention).
//
// Provider admins read the page; running an export and downloading the files that name customers need every
// customer in scope too. Anyone else sees a notice and no control.

import { toApiError, type ApiError } from '../api/client';
import { exportFileUrl, getExport, listExports, runExport, type ExportFile, type ExportMonth } from '../api/exports';
import type { ViewProps } from '../context';
import { formatBytes } from '../lib/bulk';
import { h, replace } from '../lib/dom';
import {
  canDownloadFile,
  dataRangeText,
  exportableRange,
  fileHelp,
  fileLabel,
  isActive,
  isStalled,
  MAX_POLL_FAILURES,
  monthLabel,
  monthOf,
  monthProblem,
  pollDelay,
  progressPercent,
  progressText,
  rerunConfirmText,
  runOutcome,
  runStatus,
  shortSha,
  upsertMonth,
  type RunOutcome,
} from '../lib/exports';
import { formatCount, formatDateTime } from '../lib/format';
import { can, canRunExports } from '../permissions';
import { errorAlert, facts, sleep, table, time } from './common';
import { button, openDialog, refusal } from './licenceActions';

/** A month's card on the page: update(m) shows the month as the server answered. */
interface MonthCard {
  el: HTMLElement;
  msg: HTMLElement;
  update(m: ExportMonth): void;
}

/** Opens a presigned download link: CSV files download in place (they are attachments); JSON opens in a new tab. */
function openDownload(url: string, f: Pick<ExportFile, 'name' | 'contentType'>): void {
  const json = f.contentType.startsWith('application/json');
  const a = h('a', { href: url, download: f.name, rel: 'noopener', target: json ? '_blank' : null, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
}

/** Copies text to the clipboard; false when the browser refuses. */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

export function exportsView(props: ViewProps): void {
  const { app, root, signal } = props;
  const me = app.me;
  const head = h(
    'div',
    { className: 'page-head' },
    h('h1', {}, 'Exports'),
    h(
      'p',
      { className: 'muted' },
      'The month-end licence usage files billing is based on: computed from the daily snapshots on the last day of each month (23:55 UTC), kept two years.',
    ),
  );
  if (!can(me?.role, 'export:read')) {
    replace(root, head, h('div', { className: 'alert alert-info', role: 'status', 'data-testid': 'exports-not-allowed' }, 'The month-end exports are for provider admins.'));
    return;
  }
  const scope = me?.scope ?? [];
  const canRun = canRunExports(me);
  const status = h('div', { className: 'exports-status', 'aria-live': 'polite' });
  const list = h('div', { className: 'exports-list', 'data-testid': 'exports-list', 'aria-busy': 'true' }, h('p', { className: 'muted' }, 'Loading…'));
  const cards = new Map<string, MonthCard>();
  const following = new Set<string>();
  let months: ExportMonth[] = [];

  replace(
    root,
    head,
    canRun ? pastMonthForm() : h('p', { className: 'muted small', 'data-testid': 'exports-readonly' }, 'Exporting a month needs a provider admin who sees every customer.'),
    status,
    list,
  );

  // -- Export a past month

  function pastMonthForm(): HTMLElement {
    const range = exportableRange(new Date());
    const input = h('input', {
      type: 'month',
      id: 'export-month',
      name: 'month',
      min: range.min,
      max: range.max,
      value: monthOf(new Date(), -1),
      required: true,
      'aria-describedby': 'export-month-help export-month-error',
    });
    const error = h('p', { id: 'export-month-error', className: 'field-error', role: 'alert' });
    const formStatus = h('div', { className: 'form-status' });
    const submit = h('button', { type: 'submit', className: 'btn btn-primary' }, 'Export…');
    const form = h(
      'form',
      { className: 'export-month-form', 'aria-label': 'Export a past month', novalidate: true },
      h(
        'div',
        { className: 'field' },
        h('label', { for: 'export-month' }, 'Month'),
        input,
        h('p', { id: 'export-month-help', className: 'help' }, `From ${monthLabel(range.min)} (the two-year retention) to ${monthLabel(range.max)} (so far).`),
        error,
      ),
      h('div', { className: 'field-submit' }, submit),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      replace(formStatus);
      const month = input.value.trim();
      const problem = monthProblem(month, new Date());
      input.setAttribute('aria-invalid', problem ? 'true' : 'false');
      replace(error, problem ?? '');
      if (problem) return;
      const known = months.find((m) => m.month === month);
      if (known && isActive(known)) {
        replace(formStatus, h('div', { className: 'alert alert-info', role: 'status' }, `${monthLabel(month)} is being exported: its progress is shown below.`));
        cards.get(month)?.el.scrollIntoView({ block: 'nearest' });
        return;
      }
      confirmRun(known ?? { month, manifest: null }, formStatus);
    });
    return h(
      'section',
      { className: 'card', 'aria-labelledby': 'export-past-title' },
      h('h2', { id: 'export-past-title' }, 'Export a past month'),
      h('p', { className: 'muted small' }, 'Computes a month’s files now from its daily snapshots; an exported month is replaced as a whole.'),
      form,
      formStatus,
    );
  }

  // -- Running a month

  /** Asks, then queues a run of the month; its card then follows it. Refusals show in `where` (or the dialog). */
  function confirmRun(m: Pick<ExportMonth, 'month' | 'manifest'>, where: HTMLElement): void {
    const rerun = m.manifest !== null;
    const d = openDialog(rerun ? `Re-run ${monthLabel(m.month)}?` : `Export ${monthLabel(m.month)}?`, 'dialog-export-run');
    const error = h('div', { className: 'dialog-error' });
    const go = h('button', { type: 'button', className: 'btn btn-primary' }, rerun ? 'Re-run' : 'Export');
    replace(d.body, h('p', { 'data-testid': 'export-confirm' }, rerunConfirmText(m)), error);
    go.addEventListener('click', () => {
      replace(error);
      go.disabled = true;
      void (async () => {
        try {
          const queued = await runExport(app.api, m.month);
          d.close();
          if (signal.aborted) return;
          replace(where);
          show(queued);
          const run = queued.run;
          if (run) void follow(m.month, run.runId);
        } catch (e) {
          const err = toApiError(e);
          replace(error, refusal(err, rerun ? 'The month was not re-run' : 'The month was not exported'));
          go.disabled = false;
          // Another run holds the month: show it, and follow it.
          if (err.code === 'conflict') void refreshMonth(m.month, true);
        }
      })();
    });
    d.footer.append(button('Back', d.close, 'btn btn-ghost'), go);
  }

  /** Reads one month again and shows it; follows its run when it is active (and follow is set). */
  async function refreshMonth(month: string, followIt: boolean): Promise<void> {
    try {
      const m = await getExport(app.api, month, signal);
      if (signal.aborted) return;
      show(m);
      if (followIt && isActive(m) && m.run) void follow(month, m.run.runId);
    } catch {
      // the dialog already says why the run was refused
    }
  }

  /** Polls a month every 1–2 s while its run is active (and until run runId's manifest is there), then says how it ended. */
  async function follow(month: string, runId: string): Promise<void> {
    if (following.has(month)) return;
    following.add(month);
    const started = Date.now();
    let failures = 0;
    let settle = 0; // polls after the run ended without its manifest listed yet
    try {
      for (;;) {
        await sleep(pollDelay(Date.now() - started), signal);
        if (signal.aborted) return;
        let m: ExportMonth;
        try {
          m = await getExport(app.api, month, signal);
        } catch (e) {
          if (signal.aborted) return;
          const err: ApiError = toApiError(e);
          if (++failures >= MAX_POLL_FAILURES || err.status === 401 || err.status === 403 || err.status === 404) {
            const card = cards.get(month);
            if (card) replace(card.msg, errorAlert(err, 'Cannot follow the export (reload the page to try again)'));
            return;
          }
          continue;
        }
        failures = 0;
        if (signal.aborted) return;
        show(m);
        const outcome = runOutcome(m, runId);
        if (outcome === null && !isActive(m) && ++settle < 5) continue;
        if (outcome !== null || !isActive(m)) {
          announce(m, outcome ?? 'stopped');
          return;
        }
      }
    } finally {
      following.delete(month);
    }
  }

  /** Says in the month's card how the run it followed ended. */
  function announce(m: ExportMonth, outcome: RunOutcome): void {
    const card = cards.get(m.month);
    if (!card) return;
    const label = monthLabel(m.month);
    switch (outcome) {
      case 'done':
        replace(card.msg, h('div', { className: 'alert alert-success', role: 'status', 'data-testid': 'export-done' }, `The export of ${label} is done: its new files are listed below.`));
        break;
      case 'failed':
        replace(card.msg, h('div', { className: 'alert alert-error', role: 'alert', 'data-testid': 'export-failed' }, `The export of ${label} failed: ${m.run?.error || 'no reason given'}. Its previous files, if any, are unchanged.`));
        break;
      case 'replaced':
        replace(card.msg, h('div', { className: 'alert alert-info', role: 'status' }, `Another run of ${label} has started since.`));
        if (m.run && isActive(m)) void follow(m.month, m.run.runId);
        break;
      case 'stopped':
        replace(card.msg, h('div', { className: 'alert alert-warn', role: 'status' }, `The export of ${label} stopped without finishing; run it again.`));
        break;
    }
  }

  // -- The months

  /** Shows a month: its card updated (or added in its place), the list in order. */
  function show(m: ExportMonth): void {
    months = upsertMonth(months, m);
    let card = cards.get(m.month);
    if (!card) {
      card = monthCard(m.month);
      cards.set(m.month, card);
    }
    card.update(m);
    const wanted = months.map((x) => cards.get(x.month)?.el).filter((el): el is HTMLElement => el !== undefined);
    if (wanted.length !== list.children.length || wanted.some((el, i) => list.children[i] !== el)) replace(list, ...wanted);
    list.setAttribute('aria-busy', 'false');
  }

  function monthCard(month: string): MonthCard {
    const titleId = `export-${month}-title`;
    const badge = h('span', { className: 'badge' });
    const runBtnBox = h('div', { className: 'export-month-actions' });
    const runBox = h('div', { className: 'export-run' });
    const msg = h('div', { className: 'export-msg', 'aria-live': 'polite' });
    const body = h('div', { className: 'export-body' });
    const el = h(
      'section',
      { className: 'card export-month', 'data-month': month, 'aria-labelledby': titleId },
      h('div', { className: 'export-month-head' }, h('h2', { id: titleId }, monthLabel(month)), badge, runBtnBox),
      runBox,
      msg,
      body,
    );
    // The progress bar is built once and updated on every poll.
    const fill = h('span', { className: 'bulk-bar-fill' });
    const bar = h('div', { className: 'bulk-bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-label': `Progress of the export of ${monthLabel(month)}` }, fill);
    const barText = h('p', { className: 'bulk-bar-text', 'data-testid': 'export-progress-text' });
    const progress = h('div', { className: 'bulk-progress export-progress', 'data-testid': 'export-progress' }, bar, barText);

    function update(m: ExportMonth): void {
      const run = m.run;
      const st = runStatus(run);
      badge.className = st.cls;
      badge.setAttribute('data-export-status', run ? (isStalled(run) ? 'stalled' : run.status) : 'none');
      badge.textContent = st.label;
      el.setAttribute('data-active', String(isActive(m)));
      el.setAttribute('data-run-id', run?.runId ?? '');
      el.setAttribute('data-manifest-run-id', m.manifest?.runId ?? '');

      replace(runBtnBox);
      if (canRun) {
        const b = button(m.manifest ? 'Re-run…' : 'Export…', () => confirmRun(m, msg), 'btn btn-small');
        b.disabled = isActive(m);
        if (isActive(m)) b.title = 'A run of this month is going on';
        runBtnBox.append(b);
      }

      if (run && (isActive(m) || run.status === 'queued' || run.status === 'running')) {
        const pct = progressPercent(run);
        fill.style.width = `${pct ?? 0}%`;
        progress.classList.toggle('export-progress-indeterminate', pct === null);
        if (pct === null) bar.removeAttribute('aria-valuenow');
        else bar.setAttribute('aria-valuenow', String(pct));
        bar.setAttribute('aria-valuetext', pct === null ? 'Starting' : `${pct}%`);
        for (const [k, v] of [['status', run.status], ['snapshots', run.progress.snapshots], ['customers', run.progress.customers], ['rows', run.progress.rows]] as const) {
          progress.setAttribute(`data-${k}`, String(v));
        }
        replace(barText, progressText(run));
        const who = h('p', { className: 'small muted' }, `Requested by ${run.requestedBy} `, time(run.requestedAt), run.startedAt ? h('span', {}, ', started ', time(run.startedAt)) : null);
        replace(
          runBox,
          isStalled(run)
            ? h('div', { className: 'alert alert-warn', role: 'status' }, `The run of ${monthLabel(m.month)} requested ${formatDateTime(run.requestedAt)} stopped without finishing${run.heartbeatAt ? ` (last heard of ${formatDateTime(run.heartbeatAt)})` : ''}; run it again.`)
            : progress,
          isStalled(run) ? null : who,
        );
      } else if (run && run.status === 'failed') {
        replace(
          runBox,
          h('div', { className: 'alert alert-error', role: 'alert', 'data-testid': 'export-run-error' }, `The last run (${formatDateTime(run.finishedAt ?? run.requestedAt)}, requested by ${run.requestedBy}) failed: ${run.error || 'no reason given'}.${m.manifest ? ' The files below are those of the run before.' : ''}`),
        );
      } else {
        replace(runBox);
      }

      const man = m.manifest;
      if (!man) {
        replace(body, h('p', { className: 'muted' }, isActive(m) ? 'No files yet: they appear when the run has written them.' : 'No files.'));
        return;
      }
      const c = man.counts;
      const headers = ['File', 'Name', 'Size', 'SHA-256', ''];
      const { el: filesTable, body: rows } = table(`Files of ${monthLabel(m.month)}`, headers, 'table-export-files');
      replace(rows, ...man.files.map((f) => fileRow(m.month, f, msg)));
      replace(
        body,
        facts(
          [
            ['Generated', time(man.generatedAt)],
            ['Software version', h('span', { className: 'mono', 'data-testid': 'software-version' }, man.softwareVersion || '—')],
            ['Data', h('span', { 'data-testid': 'data-range' }, `${dataRangeText(man)} · ${formatCount(c.snapshots)} ${c.snapshots === 1 ? 'snapshot' : 'snapshots'}`)],
            ['Counted', `${formatCount(c.customers)} ${c.customers === 1 ? 'customer' : 'customers'} (${formatCount(c.publicSectorCustomers)} public sector), ${formatCount(c.sites)} ${c.sites === 1 ? 'site' : 'sites'}`],
            ['Requested by', man.requestedBy === 'job:export' ? 'The month-end schedule' : man.requestedBy],
            ['Kept until', time(m.retainedUntil)],
          ],
          'facts facts-compact export-facts',
        ),
        h('div', { className: 'table-wrap' }, filesTable),
      );
    }
    return { el, msg, update };
  }

  function fileRow(month: string, f: ExportFile, msg: HTMLElement): HTMLTableRowElement {
    const allowed = canDownloadFile(f, scope);
    const copied = h('span', { className: 'small muted copy-note', 'aria-live': 'polite' });
    const copy = button('Copy', () => {
      void (async () => {
        const ok = await copyText(f.sha256);
        replace(copied, ok ? 'Copied' : '');
        if (!ok) replace(msg, h('div', { className: 'alert alert-info', role: 'status' }, `Copy it by hand: `, h('code', { className: 'sha-full' }, f.sha256)));
        setTimeout(() => replace(copied), 2000);
      })();
    }, 'btn btn-small btn-ghost');
    copy.setAttribute('aria-label', `Copy the SHA-256 of ${f.name}`);
    copy.setAttribute('data-sha256', f.sha256);
    let action: HTMLElement;
    if (allowed) {
      const dl = button('Download', () => {
        dl.disabled = true;
        replace(msg);
        void (async () => {
          try {
            const d = await exportFileUrl(app.api, month, f.name, signal);
            if (signal.aborted) return;
            openDownload(d.url, f);
            replace(
              msg,
              h(
                'div',
                { className: 'alert alert-info', role: 'status', 'data-testid': 'export-download' },
                `Downloading ${f.name}. If it did not start, `,
                h('a', { href: d.url, target: '_blank', rel: 'noopener' }, 'open the link'),
                ` (valid until ${formatDateTime(d.expiresAt)}).`,
              ),
            );
          } catch (e) {
            if (signal.aborted) return;
            replace(msg, refusal(e, `${f.name} could not be downloaded`));
          } finally {
            dl.disabled = false;
          }
        })();
      }, 'btn btn-small');
      dl.setAttribute('aria-label', `Download ${f.name}`);
      action = dl;
    } else {
      action = h('span', { className: 'small muted' }, 'Needs every customer in scope');
    }
    return h(
      'tr',
      { 'data-kind': f.kind, 'data-name': f.name },
      h('th', { scope: 'row' }, fileLabel(f.kind), h('div', { className: 'help' }, fileHelp(f.kind))),
      h('td', { className: 'mono small' }, f.name),
      h('td', { className: 'num nowrap', 'data-size': String(f.size) }, formatBytes(f.size)),
      h('td', { className: 'nowrap' }, h('code', { title: f.sha256, 'data-sha256': f.sha256 }, shortSha(f.sha256)), ' ', copy, copied),
      h('td', { className: 'nowrap' }, action),
    );
  }

  async function load(): Promise<void> {
    try {
      const res = await listExports(app.api, signal);
      if (signal.aborted) return;
      const items = res.items ?? [];
      if (items.length === 0) {
        list.setAttribute('aria-busy', 'false');
        replace(
          list,
          h('p', { className: 'muted', 'data-testid': 'exports-empty' }, 'No exports yet. The month-end export runs on the last day of each month at 23:55 UTC.', canRun ? ' Export a past month above.' : ''),
        );
        return;
      }
      replace(list);
      for (const m of items) show(m);
      for (const m of items) if (isActive(m) && m.run) void follow(m.month, m.run.runId);
    } catch (e) {
      if (signal.aborted) return;
      list.setAttribute('aria-busy', 'false');
      replace(list);
      replace(status, refusal(e, 'Cannot load the exports'));
    }
  }

  void load();
}
