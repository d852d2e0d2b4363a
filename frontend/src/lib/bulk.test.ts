import { describe, expect, it } from 'vitest';
import type { BulkJob, BulkProgress } from '../api/bulk';
import {
  bulkStatusClass,
  bulkStatusLabel,
  cancelConfirmText,
  changeLines,
  DIRECT_UPLOAD_LIMIT,
  fileProblem,
  formatBytes,
  formatSeconds,
  isApplying,
  isEnded,
  isUploaded,
  jobCounts,
  jobSummary,
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
  timeLeftText,
  uploadPath,
} from './bulk';

function progress(extra: Partial<BulkProgress> = {}): BulkProgress {
  return { total: 0, done: 0, failed: 0, remaining: 0, percent: 0, ratePerMinute: 0, secondsLeft: null, ...extra };
}

function job(extra: Partial<BulkJob> = {}): BulkJob {
  return {
    customerId: 'c', id: 'j', filename: 'users.csv', size: 100, status: 'validated', createdBy: 'Ann', createdAt: '', rows: 10,
    validRows: 10, invalidRows: 0, problems: 0, problemsListed: 0, columns: [], delimiter: ',', seats: [], onlyValid: false,
    total: 0, applied: 0, unchanged: 0, staged: 0, failed: 0, cancelRequested: false, version: 1, updatedAt: '', progress: progress(),
    ...extra,
  };
}

describe('upload path and file checks', () => {
  it('sends files under 5 MB as the body, larger ones through a presigned URL', () => {
    expect(DIRECT_UPLOAD_LIMIT).toBe(5 * 1024 * 1024);
    expect(uploadPath(0)).toBe('direct');
    expect(uploadPath(DIRECT_UPLOAD_LIMIT - 1)).toBe('direct');
    expect(uploadPath(DIRECT_UPLOAD_LIMIT)).toBe('presigned');
    expect(uploadPath(9 * 1024 * 1024)).toBe('presigned');
  });
  it('refuses workbooks, empty and oversized files before sending them', () => {
    expect(fileProblem({ name: 'users.csv', size: 10 })).toBeNull();
    expect(fileProblem({ name: 'Users.XLSX', size: 10 })).toMatch(/CSV UTF-8/);
    expect(fileProblem({ name: 'u.csv', size: 0 })).toMatch(/empty/);
    expect(fileProblem({ name: 'u.csv', size: 10 * 1024 * 1024 })).toBeNull();
    expect(fileProblem({ name: 'u.csv', size: 10 * 1024 * 1024 + 1 })).toMatch(/at most 10 MB/);
  });
  it('formats sizes', () => {
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(812)).toBe('812 bytes');
    expect(formatBytes(4300)).toBe('4.2 KB');
    expect(formatBytes(2048)).toBe('2 KB');
    expect(formatBytes(10 * 1024 * 1024)).toBe('10 MB');
    expect(formatBytes(-1)).toBe('—');
  });
});

describe('statuses and outcomes', () => {
  it('labels and classes', () => {
    expect(bulkStatusLabel('validated')).toBe('Ready to apply');
    expect(bulkStatusLabel('invalid')).toBe('Has problems');
    expect(bulkStatusLabel('running')).toBe('Applying');
    expect(bulkStatusLabel('odd')).toBe('odd');
    expect(bulkStatusLabel('')).toBe('—');
    expect(bulkStatusLabel('constructor')).toBe('constructor');
    expect(bulkStatusClass('completed')).toBe('badge badge-ok');
    expect(bulkStatusClass('invalid')).toBe('badge badge-failed');
    expect(bulkStatusClass('queued')).toBe('badge badge-running');
    expect(bulkStatusClass('cancelled')).toBe('badge');
    expect(outcomeLabel('ok')).toBe('Applied');
    expect(outcomeLabel('not applied')).toBe('Not applied');
    expect(outcomeLabel('x')).toBe('x');
    expect(outcomeClass('failed')).toBe('badge badge-failed');
    expect(outcomeClass('ok')).toBe('badge badge-ok');
    expect(outcomeClass('skipped')).toBe('badge');
  });
  it('phases', () => {
    for (const s of ['queued', 'running']) expect([isApplying(s), isEnded(s), isUploaded(s)]).toEqual([true, false, false]);
    for (const s of ['completed', 'cancelled', 'failed']) expect([isApplying(s), isEnded(s), isUploaded(s)]).toEqual([false, true, false]);
    for (const s of ['validated', 'invalid']) expect([isApplying(s), isEnded(s), isUploaded(s)]).toEqual([false, false, true]);
  });
});

