import { describe, expect, it } from 'vitest';
import { CHART_SIZE, chartGeometry, chartSummary, dateTicks, linePath, niceTicks, seriesColour, xOf, yOf } from './chart';
import type { ChartData } from './history';

describe('niceTicks', () => {
  it('steps by 1, 2 or 5 times a power of ten, whole numbers, top ≥ max', () => {
    expect(niceTicks(0)).toEqual({ top: 1, step: 1, ticks: [0, 1] });
    expect(niceTicks(3)).toEqual({ top: 3, step: 1, ticks: [0, 1, 2, 3] });
    expect(niceTicks(7)).toEqual({ top: 8, step: 2, ticks: [0, 2, 4, 6, 8] });
    expect(niceTicks(48)).toEqual({ top: 50, step: 10, ticks: [0, 10, 20, 30, 40, 50] });
    expect(niceTicks(50)).toEqual({ top: 50, step: 10, ticks: [0, 10, 20, 30, 40, 50] });
    expect(niceTicks(51)).toEqual({ top: 60, step: 20, ticks: [0, 20, 40, 60] });
    expect(niceTicks(1234)).toEqual({ top: 1500, step: 500, ticks: [0, 500, 1000, 1500] });
    expect(niceTicks(0.4)).toEqual({ top: 1, step: 1, ticks: [0, 1] });
    expect(niceTicks(Number.NaN)).toEqual({ top: 1, step: 1, ticks: [0, 1] });
    expect(niceTicks(-5)).toEqual({ top: 1, step: 1, ticks: [0, 1] });
  });
  it('never gives more than about target+1 ticks', () => {
    for (const m of [1, 9, 11, 99, 101, 499, 999, 50_001]) {
      const t = niceTicks(m);
      expect(t.top).toBeGreaterThanOrEqual(m);
      expect(t.ticks.length).toBeLessThanOrEqual(7);
      expect(t.ticks[t.ticks.length - 1]).toBe(t.top);
    }
  });
});

describe('dateTicks', () => {
  it('labels each day of a week', () => {
    const t = dateTicks('2026-11-18', '2026-11-24');
    expect(t.map((x) => x.label)).toEqual(['18 Nov', '19 Nov', '20 Nov', '21 Nov', '22 Nov', '23 Nov', '24 Nov']);
  });
  it('uses Mondays for 30 and 90 days', () => {
    const t = dateTicks('2026-10-26', '2026-11-24');
    // 26 Oct 2026 is a Monday.
    expect(t.map((x) => x.date)).toEqual(['2026-10-26', '2026-11-02', '2026-11-09', '2026-11-16', '2026-11-23']);
    const q = dateTicks('2026-08-27', '2026-11-24');
    expect(q.length).toBeLessThanOrEqual(8);
    for (const x of q) expect(new Date(`${x.date}T00:00:00Z`).getUTCDay()).toBe(1);
  });
  it('uses the first of the months for 12 months', () => {
    const t = dateTicks('2025-11-25', '2026-11-24');
    expect(t.map((x) => x.label)).toEqual(['Dec 2025', 'Feb 2026', 'Apr 2026', 'Jun 2026', 'Aug 2026', 'Oct 2026']);
    expect(dateTicks('2025-11-25', '2026-11-24', 13).map((x) => x.date)[0]).toBe('2025-12-01');
    expect(dateTicks('2026-01-01', '2026-12-31', 13)[0]?.date).toBe('2026-01-01');
  });
  it('handles one day and bad input', () => {
    expect(dateTicks('2026-11-24', '2026-11-24')).toEqual([{ date: '2026-11-24', label: '24 Nov' }]);
    expect(dateTicks('2026-11-25', '2026-11-24')).toEqual([]);
    expect(dateTicks('x', '2026-11-24')).toEqual([]);
  });
});

