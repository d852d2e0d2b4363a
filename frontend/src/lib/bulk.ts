// Pure helpers of the bulk upload (mass configuration by CSV): which way a file is uploaded, the checks before it is
// sent, status and outcome labels, the progress line and time left, when to poll a job and when to stop, what a
// preview row changes, the totals per licence, the confirmations of Start and Cancel, and the final summary.

import type { BulkChanges, BulkJob, BulkOutcome, BulkProblem, BulkProgress, BulkSeat, BulkStatus } from '../api/bulk';
import { formatCount } from './format';
import type { Summary } from './results';

/** Files under this size go to the API as the request body; larger ones to a presigned URL of the bucket first. */
export const DIRECT_UPLOAD_LIMIT = 5 * 1024 * 1024;
/** The largest file the server reads (bulkcsv.DefaultMaxBytes). */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
/** The most rows a file may have (bulkcsv.DefaultMaxRows). */
export const MAX_ROWS = 50_000;
/** Rows (problems, preview rows, results) per page. */
export const BULK_PAGE_SIZE = 50;
/** Jobs per page of the customer's list. */
export const JOBS_PAGE_SIZE = 20;

/** How a file of size bytes is uploaded. */
export function uploadPath(size: number): 'direct' | 'presigned' {
  return size < DIRECT_UPLOAD_LIMIT ? 'direct' : 'presigned';
}

/** A byte count for people: "812 bytes", "4.2 KB", "9.8 MB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  if (n < 1024) return `${Math.trunc(n)} ${n === 1 ? 'byte' : 'bytes'}`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1).replace(/\.0$/, '')} KB`;
  return `${(n / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
}

/** What is wrong with a file before it is sent (null: send it); the server checks the rest. */
export function fileProblem(f: { name: string; size: number }): string | null {
  const name = f.name.toLowerCase();
  if (/\.(xlsx|xlsm|xls|ods|numbers)$/.test(name)) {
    return `${f.name} is a spreadsheet workbook, not a CSV file: in Excel, use File › Save As › “CSV UTF-8 (Comma delimited)” and upload that.`;
  }
  if (f.size === 0) return `${f.name} is empty: it needs a header row and a row per user (download the sample to start from).`;
  if (f.size > MAX_FILE_BYTES) {
    return `${f.name} is ${formatBytes(f.size)}: a file can be at most ${formatBytes(MAX_FILE_BYTES)} (and ${formatCount(MAX_ROWS)} rows). Split it into several files.`;
  }
  return null;
}

const STATUS_LABELS: Record<BulkStatus, string> = {
  validated: 'Ready to apply',
  invalid: 'Has problems',
  queued: 'Queued',
  running: 'Applying',
  completed: 'Completed',
  cancelled: 'Cancelled',
  failed: 'Failed',
};

function has<T extends string>(m: Record<T, unknown>, k: string): k is T {
  return Object.prototype.hasOwnProperty.call(m, k);
}

/** The label of a job's status; an unknown one as it is. */
export function bulkStatusLabel(s: string | null | undefined): string {
  if (!s) return '—';
  return has(STATUS_LABELS, s) ? STATUS_LABELS[s] : s;
}

/** The badge class of a job's status. */
export function bulkStatusClass(s: string): string {
  switch (s) {
    case 'validated':
    case 'completed':
      return 'badge badge-ok';
    case 'invalid':
    case 'failed':
      return 'badge badge-failed';
    case 'queued':
    case 'running':
      return 'badge badge-running';
    default:
      return 'badge';
  }
}

/** Whether a job is being applied (queued or running). */
export function isApplying(s: string): boolean {
  return s === 'queued' || s === 'running';
}

/** Whether a job has ended: completed, cancelled or failed. */
export function isEnded(s: string): boolean {
  return s === 'completed' || s === 'cancelled' || s === 'failed';
}

/** Whether a job waits for a decision: uploaded, not started (validated, or invalid with nothing applied). */
export function isUploaded(s: string): boolean {
  return s === 'validated' || s === 'invalid';
}