describe('polling', () => {
  it('polls while the job is applied, and stops when it ends or was never started', () => {
    expect(shouldPoll(job({ status: 'queued' }))).toBe(true);
    expect(shouldPoll(job({ status: 'running', cancelRequested: true }))).toBe(true);
    for (const s of ['completed', 'cancelled', 'failed', 'validated', 'invalid'] as const) expect(shouldPoll(job({ status: s }))).toBe(false);
    expect(shouldPoll(null)).toBe(false);
  });
  it('every second at first, then every 2 s', () => {
    expect(pollDelay(0)).toBe(1000);
    expect(pollDelay(119_999)).toBe(1000);
    expect(pollDelay(120_000)).toBe(2000);
  });
});

describe('progress', () => {
  it('formats durations and the time left', () => {
    expect(formatSeconds(45)).toBe('45 s');
    expect(formatSeconds(59.6)).toBe('1 min');
    expect(formatSeconds(170)).toBe('3 min');
    expect(formatSeconds(3900)).toBe('1 h 5 min');
    expect(formatSeconds(7200)).toBe('2 h');
    expect(formatSeconds(3 * 86400 + 3 * 3600)).toBe('3 days 3 h');
    expect(timeLeftText(null)).toBe('');
    expect(timeLeftText(undefined)).toBe('');
    expect(timeLeftText(-1)).toBe('');
    expect(timeLeftText(3)).toBe('less than 10 s left');
    expect(timeLeftText(150)).toBe('about 3 min left');
    expect(rateText(0)).toBe('');
    expect(rateText(1)).toBe('1 row/min');
    expect(rateText(2.46)).toBe('2.5 rows/min');
    expect(rateText(118.6)).toBe('119 rows/min');
  });
  it('says done, failed, remaining, percent and time left', () => {
    const p = progress({ total: 500, done: 118, failed: 2, remaining: 380, percent: 24, ratePerMinute: 120, secondsLeft: 190 });
    expect(progressText(p, 'running')).toBe('120 of 500 rows (24%): 118 done, 2 failed, 380 remaining · about 3 min left');
    expect(progressText({ ...p, secondsLeft: null }, 'running')).toBe('120 of 500 rows (24%): 118 done, 2 failed, 380 remaining · estimating the time left…');
    expect(progressText(progress({ total: 3, remaining: 3 }), 'queued')).toBe('Waiting for a worker… 0 of 3 rows (0%): 0 done, 0 failed, 3 remaining');
    expect(progressText(progress({ total: 1, done: 1, percent: 100 }), 'completed')).toBe('1 of 1 row (100%): 1 done, 0 failed, 0 remaining');
    expect(progressText(progress({ total: 2000, done: 1500, percent: 75, remaining: 500 }), 'cancelled')).toBe('1,500 of 2,000 rows (75%): 1,500 done, 0 failed, 500 remaining');
  });
  it('keeps the bar within 0–100', () => {
    expect(progressPercent({ percent: 150, total: 1, done: 1, failed: 0 })).toBe(100);
    expect(progressPercent({ percent: Number.NaN, total: 4, done: 1, failed: 1 })).toBe(50);
    expect(progressPercent({ percent: Number.NaN, total: 0, done: 0, failed: 0 })).toBe(0);
  });
});

describe('problems and preview', () => {
  it('says where a problem is', () => {
    expect(problemWhere({ row: 0, column: '' })).toEqual({ row: 'File', column: '—' });
    expect(problemWhere({ row: 0, column: 'licences' })).toEqual({ row: 'File', column: 'licences' });
    expect(problemWhere({ row: 7, column: '' })).toEqual({ row: '7', column: 'whole row' });
    expect(problemWhere({ row: 3, column: 'userPrincipalName' })).toEqual({ row: '3', column: 'userPrincipalName' });
  });
  it('lists what a row changes', () => {
    const e3 = { skuId: 's1', partNumber: 'ENTERPRISEPACK', name: 'Office 365 E3' };
    expect(changeLines(null)).toEqual([]);
    expect(changeLines({ add: [], remove: [], addOns: [] })).toEqual([]);
    expect(
      changeLines({
        add: [e3, { skuId: 's2', partNumber: 'MCOEV', name: '' }],
        remove: [{ skuId: 's3', partNumber: '', name: '' }],
        addOns: [{ skuId: 's1', partNumber: 'ENTERPRISEPACK', off: ['SWAY'], on: ['TEAMS1'] }, { skuId: 's4', partNumber: 'X', off: [], on: [] }],
        number: { from: '', to: '+442079460101' },
        extension: { from: '101', to: '' },
        site: { from: 'London', to: 'Leeds' },
      }),
    ).toEqual([
      { kind: 'add', text: '+ Office 365 E3, MCOEV' },
      { kind: 'remove', text: '− s3' },
      { kind: 'addons', text: 'ENTERPRISEPACK: SWAY off, TEAMS1 on' },
      { kind: 'number', text: 'none → +442079460101' },
      { kind: 'extension', text: '101 → none' },
      { kind: 'site', text: 'London → Leeds' },
    ]);
  });
  it('totals per licence, short ones first', () => {
    const lines = seatLines([
      { skuId: 'a', partNumber: 'A', name: 'Alpha', available: 10, needed: 4, neededValid: 3, freed: 1, short: 0 },
      { skuId: 'b', partNumber: 'B', name: '', available: 1, needed: 5, neededValid: 4, freed: 0, short: 3 },
    ]);
    expect(lines.map((l) => [l.name, l.needed, l.after, l.ok])).toEqual([
      ['B', 4, -3, false],
      ['Alpha', 3, 8, true],
    ]);
    expect(seatLines(null)).toEqual([]);
  });
});

