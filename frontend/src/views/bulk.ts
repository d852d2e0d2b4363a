// The Bulk upload tab of a customer (mass configuration by CSV, issue 9). Its first page: the sample CSV to
// download, the upload (a file input and drag and drop; small files go to the API as the request body, large ones to
// a presigned URL of the bucket first), and the customer's previous uploads. A job's page
// (#/customers/{id}/bulk/{jobId}): a file with problems lists them (row, column, value, message; paged) and takes a
// fixed file; the preview says what each row changes of its user and the totals per licence against the seats
// available; Start (or "apply only the valid rows", with a confirmation saying how many are skipped); while the job
// runs, a progress bar (done, failed, remaining, percent, time left), polled every 1–2 s without a reload, and Cancel;
// at the end the summary, "Download results (CSV)" and the per-row results. A viewer sees the jobs and their pages
// without a single upload, start or cancel control.

import { toApiError, type ApiError } from '../api/client';
import {
  cancelJob,
  downloadResults,
  downloadSample,
  getJob,
  getPreview,
  listJobs,
  listProblems,
  listResults,
  startJob,
  uploadFile,
  type BulkJob,
  type BulkPreviewRow,
  type BulkProblem,
  type BulkRowResult,
  type Page,
  type UploadStage,
} from '../api/bulk';
import type { ViewProps } from '../context';
import {
  BULK_PAGE_SIZE,
  bulkStatusClass,
  bulkStatusLabel,
  cancelConfirmText,
  changeLines,
  fileProblem,
  formatBytes,
  isApplying,
  isEnded,
  isUploaded,
  jobCounts,
  jobSummary,
  JOBS_PAGE_SIZE,
  MAX_POLL_FAILURES,
  outcomeClass,
  outcomeLabel,
  pollDelay,
  problemWhere,
  progressPercent,
  progressText,
  rateText,
  resultsFilename,
  seatLines,
  shouldPoll,
  startChoice,
  startConfirmText,
  type ChangeLine,
} from '../lib/bulk';
import { h, replace } from '../lib/dom';
import { formatCount } from '../lib/format';
import { CursorPager } from '../lib/paging';
import { can } from '../permissions';
import { href } from '../router';
import { errorAlert, facts, messageRow, pagerControls, sleep, table, time, type Panel } from './common';
import { button, openDialog, refusal, summaryBox } from './licenceActions';

/** The name the sample file is saved under. */
const SAMPLE_FILENAME = 'seatwise-bulk-sample.csv';

/** A job's status as a badge; `data-bulk-status` carries the raw value. */
export function bulkBadge(status: string): HTMLElement {
  return h('span', { className: bulkStatusClass(status), 'data-bulk-status': status }, bulkStatusLabel(status));
}

/** Saves a downloaded file under name (an object URL clicked as a download link). */
export function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A button that downloads a file; its error shows in `status`. */
function downloadButton(label: string, status: HTMLElement, fetchFile: () => Promise<Blob>, name: () => string, cls = 'btn'): HTMLButtonElement {
  const b = h('button', { type: 'button', className: cls }, label);
  b.addEventListener('click', () => {
    b.disabled = true;
    replace(status);
    void (async () => {
      try {
        saveFile(await fetchFile(), name());
      } catch (e) {
        replace(status, refusal(e, 'The file could not be downloaded'));
      } finally {
        b.disabled = false;
      }
    })();
  });
  return b;
}

const STAGE_TEXT: Record<UploadStage, string> = {
  sending: 'Uploading and checking every row…',
  signing: 'Preparing the upload of a large file…',
  storing: 'Uploading the file…',
  validating: 'Checking every row…',
};

let uploaderSeq = 0;

/**
 * The upload control: a drop zone with a file input. A file is checked here (workbook, empty, too large), then
 * uploaded; the job goes to onUploaded. A file the server cannot read is refused with its message.
 */