/**
 * Whether the job page keeps polling: the job is being applied. A job that ended, or was never started, changes
 * only by an admin's action (the page reloads it then).
 */
export function shouldPoll(job: Pick<BulkJob, 'status'> | null | undefined): boolean {
  return job != null && isApplying(job.status);
}

/** How long to wait before the next poll: every second for the first 2 minutes, then every 2 s. */
export function pollDelay(elapsedMs: number): number {
  return elapsedMs < 2 * 60_000 ? 1000 : 2000;
}

/** The most failed polls in a row before the page stops following the job (and says so). */
export const MAX_POLL_FAILURES = 5;

/** "45 s", "3 min", "1 h 5 min", "2 days 3 h"; seconds rounded up to what a person reads. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const hours = Math.floor(m / 60);
  const mins = m % 60;
  if (hours < 48) return mins > 0 ? `${hours} h ${mins} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest > 0 ? `${days} days ${rest} h` : `${days} days`;
}

/** The time left of a running job: "about 3 min left", "less than 10 s left", or "" when not known. */
export function timeLeftText(secondsLeft: number | null | undefined): string {
  if (secondsLeft == null || !Number.isFinite(secondsLeft) || secondsLeft < 0) return '';
  if (secondsLeft < 10) return 'less than 10 s left';
  return `about ${formatSeconds(secondsLeft)} left`;
}

/** The rate of a job: "120 rows/min", "" when not known. */
export function rateText(ratePerMinute: number | null | undefined): string {
  if (!ratePerMinute || !Number.isFinite(ratePerMinute) || ratePerMinute <= 0) return '';
  const r = ratePerMinute >= 10 ? Math.round(ratePerMinute) : Math.round(ratePerMinute * 10) / 10;
  return `${r} ${r === 1 ? 'row' : 'rows'}/min`;
}

/** The percentage of a progress bar, 0–100. */
export function progressPercent(p: Pick<BulkProgress, 'percent' | 'total' | 'done' | 'failed'>): number {
  if (Number.isFinite(p.percent) && p.percent >= 0) return Math.min(100, Math.trunc(p.percent));
  if (p.total <= 0) return 0;
  return Math.min(100, Math.trunc(((p.done + p.failed) * 100) / p.total));
}

/** The line under a progress bar: "120 of 500 rows (24%): 118 done, 2 failed, 380 remaining · about 3 min left". */
export function progressText(p: BulkProgress, status: string): string {
  const processed = p.done + p.failed;
  let s = `${formatCount(processed)} of ${formatCount(p.total)} ${p.total === 1 ? 'row' : 'rows'} (${progressPercent(p)}%): ` +
    `${formatCount(p.done)} done, ${formatCount(p.failed)} failed, ${formatCount(p.remaining)} remaining`;
  if (status === 'queued' && processed === 0) return `Waiting for a worker… ${s}`;
  if (isApplying(status)) {
    const left = timeLeftText(p.secondsLeft);
    s += left ? ` · ${left}` : processed === 0 ? '' : ' · estimating the time left…';
  }
  return s;
}

const OUTCOME_LABELS: Record<BulkOutcome, string> = {
  ok: 'Applied',
  unchanged: 'Unchanged',
  staged: 'Staged',
  failed: 'Failed',
  skipped: 'Skipped',
  pending: 'Pending',
  cancelled: 'Cancelled',
  'not applied': 'Not applied',
};

/** The label of a row's outcome. */
export function outcomeLabel(o: string | null | undefined): string {
  if (!o) return '—';
  return has(OUTCOME_LABELS, o) ? OUTCOME_LABELS[o] : o;
}

/** The badge class of a row's outcome. */
export function outcomeClass(o: string): string {
  switch (o) {
    case 'ok':
      return 'badge badge-ok';
    case 'failed':
    case 'not applied':
      return 'badge badge-failed';
    case 'staged':
    case 'pending':
      return 'badge badge-running';
    default:
      return 'badge';
  }
}