describe('start and cancel', () => {
  it('offers all rows, only the valid ones, or nothing', () => {
    expect(startChoice(job())).toBe('all');
    expect(startChoice(job({ status: 'invalid', validRows: 8, invalidRows: 2 }))).toBe('onlyValid');
    expect(startChoice(job({ status: 'invalid', validRows: 0, invalidRows: 2 }))).toBe('none');
    expect(startChoice(job({ status: 'running' }))).toBe('none');
  });
  it('confirms how many rows are skipped', () => {
    const j = job({ status: 'invalid', validRows: 47, invalidRows: 3, problems: 4 });
    expect(startConfirmText(j, true)).toMatch(/^Apply only the 47 rows without problems of users\.csv\? 3 rows with 4 problems are skipped: they change nothing/);
    expect(startConfirmText(job({ validRows: 1, invalidRows: 1, problems: 1 }), true)).toMatch(/1 row with 1 problem is skipped: it changes nothing/);
    expect(startConfirmText(job({ validRows: 10 }), false)).toBe('Apply users.csv to 10 rows? Licences, numbers and sites change as the preview shows.');
  });
  it('says what stays applied when cancelled', () => {
    expect(cancelConfirmText(job({ status: 'running', progress: progress({ done: 100, failed: 2 }) }))).toMatch(/The 102 rows already processed.*stay applied/);
    expect(cancelConfirmText(job({ status: 'invalid' }))).toMatch(/^Discard users\.csv\? Nothing of it was applied/);
  });
});

describe('summary and list', () => {
  it('sums up a job that ended', () => {
    const done = jobSummary(job({ status: 'completed', total: 10, applied: 7, unchanged: 2, staged: 1 }));
    expect(done).toEqual({
      level: 'ok',
      title: 'Done: 10 rows applied.',
      lines: ['7 rows changed', '2 rows unchanged (already as the file says)', '1 row staged: the number waits for Teams'],
    });
    const partial = jobSummary(job({ status: 'completed', total: 10, applied: 9, failed: 1, onlyValid: true, invalidRows: 2 }));
    expect(partial.level).toBe('partial');
    expect(partial.title).toBe('Done with failures: 9 of 10 rows applied, 1 failed.');
    expect(partial.lines).toContain('2 rows skipped (they had problems)');
    expect(jobSummary(job({ status: 'completed', total: 2, failed: 2 })).level).toBe('failed');
    expect(jobSummary(job({ status: 'cancelled', cancelledBy: 'Ann' }))).toEqual({ level: 'partial', title: 'Discarded by Ann: nothing of the file was applied.', lines: [] });
    const cancelled = jobSummary(job({ status: 'cancelled', total: 300, applied: 100, cancelledBy: 'Ann', startedBy: 'Bob' }));
    expect(cancelled.title).toBe('Cancelled by Ann: 100 of 300 rows applied.');
    expect(cancelled.lines).toContain('200 rows not applied');
    expect(jobSummary(job({ status: 'failed', total: 5, error: 'Graph is down' })).title).toBe('The job failed: Graph is down');
  });
  it('names the results file', () => {
    expect(resultsFilename('users.CSV')).toBe('users-results.csv');
    expect(resultsFilename('a/b:c.csv')).toBe('a_b_c-results.csv');
    expect(resultsFilename('')).toBe('upload-results.csv');
  });
  it('counts a job for the list', () => {
    expect(jobCounts(job({ rows: 48 }))).toBe('48 rows');
    expect(jobCounts(job({ status: 'invalid', rows: 48, problems: 1 }))).toBe('48 rows, 1 problem');
    expect(jobCounts(job({ status: 'running', progress: progress({ total: 48, done: 20, failed: 1, remaining: 27 }) }))).toBe('48 rows: 20 done, 1 failed, 27 remaining');
  });
});