describe('scales and paths', () => {
  const size = { width: 120, height: 70, top: 10, right: 10, bottom: 10, left: 10 };
  it('place dates evenly over the range, one day in the middle', () => {
    expect(xOf('2026-11-01', '2026-11-01', '2026-11-11', size)).toBe(10);
    expect(xOf('2026-11-06', '2026-11-01', '2026-11-11', size)).toBe(60);
    expect(xOf('2026-11-11', '2026-11-01', '2026-11-11', size)).toBe(110);
    expect(xOf('2026-11-01', '2026-11-01', '2026-11-01', size)).toBe(60);
  });
  it('put 0 at the bottom and top at the top', () => {
    expect(yOf(0, 10, size)).toBe(60);
    expect(yOf(10, 10, size)).toBe(10);
    expect(yOf(5, 10, size)).toBe(35);
    expect(yOf(5, 0, size)).toBe(60);
  });
  it('draw lines that break at missing values', () => {
    expect(linePath([])).toBe('');
    expect(linePath([{ x: 1, y: 2 }])).toBe('M1 2');
    expect(linePath([{ x: 1.234, y: 2 }, { x: 3, y: 4.56 }, { x: 5, y: null }, { x: 7, y: 8 }, { x: 9, y: 10 }])).toBe('M1.2 2 L3 4.6 M7 8 L9 10');
    expect(linePath([{ x: 1, y: Number.NaN }, { x: 2, y: 3 }])).toBe('M2 3');
  });
});

describe('chartGeometry', () => {
  const data: ChartData = {
    dates: ['2026-11-20', '2026-11-22', '2026-11-24'],
    series: [
      { key: 'licensed', label: 'Licensed', kind: 'licensed', values: [40, 42, 48] },
      { key: 'factor:dr', label: 'Direct Routing', kind: 'factor', values: [null, 5, 7] },
      { key: 'unmatched', label: 'Unmatched', kind: 'unmatched', values: [30, 30, 90] },
    ],
  };
  it('lays out the series shown, the y axis fitting them', () => {
    const g = chartGeometry(data, '2026-11-18', '2026-11-24', new Set(['unmatched']));
    expect(g.series.map((s) => s.key)).toEqual(['licensed', 'factor:dr']);
    expect(g.yTicks.map((t) => t.value)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(g.xTicks).toHaveLength(7);
    const dr = g.series[1];
    expect(dr?.dots.map((d) => d.date)).toEqual(['2026-11-22', '2026-11-24']);
    expect(dr?.path.startsWith('M')).toBe(true);
    expect(dr?.path.split('M')).toHaveLength(2);
    const lic = g.series[0];
    expect(lic?.dots[2]?.x).toBeCloseTo(CHART_SIZE.width - CHART_SIZE.right);
    expect(lic?.dots[2]?.y).toBeCloseTo(yOf(48, 50));
    expect(g.dense).toBe(false);
    expect(dr?.dots.map((d) => d.isolated)).toEqual([false, false]);
    const all = chartGeometry(data, '2026-11-18', '2026-11-24');
    expect(all.yTicks[all.yTicks.length - 1]?.value).toBe(100);
  });
  it('marks isolated points, and dense ranges', () => {
    const gappy: ChartData = { dates: ['2026-11-20', '2026-11-21', '2026-11-22'], series: [{ key: 'f', label: 'F', kind: 'factor', values: [3, null, 4] }] };
    const g = chartGeometry(gappy, '2025-11-25', '2026-11-24');
    expect(g.series[0]?.dots.map((d) => d.isolated)).toEqual([true, true]);
    expect(g.series[0]?.path).toBe(g.series[0]?.path.replace(/L/g, ''));
    expect(g.dense).toBe(true);
    expect(chartGeometry(gappy, '2026-10-26', '2026-11-24').dense).toBe(false);
  });
  it('drops points outside the range', () => {
    const g = chartGeometry(data, '2026-11-21', '2026-11-23');
    expect(g.series[0]?.dots.map((d) => d.date)).toEqual(['2026-11-22']);
    expect(g.yTicks[g.yTicks.length - 1]?.value).toBe(50);
  });
  it('says what it shows', () => {
    expect(chartSummary(data)).toBe('Daily licence usage, 3 days from 20 Nov 2026 to 24 Nov 2026. Latest: Licensed 48, Direct Routing 7, Unmatched 90.');
    expect(chartSummary(data, new Set(['unmatched', 'factor:dr']))).toBe('Daily licence usage, 3 days from 20 Nov 2026 to 24 Nov 2026. Latest: Licensed 48.');
    expect(chartSummary({ dates: [], series: [] })).toBe('No snapshots in this range.');
    expect(chartSummary({ dates: ['2026-11-24'], series: [{ key: 'licensed', label: 'Licensed', kind: 'licensed', values: [1200] }] })).toBe(
      'Daily licence usage, 1 day (24 Nov 2026). Latest: Licensed 1,200.',
    );
  });
  it('colours series from a palette that wraps', () => {
    expect(seriesColour(0)).toBe('#14243b');
    expect(seriesColour(12)).toBe(seriesColour(0));
    expect(seriesColour(-1)).toBe(seriesColour(11));
  });
});