/** Where a problem is: "File" (row 0), "Row 3", and its column ("whole row" when none). */
export function problemWhere(p: Pick<BulkProblem, 'row' | 'column'>): { row: string; column: string } {
  return { row: p.row > 0 ? String(p.row) : 'File', column: p.column || (p.row > 0 ? 'whole row' : '—') };
}

/** A line of what a preview row changes, for one kind of change. */
export interface ChangeLine {
  kind: 'add' | 'remove' | 'addons' | 'number' | 'extension' | 'site';
  text: string;
}

const none = (s: string): string => (s.trim() === '' ? 'none' : s);

/** What a row changes, a line per kind: licences added, removed, add-ons switched, number, extension, site. */
export function changeLines(c: BulkChanges | null | undefined): ChangeLine[] {
  if (!c) return [];
  const out: ChangeLine[] = [];
  const name = (l: { name: string; partNumber: string; skuId: string }): string => l.name || l.partNumber || l.skuId;
  if (c.add && c.add.length > 0) out.push({ kind: 'add', text: `+ ${c.add.map(name).join(', ')}` });
  if (c.remove && c.remove.length > 0) out.push({ kind: 'remove', text: `− ${c.remove.map(name).join(', ')}` });
  for (const a of c.addOns ?? []) {
    const parts = [...(a.off ?? []).map((p) => `${p} off`), ...(a.on ?? []).map((p) => `${p} on`)];
    if (parts.length > 0) out.push({ kind: 'addons', text: `${a.partNumber || a.skuId}: ${parts.join(', ')}` });
  }
  if (c.number) out.push({ kind: 'number', text: `${none(c.number.from)} → ${none(c.number.to)}` });
  if (c.extension) out.push({ kind: 'extension', text: `${none(c.extension.from)} → ${none(c.extension.to)}` });
  if (c.site) out.push({ kind: 'site', text: `${none(c.site.from)} → ${none(c.site.to)}` });
  return out;
}

/** A licence's totals, as the preview's table shows them. */
export interface SeatLine {
  skuId: string;
  name: string;
  partNumber: string;
  needed: number;
  freed: number;
  available: number;
  /** Seats free after the valid rows are applied (may be negative: short). */
  after: number;
  short: number;
  ok: boolean;
}

/** The totals per licence of a file, those short of seats first, then by name. */
export function seatLines(seats: readonly BulkSeat[] | null | undefined): SeatLine[] {
  return [...(seats ?? [])]
    .map((s) => ({
      skuId: s.skuId,
      name: s.name || s.partNumber || s.skuId,
      partNumber: s.partNumber,
      needed: s.neededValid,
      freed: s.freed,
      available: s.available,
      after: s.available - s.neededValid + s.freed,
      short: s.short,
      ok: s.short <= 0,
    }))
    .sort((a, b) => Number(a.ok) - Number(b.ok) || a.name.localeCompare(b.name));
}

const rows = (n: number): string => `${formatCount(n)} ${n === 1 ? 'row' : 'rows'}`;

/** What the admin can do with an uploaded job: apply every row, only the valid ones, or nothing yet. */
export function startChoice(job: Pick<BulkJob, 'status' | 'validRows' | 'invalidRows'>): 'all' | 'onlyValid' | 'none' {
  if (job.status === 'validated' && job.validRows > 0) return 'all';
  if (job.status === 'invalid' && job.validRows > 0) return 'onlyValid';
  return 'none';
}

