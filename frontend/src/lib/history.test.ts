import { describe, expect, it } from 'vitest';
import type { HistoryPoint, Snapshot, SnapshotSku } from '../api/usage';
import {
  addDays,
  addMonths,
  daysBetween,
  formatDay,
  formatMonth,
  isDate,
  MAX_RANGE_DAYS,
  rangeDates,
  rangeText,
  seriesFromHistory,
  seriesFromSnapshots,
  skuChoices,
  utcDate,
} from './history';

const sku = (partNumber: string, k: Partial<SnapshotSku> = {}): SnapshotSku => ({
  skuId: `id-${partNumber}`,
  partNumber,
  name: partNumber === 'SPB' ? 'Microsoft 365 Business Premium' : partNumber,
  enabled: 0,
  consumed: 0,
  acquired: 0,
  assigned: 0,
  ...k,
});

const snap = (date: string, licensed: number, factors: [string, string, number][], unmatched: number, skus: SnapshotSku[] = []): Snapshot => ({
  customerId: 'c1',
  customerName: 'Contoso',
  publicSector: false,
  siteId: '',
  siteName: '',
  date,
  takenAt: `${date}T02:00:00Z`,
  users: licensed + 3,
  licensed,
  unmatched,
  factors: factors.map(([ruleId, name, count]) => ({ ruleId, name, enabled: true, count })),
  skus,
  rulesVersion: 1,
});

describe('dates', () => {
  it('are UTC calendar days', () => {
    expect(utcDate(new Date('2026-11-24T23:59:59Z'))).toBe('2026-11-24');
    expect(utcDate(new Date('2026-11-25T00:00:00+01:00'))).toBe('2026-11-24');
    expect(isDate('2024-02-29')).toBe(true);
    expect(isDate('2025-02-29')).toBe(false);
    expect(isDate('2025-13-01')).toBe(false);
    expect(isDate('2025-1-01')).toBe(false);
    expect(isDate('')).toBe(false);
  });
  it('add days and months across month and year ends', () => {
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2024-12-31', 1)).toBe('2025-01-01');
    expect(addDays('2026-03-29', 1)).toBe('2026-03-30'); // DST in Europe: days stay whole in UTC
    expect(addMonths('2026-03-31', -1)).toBe('2026-02-28');
    expect(addMonths('2024-02-29', -12)).toBe('2023-02-28');
    expect(addMonths('2026-11-24', -12)).toBe('2025-11-24');
    expect(addMonths('2026-01-15', 13)).toBe('2027-02-15');
    expect(daysBetween('2026-01-01', '2026-12-31')).toBe(364);
    expect(daysBetween('2026-01-02', '2026-01-01')).toBe(-1);
  });
  it('format', () => {
    expect(formatDay('2026-11-04')).toBe('4 Nov');
    expect(formatDay('2026-11-04', true)).toBe('4 Nov 2026');
    expect(formatMonth('2026-01-01')).toBe('Jan 2026');
    expect(formatDay('nope')).toBe('nope');
  });
});

describe('rangeDates', () => {
  const now = new Date('2026-11-24T10:00:00Z');
  it('ends today and includes it', () => {
    expect(rangeDates('7d', now)).toEqual({ ok: true, range: { from: '2026-11-18', to: '2026-11-24' } });
    expect(rangeDates('30d', now)).toEqual({ ok: true, range: { from: '2026-10-26', to: '2026-11-24' } });
    expect(rangeDates('90d', now)).toEqual({ ok: true, range: { from: '2026-08-27', to: '2026-11-24' } });
    expect(rangeDates('12m', now)).toEqual({ ok: true, range: { from: '2025-11-25', to: '2026-11-24' } });
  });
  it('12 months is at most a leap year of days, within the API limit', () => {
    const r = rangeDates('12m', new Date('2024-02-29T00:00:00Z'));
    expect(r).toEqual({ ok: true, range: { from: '2023-03-01', to: '2024-02-29' } });
    if (r.ok) expect(daysBetween(r.range.from, r.range.to) + 1).toBeLessThanOrEqual(MAX_RANGE_DAYS);
  });
  it('checks a custom range', () => {
    expect(rangeDates('custom', now, { from: '2026-01-01', to: '2026-01-31' })).toEqual({ ok: true, range: { from: '2026-01-01', to: '2026-01-31' } });
    expect(rangeDates('custom', now, { from: '2026-01-05', to: '2026-01-05' })).toMatchObject({ ok: true });
    expect(rangeDates('custom', now, { from: '', to: '2026-02-30' })).toEqual({ ok: false, errors: { from: expect.any(String), to: expect.any(String) } });
    expect(rangeDates('custom', now, { from: '2026-02-01', to: '2026-01-31' })).toEqual({ ok: false, errors: { to: 'Must not be before From.' } });
    const long = rangeDates('custom', now, { from: '2025-01-01', to: '2026-02-05' });
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.errors.to).toMatch(/At most 400 days/);
  });
  it('reads as text', () => {
    expect(rangeText({ from: '2026-10-26', to: '2026-11-24' })).toBe('26 Oct – 24 Nov 2026');
    expect(rangeText({ from: '2025-11-25', to: '2026-11-24' })).toBe('25 Nov 2025 – 24 Nov 2026');
    expect(rangeText({ from: '2026-11-24', to: '2026-11-24' })).toBe('24 Nov 2026');
  });
});

