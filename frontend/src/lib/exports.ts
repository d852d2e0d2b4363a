// Pure logic of the Exports page (issue 8): month names and the months one may export, file labels, shortened
// SHA-256 sums, a run's status and progress in words, when to poll and when a re-run is over.

import type { ExportFile, ExportManifest, ExportMonth, ExportRun } from '../api/exports';
import { formatCount } from './format';

const MONTH_RE = /^(\d{4})-(\d{2})$/;

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Parses "YYYY-MM" into [year, month 1–12], or null. */
export function parseMonth(s: string): [number, number] | null {
  const m = MONTH_RE.exec(s);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  if (mo < 1 || mo > 12) return null;
  return [y, mo];
}

/** "2026-10" → "October 2026"; anything else as it is. */
export function monthLabel(month: string): string {
  const p = parseMonth(month);
  return p ? `${MONTH_NAMES[p[1] - 1]} ${p[0]}` : month;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** The month (UTC) of a date as "YYYY-MM", shifted by `add` months. */
export function monthOf(d: Date, add = 0): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}`;
}

/** When the two-year retention removes a month's exports: two years after the month ended (first instant of the next month, UTC). */
export function retainedUntil(month: string): Date | null {
  const p = parseMonth(month);
  return p ? new Date(Date.UTC(p[0] + 2, p[1], 1)) : null;
}

/** The months one may export at `now`: from the oldest still retained to the current one (which has started). */
export function exportableRange(now: Date): { min: string; max: string } {
  const max = monthOf(now);
  // 25 months back has always passed its retention (two years after it ended); 24 back has not, but at its last instant.
  let back = -25;
  for (; back < 0; back++) {
    const until = retainedUntil(monthOf(now, back));
    if (until && now.getTime() <= until.getTime()) break;
  }
  return { min: monthOf(now, back), max };
}

/** What is wrong with a month chosen to export (null: it can be exported), as the API would say it. */
export function monthProblem(month: string, now: Date): string | null {
  const v = month.trim();
  if (v === '') return 'Choose a month.';
  if (!parseMonth(v)) return 'The month must be YYYY-MM, e.g. 2026-10.';
  const { min, max } = exportableRange(now);
  if (v > max) return `${monthLabel(v)} has not started yet.`;
  if (v < min) return `${monthLabel(v)} is past the two-year retention: the oldest month kept is ${monthLabel(min)}.`;
  return null;
}

/** Months newest first (the API's order; a month added or updated locally keeps it). */
export function sortMonths(months: readonly ExportMonth[]): ExportMonth[] {
  return [...months].sort((a, b) => (a.month < b.month ? 1 : a.month > b.month ? -1 : 0));
}

/** The list with `m` put in place of the month it updates (or added, in order). */
export function upsertMonth(months: readonly ExportMonth[], m: ExportMonth): ExportMonth[] {
  return sortMonths([...months.filter((x) => x.month !== m.month), m]);
}

const FILE_LABELS: Record<ExportFile['kind'], string> = {
  anonymised: 'Anonymised CSV',
  partner: 'Partner CSV',
  snapshots: 'Raw JSON',
  manifest: 'Manifest',
};

const FILE_HELP: Record<ExportFile['kind'], string> = {
  anonymised: 'Counts per licence factor and SKU, public sector or not; no customer, site, tenant or user data (for the vendor)',
  partner: 'The same per customer and site, with their names and ids (for the partner)',
  snapshots: 'Every daily snapshot both CSV files were computed from',
  manifest: 'Each file’s size and SHA-256, when and by which version it was generated, the data’s time range',
};

/** A file's kind for people: "Anonymised CSV", "Partner CSV", "Raw JSON", "Manifest". */
export function fileLabel(kind: string): string {
  return (FILE_LABELS as Record<string, string>)[kind] ?? kind;
}

/** What a file of kind holds, in one line. */
export function fileHelp(kind: string): string {
  return (FILE_HELP as Record<string, string>)[kind] ?? '';
}

/** A SHA-256 shortened for display: its first 8 and last 4 hex digits ("3f2a9c01…8b1e"); short values as they are. */
export function shortSha(sha: string): string {
  const s = sha.trim();
  return s.length > 16 ? `${s.slice(0, 8)}…${s.slice(-4)}` : s;
}

/** Whether the run holds the month now (queued or running, lease alive): the page polls the month meanwhile. */
export function isActive(m: Pick<ExportMonth, 'run'> | null | undefined): boolean {
  return m?.run?.active === true;
}

/** A run that says it is queued or running but no longer holds the month: it stopped without saying so. */
export function isStalled(run: Pick<ExportRun, 'status' | 'active'> | null | undefined): boolean {
  return run != null && !run.active && (run.status === 'queued' || run.status === 'running' || run.status === 'removing');
}

/** A run's status for people, and the badge class. */
export function runStatus(run: Pick<ExportRun, 'status' | 'active' | 'phase'> | null | undefined): { label: string; cls: string } {
  if (!run) return { label: 'Not exported', cls: 'badge badge-never' };
  if (isStalled(run)) return { label: 'Stopped', cls: 'badge badge-failed' };
  switch (run.status) {
    case 'queued':
      return { label: 'Queued', cls: 'badge badge-queued' };
    case 'running':
      return { label: run.phase ? `Running: ${PHASES[run.phase] ?? run.phase}` : 'Running', cls: 'badge badge-running' };
    case 'succeeded':
      return { label: 'Done', cls: 'badge badge-ok' };
    case 'failed':
      return { label: 'Failed', cls: 'badge badge-failed' };
    case 'removing':
      return { label: 'Being removed', cls: 'badge badge-queued' };
  }
  return { label: String(run.status), cls: 'badge' };
}

const PHASES: Record<string, string> = {
  reading: 'reading snapshots',
  manifest: 'writing the files',
  cleanup: 'removing the old files',
};

/** A run's progress in words: "Queued: waiting for the export to start", or "120 snapshots read · 8 of about 10 customers · 12 sites · 340 rows". */
export function progressText(run: Pick<ExportRun, 'status' | 'progress' | 'active'>): string {
  if (run.status === 'queued' && run.active) return 'Waiting for the export to start…';
  const p = run.progress;
  const parts = [`${formatCount(p.snapshots)} ${p.snapshots === 1 ? 'snapshot' : 'snapshots'} read`];
  parts.push(
    p.estimatedCustomers > 0 && run.active
      ? `${formatCount(p.customers)} of about ${formatCount(p.estimatedCustomers)} customers`
      : `${formatCount(p.customers)} ${p.customers === 1 ? 'customer' : 'customers'}`,
  );
  parts.push(`${formatCount(p.sites)} ${p.sites === 1 ? 'site' : 'sites'}`);
  parts.push(`${formatCount(p.rows)} ${p.rows === 1 ? 'row' : 'rows'}`);
  return parts.join(' · ');
}

/**
 * How far a run is, 0–100, for a progress bar: customers done of those expected, kept below 100 until the run ends;
 * null while it cannot be told (queued, or no estimate).
 */
export function progressPercent(run: Pick<ExportRun, 'status' | 'progress' | 'active'>): number | null {
  if (run.status === 'succeeded') return 100;
  if (!run.active || run.status === 'queued') return null;
  const { customers, estimatedCustomers } = run.progress;
  if (estimatedCustomers <= 0) return null;
  return Math.max(0, Math.min(99, Math.floor((customers / estimatedCustomers) * 100)));
}

/** How long to wait before the next poll of a running month: every second for 2 minutes, then every 2 s. */
export function pollDelay(elapsedMs: number): number {
  return elapsedMs < 2 * 60_000 ? 1000 : 2000;
}

/** The most failed polls in a row before the page stops following a run (and says so). */
export const MAX_POLL_FAILURES = 5;

/** How a run the page follows ended, once it has: its new files are listed, it failed, or it stopped. */
export type RunOutcome = 'done' | 'failed' | 'stopped' | 'replaced';

/**
 * Whether the run `runId` of month `m` is over, and how: null while it goes on; "done" once it succeeded and its
 * manifest is the month's; "replaced" when another run is the month's now; "failed" or "stopped" otherwise.
 */
export function runOutcome(m: ExportMonth, runId: string): RunOutcome | null {
  const run = m.run;
  if (!run || run.runId !== runId) return 'replaced';
  if (run.active) return null;
  if (run.status === 'succeeded') return m.manifest?.runId === runId ? 'done' : null;
  if (run.status === 'failed') return 'failed';
  return 'stopped';
}

/** The confirmation of a (re-)run of month m. */
export function rerunConfirmText(m: Pick<ExportMonth, 'month' | 'manifest'>): string {
  const label = monthLabel(m.month);
  if (!m.manifest) return `Export ${label} now? The export reads every customer’s daily snapshots of the month.`;
  return (
    `Re-run the export of ${label}? Its files are computed again from the daily snapshots and replace the current ` +
    'ones as a whole once they are all written; until then the current files stay available.'
  );
}

/** The days of the snapshots a manifest was computed from ("2026-10-01 to 2026-10-24"), or that the month had none. */
export function dataRangeText(m: Pick<ExportManifest, 'data'>): string {
  const d = m.data;
  if (!d) return 'No snapshots in the month';
  return d.from === d.to ? d.from : `${d.from} to ${d.to}`;
}

/** Whether a file may be downloaded by one whose scope is `scope` (the files that name customers need "*"). */
export function canDownloadFile(f: Pick<ExportFile, 'namesCustomers'>, scope: readonly string[] | undefined): boolean {
  return !f.namesCustomers || (scope ?? []).includes('*');
}
