import { describe, expect, it } from 'vitest';
import type { ExportMonth, ExportRun } from '../api/exports';
import {
  canDownloadFile,
  dataRangeText,
  exportableRange,
  fileLabel,
  isActive,
  isStalled,
  monthLabel,
  monthOf,
  monthProblem,
  parseMonth,
  pollDelay,
  progressPercent,
  progressText,
  rerunConfirmText,
  retainedUntil,
  runOutcome,
  runStatus,
  shortSha,
  sortMonths,
  upsertMonth,
} from './exports';

function run(over: Partial<ExportRun> = {}): ExportRun {
  return {
    runId: 'r1',
    status: 'succeeded',
    phase: '',
    requestedBy: 'job:export',
    requestedAt: '2026-11-24T10:00:00Z',
    startedAt: '2026-11-24T10:00:01Z',
    finishedAt: '2026-11-24T10:00:05Z',
    heartbeatAt: '2026-11-24T10:00:05Z',
    leaseUntil: '2026-11-24T10:00:05Z',
    progress: { snapshots: 120, customers: 8, sites: 12, rows: 340, estimatedCustomers: 10 },
    error: '',
    active: false,
    ...over,
  };
}

function month(m: string, over: Partial<ExportMonth> = {}): ExportMonth {
  return { month: m, retainedUntil: '2028-11-01T00:00:00Z', manifest: null, run: null, ...over };
}

const manifest = (runId: string): NonNullable<ExportMonth['manifest']> => ({
  runId,
  generatedAt: '2026-11-24T10:00:05Z',
  softwareVersion: '1.2.3',
  requestedBy: 'job:export',
  period: { from: '2026-10-01', to: '2026-10-31' },
  data: { from: '2026-10-01', to: '2026-10-31', firstTakenAt: '2026-10-01T00:30:00Z', lastTakenAt: '2026-10-31T00:30:00Z' },
  rulesVersions: [3],
  counts: { snapshots: 120, customers: 10, publicSectorCustomers: 2, sites: 12, partnerRows: 340, anonymisedRows: 40 },
  files: [],
});

