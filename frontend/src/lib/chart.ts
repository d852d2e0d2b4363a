// Pure geometry of the usage history chart (an inline SVG line chart, no chart library): the y axis's "nice" ticks,
// the date ticks of the x axis, the positions of the points (a date's place in the requested range, so gaps in the
// data show as gaps in time) and the SVG path strings (a line breaks where a series has no value).

import { addDays, dateMs, daysBetween, formatDay, formatMonth, type ChartData } from './history';

/** Ticks of the value axis: 0, step, 2·step, … up to top (≥ the data's maximum). Counts: step is a whole number. */
export function niceTicks(max: number, target = 5): { top: number; step: number; ticks: number[] } {
  const m = Number.isFinite(max) ? Math.max(0, max) : 0;
  if (m === 0) return { top: 1, step: 1, ticks: [0, 1] };
  const raw = m / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const res = raw / mag;
  const nice = res <= 1 ? 1 : res <= 2 ? 2 : res <= 5 ? 5 : 10;
  const step = Math.max(1, nice * mag);
  const top = Math.ceil(m / step) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(v);
  return { top, step, ticks };
}

export interface DateTick {
  date: string;
  label: string;
}

/** Day steps (then month steps) the date axis may use, smallest first. */
const DAY_STEPS = [1, 2, 7, 14];
const MONTH_STEPS = [1, 2, 3, 6, 12];

/**
 * Ticks of the date axis from `from` to `to` (inclusive), at most maxTicks: every day or every other day from
 * `from`; then weekly or fortnightly on Mondays; then the first of every 1, 2, 3, 6 or 12 months. Labels "24 Nov"
 * for days, "Nov 2026" for months.
 */
export function dateTicks(from: string, to: string, maxTicks = 8): DateTick[] {
  if (Number.isNaN(dateMs(from)) || Number.isNaN(dateMs(to)) || daysBetween(from, to) < 0) return [];
  for (const step of DAY_STEPS) {
    let d = from;
    if (step >= 7) {
      // Mondays: getUTCDay() is 1 on a Monday.
      const dow = new Date(dateMs(from)).getUTCDay();
      d = addDays(from, (8 - dow) % 7);
    }
    const out: DateTick[] = [];
    for (; daysBetween(d, to) >= 0; d = addDays(d, step)) out.push({ date: d, label: formatDay(d) });
    if (out.length > 0 && out.length <= maxTicks) return out;
  }
  // The first of each month from the first one on or after `from`.
  const f = new Date(dateMs(from));
  const m0 = f.getUTCFullYear() * 12 + f.getUTCMonth() + (f.getUTCDate() === 1 ? 0 : 1);
  for (const step of MONTH_STEPS) {
    const out: DateTick[] = [];
    for (let m = m0; ; m += step) {
      const d = `${Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}-01`;
      if (daysBetween(d, to) < 0) break;
      out.push({ date: d, label: formatMonth(d) });
    }
    if (out.length > 0 && out.length <= maxTicks) return out;
  }
  return [{ date: from, label: formatDay(from, true) }];
}

export interface ChartSize {
  width: number;
  height: number;
  top: number;
  right: number;
  bottom: number;
  left: number;
}

/** The chart's default size (the SVG scales to its container through its viewBox). */
export const CHART_SIZE: ChartSize = { width: 760, height: 300, top: 14, right: 20, bottom: 32, left: 52 };

/** A point's x for a date of the range [from, to]: evenly by day; a one-day range puts it in the middle. */
export function xOf(date: string, from: string, to: string, size: ChartSize = CHART_SIZE): number {
  const plot = size.width - size.left - size.right;
  const span = daysBetween(from, to);
  if (span <= 0) return size.left + plot / 2;
  return size.left + (daysBetween(from, date) / span) * plot;
}

/** A value's y: 0 at the bottom of the plot, top at its top. */
export function yOf(value: number, top: number, size: ChartSize = CHART_SIZE): number {
  const plot = size.height - size.top - size.bottom;
  return size.top + plot - (top > 0 ? (value / top) * plot : 0);
}

const r1 = (n: number): string => String(Math.round(n * 10) / 10);

/** An SVG path through the points, "M x y L x y …"; a null y ends a segment (the next point starts a new "M"). */
export function linePath(points: ReadonlyArray<{ x: number; y: number | null }>): string {
  const parts: string[] = [];
  let pen = false;
  for (const p of points) {
    if (p.y === null || !Number.isFinite(p.y)) {
      pen = false;
      continue;
    }
    parts.push(`${pen ? 'L' : 'M'}${r1(p.x)} ${r1(p.y)}`);
    pen = true;
  }
  return parts.join(' ');
}