function uploader({ app, signal }: ViewProps, customerId: string, opts: { label: string; onUploaded: (job: BulkJob) => void }): HTMLElement {
  const id = `bulk-file-${++uploaderSeq}`;
  const input = h('input', { type: 'file', id, name: 'file', accept: '.csv,text/csv', className: 'visually-hidden', 'aria-describedby': `${id}-help` });
  const msg = h('div', { className: 'bulk-upload-msg', 'aria-live': 'polite' });
  const choose = h('label', { for: id, className: 'btn btn-primary' }, opts.label);
  const zone = h(
    'div',
    { className: 'dropzone', 'data-testid': 'dropzone' },
    h('p', { className: 'dropzone-text' }, 'Drop a CSV file here, or'),
    choose,
    input,
    h('p', { id: `${id}-help`, className: 'help' }, 'UTF-8 (in Excel: Save As “CSV UTF-8”), commas or semicolons, at most 10 MB and 50,000 rows. Nothing changes until you start it.'),
  );
  let busy = false;

  async function send(file: File): Promise<void> {
    if (busy) return;
    const problem = fileProblem(file);
    if (problem) {
      replace(msg, h('div', { className: 'alert alert-error', role: 'alert', 'data-code': 'invalid' }, problem));
      return;
    }
    busy = true;
    zone.classList.add('dropzone-busy');
    input.disabled = true;
    replace(msg, h('div', { className: 'alert alert-info', role: 'status' }, `${file.name} (${formatBytes(file.size)}): `, STAGE_TEXT.sending));
    try {
      const job = await uploadFile(app.api, customerId, file, file.name, {
        signal,
        onStage: (s) => replace(msg, h('div', { className: 'alert alert-info', role: 'status' }, `${file.name} (${formatBytes(file.size)}): `, STAGE_TEXT[s])),
      });
      if (signal.aborted) return;
      replace(msg);
      opts.onUploaded(job);
    } catch (e) {
      if (signal.aborted) return;
      const err = toApiError(e);
      replace(
        msg,
        h(
          'div',
          { 'data-testid': 'file-error' },
          refusal(err, err.code === 'invalid' ? `${file.name} cannot be read, and nothing was stored` : `${file.name} was not uploaded`),
        ),
      );
    } finally {
      busy = false;
      zone.classList.remove('dropzone-busy');
      input.disabled = false;
      input.value = '';
    }
  }

  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (f) void send(f);
  });
  zone.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    if (ev.dataTransfer) ev.dataTransfer.dropEffect = 'copy';
    zone.classList.add('dropzone-over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dropzone-over'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('dropzone-over');
    const files = ev.dataTransfer?.files;
    if (!files || files.length === 0) return;
    if (files.length > 1) {
      replace(msg, h('div', { className: 'alert alert-error', role: 'alert' }, 'Drop one file at a time.'));
      return;
    }
    const f = files[0];
    if (f) void send(f);
  });
  return h('div', { className: 'bulk-uploader' }, zone, msg);
}

/** A server-side paged table: load(cursor) gives a page; reload() fetches the current page again. */
function pagedTable<T>(
  { signal }: Pick<ViewProps, 'signal'>,
  o: {
    label: string;
    headers: string[];
    className: string;
    load: (cursor: string, signal: AbortSignal) => Promise<Page<T>>;
    row: (item: T) => HTMLTableRowElement;
    empty: string;
    what: string;
  },
): { el: HTMLElement; reload: () => Promise<void> } {
  const pager = new CursorPager();
  const { el: tableEl, body } = table(o.label, o.headers, o.className);
  const status = h('div', { className: 'bulk-table-msg' });
  const controls = pagerControls(o.label, pager, (c) => void loadPage(c));
  let inflight: AbortController | null = null;
  let seq = 0;
  replace(body, messageRow(o.headers.length, 'Loading…'));

  async function loadPage(cursor: string): Promise<void> {
    inflight?.abort();
    const ctrl = new AbortController();
    inflight = ctrl;
    const stop = (): void => ctrl.abort();
    signal.addEventListener('abort', stop, { once: true });
    const my = ++seq;
    controls.update(true);
    tableEl.setAttribute('aria-busy', 'true');
    try {
      const res = await o.load(cursor, ctrl.signal);
      if (my !== seq || signal.aborted) return;
      pager.loaded(res.nextCursor);
      replace(status);
      const items = res.items ?? [];
      replace(body, ...(items.length > 0 ? items.map(o.row) : [messageRow(o.headers.length, o.empty)]));
    } catch (e) {
      if (my !== seq || signal.aborted) return;
      replace(status, errorAlert(toApiError(e), `Cannot load the ${o.what}`));
    } finally {
      signal.removeEventListener('abort', stop);
      if (my === seq && !signal.aborted) {
        controls.update(false);
        tableEl.removeAttribute('aria-busy');
      }
    }
  }

  void loadPage('');
  return {
    el: h('div', { className: 'bulk-table' }, status, h('div', { className: 'table-wrap' }, tableEl), h('div', { className: 'table-foot' }, h('span'), controls.el)),
    reload: () => loadPage(pager.cursor),
  };
}