describe('months', () => {
  it('parse and name months', () => {
    expect(parseMonth('2026-10')).toEqual([2026, 10]);
    for (const bad of ['2026-13', '2026-00', '2026-1', '26-10', '2026-10-01', '']) expect(parseMonth(bad)).toBeNull();
    expect(monthLabel('2026-01')).toBe('January 2026');
    expect(monthLabel('2026-12')).toBe('December 2026');
    expect(monthLabel('nope')).toBe('nope');
  });

  it('step months in UTC', () => {
    const d = new Date('2026-03-31T23:30:00Z');
    expect(monthOf(d)).toBe('2026-03');
    expect(monthOf(d, -1)).toBe('2026-02');
    expect(monthOf(d, -3)).toBe('2025-12');
    expect(monthOf(d, 10)).toBe('2027-01');
  });

  it('keep a month two years after it ended', () => {
    expect(retainedUntil('2024-10')?.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(retainedUntil('2024-12')?.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(retainedUntil('x')).toBeNull();
  });

  it('offer from the oldest month retained to the current one', () => {
    expect(exportableRange(new Date('2026-11-24T10:00:00Z'))).toEqual({ min: '2024-11', max: '2026-11' });
    // At the very first instant of a month, the month ended two years before is still kept.
    expect(exportableRange(new Date('2026-11-01T00:00:00Z'))).toEqual({ min: '2024-10', max: '2026-11' });
    expect(exportableRange(new Date('2026-11-01T00:00:00.001Z'))).toEqual({ min: '2024-11', max: '2026-11' });
  });

  it('say what is wrong with a month to export', () => {
    const now = new Date('2026-11-24T10:00:00Z');
    expect(monthProblem('2026-10', now)).toBeNull();
    expect(monthProblem('2026-11', now)).toBeNull();
    expect(monthProblem('2024-11', now)).toBeNull();
    expect(monthProblem('', now)).toBe('Choose a month.');
    expect(monthProblem('2026-13', now)).toMatch(/YYYY-MM/);
    expect(monthProblem('2026-12', now)).toBe('December 2026 has not started yet.');
    expect(monthProblem('2024-10', now)).toBe('October 2024 is past the two-year retention: the oldest month kept is November 2024.');
  });

  it('sort newest first and update in place', () => {
    const list = sortMonths([month('2026-09'), month('2026-10'), month('2025-12')]);
    expect(list.map((m) => m.month)).toEqual(['2026-10', '2026-09', '2025-12']);
    const upd = upsertMonth(list, month('2026-09', { run: run() }));
    expect(upd.map((m) => m.month)).toEqual(['2026-10', '2026-09', '2025-12']);
    expect(upd[1]?.run?.runId).toBe('r1');
    expect(upsertMonth(list, month('2026-11')).map((m) => m.month)).toEqual(['2026-11', '2026-10', '2026-09', '2025-12']);
  });
});

describe('files', () => {
  it('label the four files and shorten sums', () => {
    expect(['anonymised', 'partner', 'snapshots', 'manifest', 'other'].map(fileLabel)).toEqual(['Anonymised CSV', 'Partner CSV', 'Raw JSON', 'Manifest', 'other']);
    const sha = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    expect(shortSha(sha)).toBe('e3b0c442…b855');
    expect(shortSha('abc')).toBe('abc');
  });

  it('leave the files that name customers to a scope of every customer', () => {
    expect(canDownloadFile({ namesCustomers: false }, ['c1'])).toBe(true);
    expect(canDownloadFile({ namesCustomers: true }, ['c1'])).toBe(false);
    expect(canDownloadFile({ namesCustomers: true }, ['*'])).toBe(true);
    expect(canDownloadFile({ namesCustomers: true }, undefined)).toBe(false);
  });

  it('say the data range', () => {
    expect(dataRangeText(manifest('r1'))).toBe('2026-10-01 to 2026-10-31');
    expect(dataRangeText({ data: null })).toBe('No snapshots in the month');
  });
});

describe('runs', () => {
  it('tell active, stalled and status', () => {
    expect(isActive(month('2026-10', { run: run({ status: 'running', active: true }) }))).toBe(true);
    expect(isActive(month('2026-10'))).toBe(false);
    expect(isStalled(run({ status: 'running', active: false }))).toBe(true);
    expect(isStalled(run({ status: 'failed' }))).toBe(false);
    expect(runStatus(null)).toEqual({ label: 'Not exported', cls: 'badge badge-never' });
    expect(runStatus(run({ status: 'queued', active: true })).label).toBe('Queued');
    expect(runStatus(run({ status: 'running', active: true, phase: 'reading' })).label).toBe('Running: reading snapshots');
    expect(runStatus(run()).label).toBe('Done');
    expect(runStatus(run({ status: 'failed' })).label).toBe('Failed');
    expect(runStatus(run({ status: 'running', active: false })).label).toBe('Stopped');
  });

  it('put progress in words and as a share', () => {
    expect(progressText(run({ status: 'queued', active: true }))).toBe('Waiting for the export to start…');
    expect(progressText(run({ status: 'running', active: true }))).toBe('120 snapshots read · 8 of about 10 customers · 12 sites · 340 rows');
    expect(progressText(run({ progress: { snapshots: 1, customers: 1, sites: 1, rows: 1, estimatedCustomers: 0 } }))).toBe(
      '1 snapshot read · 1 customer · 1 site · 1 row',
    );
    expect(progressPercent(run({ status: 'running', active: true }))).toBe(80);
    expect(progressPercent(run({ status: 'running', active: true, progress: { snapshots: 9, customers: 12, sites: 0, rows: 0, estimatedCustomers: 10 } }))).toBe(99);
    expect(progressPercent(run({ status: 'queued', active: true }))).toBeNull();
    expect(progressPercent(run({ status: 'running', active: true, progress: { snapshots: 9, customers: 1, sites: 0, rows: 0, estimatedCustomers: 0 } }))).toBeNull();
    expect(progressPercent(run())).toBe(100);
  });

  it('poll every second, then every two', () => {
    expect(pollDelay(0)).toBe(1000);
    expect(pollDelay(119_999)).toBe(1000);
    expect(pollDelay(120_000)).toBe(2000);
  });

  it('end a followed re-run when its manifest is the month’s', () => {
    const going = month('2026-10', { manifest: manifest('r0'), run: run({ runId: 'r1', status: 'running', active: true }) });
    expect(runOutcome(going, 'r1')).toBeNull();
    expect(runOutcome(month('2026-10', { manifest: manifest('r1'), run: run({ runId: 'r1' }) }), 'r1')).toBe('done');
    expect(runOutcome(month('2026-10', { manifest: manifest('r0'), run: run({ runId: 'r1' }) }), 'r1')).toBeNull();
    expect(runOutcome(month('2026-10', { manifest: manifest('r0'), run: run({ runId: 'r1', status: 'failed', error: 'boom' }) }), 'r1')).toBe('failed');
    expect(runOutcome(month('2026-10', { run: run({ runId: 'r1', status: 'running', active: false }) }), 'r1')).toBe('stopped');
    expect(runOutcome(month('2026-10', { run: run({ runId: 'r2', status: 'queued', active: true }) }), 'r1')).toBe('replaced');
  });

  it('confirm a run or a re-run', () => {
    expect(rerunConfirmText(month('2026-10'))).toMatch(/^Export October 2026 now\?/);
    expect(rerunConfirmText(month('2026-10', { manifest: manifest('r0') }))).toMatch(/^Re-run the export of October 2026\? .*replace the current ones as a whole/);
  });
});