export interface SeriesGeometry {
  key: string;
  label: string;
  path: string;
  /** A dot per point; `isolated` when neither neighbour has a value (no line reaches it: it must stay visible). */
  dots: { x: number; y: number; date: string; value: number; isolated: boolean }[];
}

export interface ChartGeometry {
  size: ChartSize;
  xTicks: { x: number; label: string; date: string }[];
  yTicks: { y: number; label: string; value: number }[];
  series: SeriesGeometry[];
  /** The plot's box. */
  plot: { x: number; y: number; width: number; height: number };
  /** Points closer than DENSE_PX apart: the view draws small dots (isolated points stay large). */
  dense: boolean;
}

/** Below this many pixels between days the chart is dense. */
export const DENSE_PX = 8;

/**
 * Lays the chart out: the series shown (hidden keys left out, but the y axis fits only those shown), over the range
 * [from, to]; points outside the range are dropped.
 */
export function chartGeometry(data: ChartData, from: string, to: string, hidden: ReadonlySet<string> = new Set(), size: ChartSize = CHART_SIZE): ChartGeometry {
  const shown = data.series.filter((s) => !hidden.has(s.key));
  const inRange = data.dates.map((d) => daysBetween(from, d) >= 0 && daysBetween(d, to) >= 0);
  let max = 0;
  for (const s of shown) s.values.forEach((v, i) => {
    if (v !== null && inRange[i] && v > max) max = v;
  });
  const y = niceTicks(max);
  const series = shown.map((s) => {
    const pts = data.dates.map((d, i) => {
      const v = s.values[i] ?? null;
      return { x: xOf(d, from, to, size), y: v === null || !inRange[i] ? null : yOf(v, y.top, size), date: d, value: v };
    });
    const has = (i: number): boolean => i >= 0 && i < pts.length && pts[i]?.y !== null;
    const dots: SeriesGeometry['dots'] = [];
    pts.forEach((p, i) => {
      if (p.y !== null && p.value !== null) dots.push({ x: p.x, y: p.y, date: p.date, value: p.value, isolated: !has(i - 1) && !has(i + 1) });
    });
    return { key: s.key, label: s.label, path: linePath(pts), dots };
  });
  const plotWidth = size.width - size.left - size.right;
  const span = Math.max(1, daysBetween(from, to));
  const maxTicks = Math.max(2, Math.floor((size.width - size.left - size.right) / 80));
  return {
    size,
    xTicks: dateTicks(from, to, maxTicks).map((t) => ({ x: xOf(t.date, from, to, size), label: t.label, date: t.date })),
    yTicks: y.ticks.map((v) => ({ y: yOf(v, y.top, size), label: v.toLocaleString('en-US'), value: v })),
    series,
    plot: { x: size.left, y: size.top, width: plotWidth, height: size.height - size.top - size.bottom },
    dense: plotWidth / span < DENSE_PX,
  };
}

/** The colour of the i-th series (a palette readable on white; Licensed first, in the darkest). */
export const PALETTE = ['#14243b', '#1f5fbf', '#1d7a46', '#a86400', '#8e44ad', '#c0392b', '#16a085', '#7f8c8d', '#d35400', '#2c3e50', '#b7950b', '#6c3483'];

export function seriesColour(i: number): string {
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length] as string;
}

/** A sentence describing the data for screen readers (the SVG's <desc>). */
export function chartSummary(data: ChartData, hidden: ReadonlySet<string> = new Set()): string {
  if (data.dates.length === 0) return 'No snapshots in this range.';
  const first = data.dates[0] as string;
  const last = data.dates[data.dates.length - 1] as string;
  const shown = data.series.filter((s) => !hidden.has(s.key));
  const latest = shown
    .map((s) => {
      const v = s.values[s.values.length - 1];
      return v === null || v === undefined ? null : `${s.label} ${v.toLocaleString('en-US')}`;
    })
    .filter((x): x is string => x !== null);
  const days = data.dates.length === 1 ? `1 day (${formatDay(first, true)})` : `${data.dates.length} days from ${formatDay(first, true)} to ${formatDay(last, true)}`;
  return `Daily licence usage, ${days}. Latest: ${latest.join(', ') || 'nothing shown'}.`;
}