/** The Bulk upload tab: a job's page when jobId is given, else the upload and the list of jobs. */
export function bulkPanel(props: ViewProps, customerId: string, jobId?: string): Panel {
  return jobId ? jobPage(props, customerId, jobId) : uploadsPage(props, customerId);
}

const FORMAT_COLUMNS: [string, string][] = [
  ['userPrincipalName', 'the user (required); each user in one row only'],
  ['licences', 'the licences the user is to hold directly, separated by “;” — part numbers (ENTERPRISEPACK) or names (Office 365 E3). Licences held directly and not listed are removed; an empty cell leaves the licences as they are'],
  ['addOns', 'service plans switched off or on: SWAY=off;ENTERPRISEPACK:YAMMER_ENTERPRISE=off (further columns addOns:<licence> take the same entries for one licence)'],
  ['number', 'a number of the inventory, in E.164 (+442079460101, or tel:+442079460101 so that Excel keeps it as text)'],
  ['extension', '1 to 8 digits, with a number'],
  ['site, template', 'names of the customer’s site and template'],
];

/** The first page of the tab: sample, upload, previous uploads. */
function uploadsPage(props: ViewProps, customerId: string): Panel {
  const { app, signal } = props;
  const canApply = can(app.me?.role, 'bulk:apply');
  const msg = h('div', { className: 'bulk-msg', 'aria-live': 'polite' });
  const sample = downloadButton('Download the sample CSV', msg, () => downloadSample(app.api, customerId, signal), () => SAMPLE_FILENAME);

  const headers = ['File', 'Uploaded', 'By', 'Status', 'Rows'];
  const jobs = pagedTable<BulkJob>(props, {
    label: 'Previous uploads',
    headers,
    className: 'table-bulk-jobs',
    what: 'uploads',
    empty: canApply ? 'No uploads yet. Download the sample, fill it in and upload it.' : 'No uploads yet.',
    load: (cursor, s) => listJobs(app.api, customerId, cursor, JOBS_PAGE_SIZE, s),
    row: (j) =>
      h(
        'tr',
        { 'data-job-id': j.id, 'data-status': j.status },
        h('th', { scope: 'row' }, h('a', { href: href({ name: 'customer', id: customerId, tab: 'bulk', jobId: j.id }) }, j.filename || 'upload.csv')),
        h('td', { className: 'nowrap' }, time(j.createdAt)),
        h('td', {}, j.createdBy),
        h('td', {}, bulkBadge(j.status), j.cancelRequested && isApplying(j.status) ? h('div', { className: 'small muted' }, 'Stopping…') : null),
        h('td', {}, jobCounts(j)),
      ),
  });

  const el = h(
    'section',
    { className: 'card tab-panel bulk', 'aria-labelledby': 'bulk-title' },
    h('div', { className: 'panel-head' }, h('h2', { id: 'bulk-title' }, 'Bulk upload'), h('div', { className: 'actions actions-tight' }, sample)),
    h(
      'p',
      { className: 'muted' },
      'Configure many users at once from a CSV file, one row per user: licences with their add-ons, number, extension, site and template. ' +
        'Every row is checked first and the changes previewed; nothing changes until you start it.',
    ),
    h(
      'details',
      { className: 'bulk-format' },
      h('summary', {}, 'The columns of the file'),
      h('dl', { className: 'facts facts-compact' }, ...FORMAT_COLUMNS.flatMap(([k, v]) => [h('dt', {}, h('code', {}, k)), h('dd', {}, v)])),
    ),
    msg,
    canApply
      ? uploader(props, customerId, {
          label: 'Choose a CSV file…',
          onUploaded: (job) => app.navigate(href({ name: 'customer', id: customerId, tab: 'bulk', jobId: job.id })),
        })
      : h('p', { className: 'muted', 'data-testid': 'bulk-readonly' }, 'Only admins can upload files. The uploads below can be read.'),
    h('h3', { className: 'bulk-subtitle' }, 'Previous uploads'),
    jobs.el,
  );

  // While a job of the list is being applied, the list refreshes itself.
  void (async () => {
    while (!signal.aborted) {
      await sleep(5000, signal);
      if (signal.aborted) return;
      if (el.querySelector('tr[data-status="queued"], tr[data-status="running"]')) await jobs.reload();
    }
  })();

  return { el, reload: jobs.reload };
}