/** The confirmation of Start: what is applied, and (only the valid rows) how many rows are skipped. */
export function startConfirmText(job: Pick<BulkJob, 'filename' | 'validRows' | 'invalidRows' | 'problems'>, onlyValid: boolean): string {
  if (onlyValid) {
    return (
      `Apply only the ${rows(job.validRows)} without problems of ${job.filename}? ` +
      `${rows(job.invalidRows)} with ${formatCount(job.problems)} ${job.problems === 1 ? 'problem is' : 'problems are'} skipped: ` +
      `${job.invalidRows === 1 ? 'it changes' : 'they change'} nothing, and are listed as skipped in the results. ` +
      'To apply them too, put them right and upload the file again instead.'
    );
  }
  return `Apply ${job.filename} to ${rows(job.validRows)}? Licences, numbers and sites change as the preview shows.`;
}

/** The confirmation of Cancel: what stays applied. */
export function cancelConfirmText(job: Pick<BulkJob, 'status' | 'progress' | 'filename'>): string {
  if (isUploaded(job.status)) return `Discard ${job.filename}? Nothing of it was applied; it cannot be started afterwards.`;
  const done = job.progress.done + job.progress.failed;
  return (
    `Stop applying ${job.filename}? The job stops before its next chunk of rows. ` +
    `The ${rows(done)} already processed, and those of the chunk under way, stay applied and are reported; ` +
    'the rest are not applied.'
  );
}

/** The summary of a job that ended. */
export function jobSummary(job: BulkJob): Summary {
  const applied = job.applied;
  const lines: string[] = [];
  if (applied > 0) lines.push(`${rows(applied)} changed`);
  if (job.unchanged > 0) lines.push(`${rows(job.unchanged)} unchanged (already as the file says)`);
  if (job.staged > 0) lines.push(`${rows(job.staged)} staged: the number waits for Teams`);
  if (job.failed > 0) lines.push(`${rows(job.failed)} failed: see the results`);
  const notApplied = Math.max(0, job.total - job.applied - job.unchanged - job.staged - job.failed);
  if (notApplied > 0) lines.push(`${rows(notApplied)} not applied`);
  if (job.onlyValid && job.invalidRows > 0) lines.push(`${rows(job.invalidRows)} skipped (they had problems)`);
  const done = job.applied + job.unchanged + job.staged;
  switch (job.status) {
    case 'completed':
      return {
        level: job.failed === 0 ? 'ok' : done > 0 ? 'partial' : 'failed',
        title: job.failed === 0 ? `Done: ${rows(done)} applied.` : `Done with failures: ${formatCount(done)} of ${rows(job.total)} applied, ${formatCount(job.failed)} failed.`,
        lines,
      };
    case 'cancelled':
      if (!job.startedBy && !job.queuedAt) {
        return { level: 'partial', title: `Discarded${job.cancelledBy ? ` by ${job.cancelledBy}` : ''}: nothing of the file was applied.`, lines: [] };
      }
      return { level: 'partial', title: `Cancelled${job.cancelledBy ? ` by ${job.cancelledBy}` : ''}: ${formatCount(done)} of ${rows(job.total)} applied.`, lines };
    case 'failed':
      return { level: done > 0 ? 'partial' : 'failed', title: `The job failed${job.error ? `: ${job.error}` : '.'}`, lines };
    default:
      return { level: 'ok', title: bulkStatusLabel(job.status), lines };
  }
}

/** The name of the results file: the uploaded file's, with "-results". */
export function resultsFilename(filename: string): string {
  const base = (filename || 'upload.csv').replace(/\.csv$/i, '').replace(/[\\/:*?"<>|]+/g, '_') || 'upload';
  return `${base}-results.csv`;
}

/** The line of a job in the customer's list: "48 rows, 2 problems" / "48 rows: 45 done, 1 failed". */
export function jobCounts(job: BulkJob): string {
  if (isUploaded(job.status)) {
    return job.problems > 0 ? `${rows(job.rows)}, ${formatCount(job.problems)} ${job.problems === 1 ? 'problem' : 'problems'}` : rows(job.rows);
  }
  const p = job.progress;
  return `${rows(p.total)}: ${formatCount(p.done)} done, ${formatCount(p.failed)} failed${p.remaining > 0 ? `, ${formatCount(p.remaining)} remaining` : ''}`;
}