describe('seriesFromSnapshots', () => {
  it('builds licensed, each factor (by rule id, latest name, latest order), unmatched; ordered by date', () => {
    const data = seriesFromSnapshots([
      snap('2026-11-23', 40, [['dr', 'Direct Routing', 10], ['tpl', 'By template', 5]], 25),
      snap('2026-11-21', 38, [['dr', 'DR (old name)', 9], ['gone', 'Removed rule', 4]], 25),
      snap('2026-11-24', 42, [['sales', 'Sales', 8], ['dr', 'Direct Routing', 12], ['tpl', 'By template', 6]], 16),
    ]);
    expect(data.dates).toEqual(['2026-11-21', '2026-11-23', '2026-11-24']);
    expect(data.series.map((s) => [s.key, s.label])).toEqual([
      ['licensed', 'Licensed'],
      ['factor:sales', 'Sales'],
      ['factor:dr', 'Direct Routing'],
      ['factor:tpl', 'By template'],
      ['factor:gone', 'Removed rule'],
      ['unmatched', 'Unmatched'],
    ]);
    const by = Object.fromEntries(data.series.map((s) => [s.key, s.values]));
    expect(by['licensed']).toEqual([38, 40, 42]);
    expect(by['factor:sales']).toEqual([null, null, 8]);
    expect(by['factor:dr']).toEqual([9, 10, 12]);
    expect(by['factor:gone']).toEqual([4, null, null]);
    expect(by['unmatched']).toEqual([25, 25, 16]);
  });
  it('keeps the last point of a date listed twice, and drops bad dates', () => {
    const data = seriesFromSnapshots([snap('2026-11-24', 1, [], 1), snap('2026-11-24', 2, [], 2), snap('junk', 9, [], 9)]);
    expect(data.dates).toEqual(['2026-11-24']);
    expect(data.series.find((s) => s.key === 'licensed')?.values).toEqual([2]);
  });
  it('adds acquired when the pool has seats, and a SKU’s lines when asked', () => {
    const data = seriesFromSnapshots(
      [
        snap('2026-11-23', 40, [], 40, [sku('SPB', { enabled: 50, consumed: 42, acquired: 45, assigned: 42 }), sku('MCOEV', { acquired: 5, assigned: 3 })]),
        snap('2026-11-24', 41, [], 41, [sku('SPB', { enabled: 50, consumed: 43, acquired: 45, assigned: 43 })]),
      ],
      { sku: 'SPB' },
    );
    const by = Object.fromEntries(data.series.map((s) => [s.key, s]));
    expect(by['acquired']?.values).toEqual([50, 45]);
    expect(by['sku:SPB:assigned']).toMatchObject({ label: 'Microsoft 365 Business Premium: assigned', values: [42, 43] });
    expect(by['sku:SPB:enabled']?.values).toEqual([50, 50]);
    expect(by['sku:SPB:acquired']?.values).toEqual([45, 45]);
    const none = seriesFromSnapshots([snap('2026-11-24', 1, [], 1, [sku('X', { assigned: 1 })])], { sku: 'X' });
    expect(none.series.map((s) => s.key)).toEqual(['licensed', 'unmatched', 'sku:X:assigned']);
    const missing = seriesFromSnapshots([snap('2026-11-24', 1, [], 1)], { sku: 'NOPE' });
    expect(missing.series.find((s) => s.key === 'sku:NOPE:assigned')?.values).toEqual([null]);
  });
  it('is empty without snapshots', () => {
    expect(seriesFromSnapshots([])).toEqual({
      dates: [],
      series: [
        { key: 'licensed', label: 'Licensed', kind: 'licensed', values: [] },
        { key: 'unmatched', label: 'Unmatched', kind: 'unmatched', values: [] },
      ],
    });
  });
});

describe('seriesFromHistory', () => {
  const pt = (date: string, licensed: number, factors: Record<string, number>, skus: Record<string, SnapshotSku> = {}): HistoryPoint => ({
    date,
    customers: 2,
    users: licensed + 10,
    licensed,
    unmatched: 1,
    factors,
    skus,
  });
  it('adds factors up by name', () => {
    const data = seriesFromHistory([pt('2026-11-23', 100, { 'Direct Routing': 60, Service: 5 }), pt('2026-11-24', 110, { 'Direct Routing': 70 })]);
    expect(data.series.map((s) => s.key)).toEqual(['licensed', 'factor:Direct Routing', 'factor:Service', 'unmatched']);
    expect(data.series[2]?.values).toEqual([5, null]);
  });
  it('lists the SKUs for the menu, part numbers from the keys when missing', () => {
    const pts = [pt('2026-11-24', 1, {}, { SPB: sku('SPB', { partNumber: '' }), MCOEV: sku('MCOEV') })];
    expect(skuChoices(pts)).toEqual([
      { partNumber: 'MCOEV', name: 'MCOEV' },
      { partNumber: 'SPB', name: 'Microsoft 365 Business Premium' },
    ]);
    const data = seriesFromHistory(pts, { sku: 'SPB' });
    expect(data.series.some((s) => s.key === 'sku:SPB:assigned')).toBe(true);
  });
});