/** The cells of a preview row's changes, by kind. */
function changeCell(lines: readonly ChangeLine[], kinds: readonly ChangeLine['kind'][]): HTMLTableCellElement {
  const mine = lines.filter((l) => kinds.includes(l.kind));
  if (mine.length === 0) return h('td', {}, h('span', { className: 'muted' }, '—'));
  return h('td', {}, h('ul', { className: 'changes' }, ...mine.map((l) => h('li', { className: `change-${l.kind}`, 'data-change': l.kind }, l.text))));
}

/** A job's page. */
function jobPage(props: ViewProps, customerId: string, jobId: string): Panel {
  const { app, signal } = props;
  const canApply = can(app.me?.role, 'bulk:apply');
  const back = h('a', { href: href({ name: 'customer', id: customerId, tab: 'bulk' }), className: 'small' }, '← All uploads');
  const title = h('h2', { id: 'bulk-job-title' }, 'Upload');
  const badgeBox = h('span', { className: 'bulk-job-status' });
  const headActions = h('div', { className: 'actions actions-tight' });
  const factsBox = h('div', { className: 'bulk-facts' });
  const msg = h('div', { className: 'bulk-msg', 'aria-live': 'polite' });
  const body = h('div', { className: 'bulk-body' });
  const el = h(
    'section',
    { className: 'card tab-panel bulk bulk-job', 'aria-labelledby': 'bulk-job-title', 'data-job-id': jobId },
    back,
    h('div', { className: 'panel-head' }, h('div', { className: 'bulk-job-head' }, title, badgeBox), headActions),
    factsBox,
    msg,
    body,
  );
  replace(body, h('p', { className: 'muted' }, 'Loading…'));

  let job: BulkJob | null = null;
  /** What the body shows: the job as uploaded (problems, preview), being applied, or ended. */
  let phase: 'uploaded' | 'applying' | 'ended' | null = null;
  let following = false;

  // The progress card is built once and updated on every poll.
  const bar = h('div', { className: 'bulk-bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0, 'aria-label': 'Progress' });
  const fill = h('span', { className: 'bulk-bar-fill' });
  bar.append(fill);
  const barText = h('p', { className: 'bulk-bar-text', 'data-testid': 'progress-text' });
  const rate = h('p', { className: 'small muted bulk-rate' });
  const stopping = h('div', { className: 'bulk-stopping' });
  const cancelBtn = canApply ? button('Cancel…', () => openCancel(), 'btn btn-danger-ghost') : null;
  /** Holds Cancel while the job is being applied and no one asked to stop it yet (empty otherwise). */
  const cancelBox = h('div', { className: 'actions actions-tight bulk-cancel' });
  const progressCard = h(
    'div',
    { className: 'bulk-progress', 'data-testid': 'bulk-progress' },
    h('h3', {}, 'Progress'),
    bar,
    barText,
    rate,
    stopping,
    cancelBox,
  );
  let results: { el: HTMLElement; reload: () => Promise<void> } | null = null;
  let lastProcessed = -1;
  let lastResultsLoad = 0;

  function renderProgress(j: BulkJob): void {
    const p = j.progress;
    const pct = progressPercent(p);
    fill.style.width = `${pct}%`;
    bar.setAttribute('aria-valuenow', String(pct));
    bar.setAttribute('aria-valuetext', `${pct}%`);
    bar.setAttribute('aria-label', `Progress of ${j.filename}`);
    for (const [k, v] of [['status', j.status], ['percent', pct], ['done', p.done], ['failed', p.failed], ['remaining', p.remaining], ['total', p.total]] as const) {
      progressCard.setAttribute(`data-${k}`, String(v));
    }
    progressCard.classList.toggle('bulk-progress-ended', isEnded(j.status));
    replace(barText, progressText(p, j.status));
    const r = rateText(p.ratePerMinute);
    replace(rate, r ? `${isEnded(j.status) ? 'Rate' : 'Rate so far'}: ${r}` : '');
    replace(
      stopping,
      j.cancelRequested && isApplying(j.status)
        ? h('div', { className: 'alert alert-warn', role: 'status' }, `Stopping${j.cancelledBy ? ` (asked by ${j.cancelledBy})` : ''}: the job stops before its next chunk of rows.`)
        : j.error && isApplying(j.status)
          ? h('div', { className: 'alert alert-warn', role: 'status' }, `Retrying: ${j.error}`)
          : null,
    );
    replace(cancelBox, cancelBtn && isApplying(j.status) && !j.cancelRequested ? cancelBtn : null);
  }

  function renderHead(j: BulkJob): void {
    replace(title, j.filename || 'upload.csv');
    replace(badgeBox, bulkBadge(j.status));
    el.setAttribute('data-status', j.status);
    const rows: [string, Node | string][] = [
      ['Uploaded', h('span', {}, time(j.createdAt), ` by ${j.createdBy}`)],
      ['File', `${formatBytes(j.size)}, ${j.delimiter === ';' ? 'semicolons' : 'commas'}, ${(j.columns ?? []).length} columns`],
      [
        'Rows',
        h(
          'span',
          { 'data-testid': 'row-counts' },
          `${formatCount(j.rows)} in all: ${formatCount(j.validRows)} valid, ${formatCount(j.invalidRows)} with problems`,
          j.problems > 0 ? ` (${formatCount(j.problems)} ${j.problems === 1 ? 'problem' : 'problems'})` : '',
        ),
      ],
    ];
    if (j.startedBy) rows.push(['Started', h('span', {}, time(j.queuedAt ?? j.startedAt), ` by ${j.startedBy}${j.onlyValid ? ', only the valid rows' : ''}`)]);
    if (j.finishedAt) rows.push(['Ended', time(j.finishedAt)]);
    replace(factsBox, facts(rows, 'facts facts-compact'));
    replace(
      headActions,
      canApply && isUploaded(j.status) ? button('Discard…', () => openCancel(), 'btn btn-ghost') : null,
    );
  }

  function show(j: BulkJob): void {
    job = j;
    renderHead(j);
    const next = isUploaded(j.status) ? 'uploaded' : isApplying(j.status) ? 'applying' : 'ended';
    if (next !== phase) {
      phase = next;
      lastProcessed = -1;
      if (next === 'uploaded') replace(body, ...uploadedSections(j));
      else replace(body, ...runSections(j));
    }
    if (phase !== 'uploaded') {
      renderProgress(j);
      const processed = j.progress.done + j.progress.failed;
      // The results of a running job: the current page again when rows were processed, at most every 3 s.
      if (phase === 'applying' && results && processed !== lastProcessed && Date.now() - lastResultsLoad > 3000) {
        lastResultsLoad = Date.now();
        void results.reload();
      }
      lastProcessed = processed;
    }
  }

  // -- As uploaded: the problems, a fixed file, the preview and its totals, Start.

  function uploadedSections(j: BulkJob): HTMLElement[] {
    const out: HTMLElement[] = [];
    if (j.problems > 0) {
      out.push(
        h(
          'div',
          { className: 'bulk-problems', 'data-testid': 'bulk-problems' },
          h('h3', {}, 'Problems'),
          h(
            'div',
            { className: 'alert alert-error', role: 'alert', 'data-testid': 'problems-summary' },
            `${formatCount(j.problems)} ${j.problems === 1 ? 'problem' : 'problems'} in ${formatCount(j.invalidRows)} ${j.invalidRows === 1 ? 'row' : 'rows'}. ` +
              'Nothing is applied while problems remain: put them right in the file and upload it again' +
              (j.validRows > 0 ? `, or apply only the ${formatCount(j.validRows)} valid ${j.validRows === 1 ? 'row' : 'rows'}.` : '.'),
            j.problems > j.problemsListed ? h('div', { className: 'small' }, `${formatCount(j.problemsListed)} are listed (the last sums up the rest).`) : null,
          ),
          pagedTable<BulkProblem>(props, {
            label: 'Problems',
            headers: ['Row', 'Column', 'Value', 'Problem'],
            className: 'table-bulk-problems',
            what: 'problems',
            empty: 'No problems.',
            load: (cursor, s) => listProblems(app.api, customerId, j.id, cursor, BULK_PAGE_SIZE, s),
            row: (p) => {
              const where = problemWhere(p);
              return h(
                'tr',
                { 'data-row': String(p.row), 'data-column': p.column },
                h('th', { scope: 'row', className: 'num' }, where.row),
                h('td', { className: 'mono' }, where.column),
                h('td', { className: 'bulk-value' }, p.value ? h('code', {}, p.value) : h('span', { className: 'muted' }, '—')),
                h('td', {}, p.message),
              );
            },
          }).el,
          canApply
            ? h(
                'div',
                { className: 'bulk-fix' },
                h('h3', {}, 'Upload a fixed file'),
                uploader(props, customerId, {
                  label: 'Choose the fixed file…',
                  onUploaded: (nj) => app.navigate(href({ name: 'customer', id: customerId, tab: 'bulk', jobId: nj.id })),
                }),
              )
            : null,
        ),
      );
    }
    if (j.rows > 0) out.push(previewSection(j));
    out.push(startSection(j));
    return out;
  }

  function previewSection(j: BulkJob): HTMLElement {
    const seatsBox = h('div', { className: 'bulk-seats' });
    const renderSeats = (seats: BulkJob['seats']): void => {
      const lines = seatLines(seats);
      if (lines.length === 0) {
        replace(seatsBox, h('p', { className: 'muted small' }, 'The file assigns no new licence seats.'));
        return;
      }
      const { el: t, body: tb } = table('Licence totals', ['Licence', 'Seats needed', 'Seats freed', 'Available now', 'Left after'], 'table-bulk-seats');
      replace(
        tb,
        ...lines.map((l) =>
          h(
            'tr',
            { 'data-sku-id': l.skuId, className: l.ok ? '' : 'row-failed', 'data-short': String(l.short) },
            h('th', { scope: 'row' }, l.name, l.partNumber && l.partNumber !== l.name ? h('div', { className: 'small muted mono' }, l.partNumber) : null),
            h('td', { className: 'num' }, formatCount(l.needed)),
            h('td', { className: 'num' }, formatCount(l.freed)),
            h('td', { className: 'num' }, formatCount(l.available)),
            h('td', { className: l.ok ? 'num' : 'num negative' }, formatCount(l.after), l.ok ? null : h('div', { className: 'small' }, `${formatCount(l.short)} short`)),
          ),
        ),
      );
      replace(seatsBox, h('div', { className: 'table-wrap' }, t));
    };
    renderSeats(j.seats);
    const rows = pagedTable<BulkPreviewRow>(props, {
      label: 'Preview',
      headers: ['Row', 'User', 'Licences', 'Add-ons', 'Number', 'Site', 'Template'],
      className: 'table-bulk-preview',
      what: 'preview',
      empty: 'No rows.',
      load: async (cursor, s) => {
        const p = await getPreview(app.api, customerId, j.id, cursor, BULK_PAGE_SIZE, s);
        if (cursor === '') renderSeats(p.seats);
        return { items: p.rows, nextCursor: p.nextCursor };
      },
      row: (r) => {
        const lines = changeLines(r.changes);
        const numberLines = lines.filter((l) => l.kind === 'number' || l.kind === 'extension').map((l) => ({ ...l, text: l.kind === 'extension' ? `ext. ${l.text}` : l.text }));
        return h(
          'tr',
          { 'data-row': String(r.row), 'data-upn': r.userPrincipalName, 'data-valid': String(r.valid), className: r.valid ? '' : 'row-failed' },
          h('th', { scope: 'row', className: 'num' }, String(r.row)),
          h(
            'td',
            {},
            h('div', {}, r.displayName || r.userPrincipalName),
            r.displayName ? h('div', { className: 'small muted' }, r.userPrincipalName) : null,
            !r.valid
              ? h('span', { className: 'badge badge-failed', 'data-testid': 'row-invalid' }, 'Has problems: not applied')
              : r.unchanged
                ? h('span', { className: 'badge' }, 'No change')
                : null,
          ),
          changeCell(lines, ['add', 'remove']),
          changeCell(lines, ['addons']),
          changeCell(numberLines, ['number', 'extension']),
          changeCell(lines, ['site']),
          h('td', {}, r.template || h('span', { className: 'muted' }, '—')),
        );
      },
    });
    return h(
      'div',
      { className: 'bulk-preview', 'data-testid': 'bulk-preview' },
      h('h3', {}, 'Preview'),
      h('p', { className: 'muted small' }, 'What each row changes of its user, as checked at upload. Licences: + added, − removed.'),
      h('h4', {}, 'Licence totals'),
      seatsBox,
      h('h4', {}, 'Rows'),
      rows.el,
    );
  }

  function startSection(j: BulkJob): HTMLElement {
    const box = h('div', { className: 'bulk-start', 'data-testid': 'bulk-start' });
    if (!canApply) {
      box.append(h('p', { className: 'muted' }, 'Only admins can start a file.'));
      return box;
    }
    const choice = startChoice(j);
    if (choice === 'all') {
      box.append(button(`Start: apply ${formatCount(j.validRows)} ${j.validRows === 1 ? 'row' : 'rows'}`, () => openStart(false), 'btn btn-primary'));
    } else if (choice === 'onlyValid') {
      box.append(
        button(`Apply only the ${formatCount(j.validRows)} valid ${j.validRows === 1 ? 'row' : 'rows'}…`, () => openStart(true), 'btn'),
        h('p', { className: 'help' }, `${formatCount(j.invalidRows)} ${j.invalidRows === 1 ? 'row is' : 'rows are'} skipped.`),
      );
    } else {
      box.append(h('p', { className: 'muted' }, 'No row of the file is valid: put the problems right and upload the file again.'));
    }
    return box;
  }

  function openStart(onlyValid: boolean): void {
    const j = job;
    if (!j) return;
    const d = openDialog(onlyValid ? 'Apply only the valid rows?' : 'Start applying the file?', 'dialog-bulk-start');
    const error = h('div', { className: 'dialog-error' });
    const go = h('button', { type: 'button', className: 'btn btn-primary' }, onlyValid ? `Apply ${formatCount(j.validRows)} ${j.validRows === 1 ? 'row' : 'rows'}` : 'Start');
    replace(d.body, h('p', { 'data-testid': 'start-confirm' }, startConfirmText(j, onlyValid)), error);
    go.addEventListener('click', () => {
      replace(error);
      go.disabled = true;
      void (async () => {
        try {
          const started = await startJob(app.api, customerId, j.id, onlyValid);
          d.close();
          if (signal.aborted) return;
          replace(msg);
          show(started);
          void follow();
        } catch (e) {
          replace(error, refusal(e, 'The file was not started'));
          go.disabled = false;
          if (toApiError(e).code === 'conflict') void refresh();
        }
      })();
    });
    d.footer.append(button('Back', d.close, 'btn btn-ghost'), go);
  }

  function openCancel(): void {
    const j = job;
    if (!j) return;
    const uploaded = isUploaded(j.status);
    const d = openDialog(uploaded ? 'Discard this upload?' : 'Cancel the job?', 'dialog-bulk-cancel');
    const error = h('div', { className: 'dialog-error' });
    const ok = h('button', { type: 'button', className: 'btn btn-danger' }, uploaded ? 'Discard' : 'Cancel the job');
    replace(d.body, h('p', { 'data-testid': 'cancel-confirm' }, cancelConfirmText(j)), error);
    ok.addEventListener('click', () => {
      replace(error);
      ok.disabled = true;
      void (async () => {
        try {
          const res = await cancelJob(app.api, customerId, j.id);
          d.close();
          if (signal.aborted) return;
          show(res);
          if (shouldPoll(res)) void follow();
        } catch (e) {
          replace(error, refusal(e, uploaded ? 'The upload was not discarded' : 'The job was not cancelled'));
          ok.disabled = false;
          void refresh();
        }
      })();
    });
    d.footer.append(button(uploaded ? 'Keep it' : 'Keep going', d.close, 'btn btn-ghost'), ok);
  }

  // -- Applying and ended: progress, summary, results.

  function runSections(j: BulkJob): HTMLElement[] {
    const resultsMsg = h('div', { className: 'bulk-download-msg' });
    const ended = isEnded(j.status);
    /** A file discarded before it was started has no progress to show. */
    const started = Boolean(j.startedBy || j.queuedAt);
    results = pagedTable<BulkRowResult>(props, {
      label: 'Results',
      headers: ['Row', 'User', 'Outcome', 'Changes', 'Error'],
      className: 'table-bulk-results',
      what: 'results',
      empty: 'No rows.',
      load: (cursor, s) => listResults(app.api, customerId, j.id, cursor, BULK_PAGE_SIZE, s),
      row: (r) =>
        h(
          'tr',
          { 'data-row': String(r.row), 'data-upn': r.userPrincipalName, 'data-outcome': r.outcome, className: r.outcome === 'failed' ? 'row-failed' : '' },
          h('th', { scope: 'row', className: 'num' }, String(r.row)),
          h('td', {}, r.userId ? h('a', { href: href({ name: 'user', id: customerId, userId: r.userId }) }, r.userPrincipalName) : r.userPrincipalName),
          h('td', {}, h('span', { className: outcomeClass(r.outcome) }, outcomeLabel(r.outcome))),
          h('td', { className: 'small' }, r.changes || h('span', { className: 'muted' }, '—')),
          h('td', { className: 'small text-error' }, r.error),
        ),
    });
    lastResultsLoad = Date.now();
    const download = downloadButton(
      'Download results (CSV)',
      resultsMsg,
      () => downloadResults(app.api, customerId, j.id, signal),
      () => resultsFilename(job?.filename ?? j.filename),
      ended ? 'btn btn-primary' : 'btn',
    );
    return [
      ended ? h('div', { 'data-testid': 'bulk-summary' }, summaryBox(jobSummary(j))) : h('span'),
      started ? progressCard : h('span'),
      h(
        'div',
        { className: 'bulk-results', 'data-testid': 'bulk-results' },
        h('div', { className: 'panel-head' }, h('h3', {}, 'Results per row'), download),
        ended ? null : h('p', { className: 'small muted' }, 'Rows not applied yet are pending; the file can be downloaded at any time.'),
        resultsMsg,
        results.el,
      ),
    ];
  }

  /** Reads the job again (after a refusal, a sync, or a poll). */
  async function refresh(): Promise<BulkJob | null> {
    try {
      const j = await getJob(app.api, customerId, jobId, signal);
      if (signal.aborted) return null;
      show(j);
      return j;
    } catch (e) {
      if (signal.aborted) return null;
      const err = toApiError(e);
      if (!job) replace(body, errorAlert(err, err.code === 'not_found' ? 'This upload does not exist (or has expired)' : 'Cannot load the upload'));
      else replace(msg, errorAlert(err, 'Cannot reload the upload'));
      return null;
    }
  }

  /** Polls the job while it is being applied, every 1–2 s, then shows how it ended. */
  async function follow(): Promise<void> {
    if (following) return;
    following = true;
    const started = Date.now();
    let failures = 0;
    try {
      while (!signal.aborted && shouldPoll(job)) {
        await sleep(pollDelay(Date.now() - started), signal);
        if (signal.aborted) return;
        let j: BulkJob;
        try {
          j = await getJob(app.api, customerId, jobId, signal);
        } catch (e) {
          if (signal.aborted) return;
          const err: ApiError = toApiError(e);
          if (++failures >= MAX_POLL_FAILURES || err.status === 401 || err.status === 403 || err.status === 404) {
            replace(msg, errorAlert(err, 'Cannot follow the job (reload the page to try again)'));
            return;
          }
          continue;
        }
        failures = 0;
        if (signal.aborted) return;
        replace(msg);
        show(j);
      }
    } finally {
      following = false;
    }
  }

  async function reload(): Promise<void> {
    const j = await refresh();
    if (j && shouldPoll(j)) void follow();
  }

  void reload();
  return { el, reload };
}
