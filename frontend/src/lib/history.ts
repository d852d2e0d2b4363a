// Pure helpers of the usage history: UTC calendar dates (YYYY-MM-DD), the chart's ranges (7, 30, 90 days, 12 months,
// custom from–to) as the dates the API is asked for, and the chart's series built from a customer's snapshots or from
// the history across customers (licensed, acquired, unmatched, each factor, and optionally one SKU).

import type { HistoryPoint, Snapshot, SnapshotSku } from '../api/usage';

// -- Dates

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 24 * 60 * 60 * 1000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad = (n: number): string => String(n).padStart(2, '0');

/** The UTC calendar date of a moment, YYYY-MM-DD (snapshots are dated by UTC day). */
export function utcDate(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** Milliseconds at 00:00 UTC of a date, or NaN when it is not a real YYYY-MM-DD date. */
export function dateMs(date: string): number {
  const m = DATE.exec(date);
  if (!m) return Number.NaN;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  // Date.UTC rolls 2025-02-30 over to March: not a date.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return Number.NaN;
  return t;
}

/** Whether s is a real calendar date YYYY-MM-DD. */
export function isDate(s: string): boolean {
  return !Number.isNaN(dateMs(s));
}

/** The date n days after (before, when negative) a date. */
export function addDays(date: string, n: number): string {
  return utcDate(new Date(dateMs(date) + n * DAY_MS));
}

/** The date n months after (before) a date; a day the target month lacks becomes its last (31 Mar − 1 month = 28/29 Feb). */
export function addMonths(date: string, n: number): string {
  const t = new Date(dateMs(date));
  const y = t.getUTCFullYear();
  const m = t.getUTCMonth() + n;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return utcDate(new Date(Date.UTC(y, m, Math.min(t.getUTCDate(), last))));
}

/** Whole days from a to b (negative when b is before a). */
export function daysBetween(a: string, b: string): number {
  return Math.round((dateMs(b) - dateMs(a)) / DAY_MS);
}

/** A date as "24 Nov" (withYear: "24 Nov 2026"). */
export function formatDay(date: string, withYear = false): string {
  const ms = dateMs(date);
  if (Number.isNaN(ms)) return date;
  const d = new Date(ms);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}${withYear ? ` ${d.getUTCFullYear()}` : ''}`;
}

/** A date's month as "Nov 2026". */
export function formatMonth(date: string): string {
  const ms = dateMs(date);
  if (Number.isNaN(ms)) return date;
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

// -- Ranges

export type RangeKey = '7d' | '30d' | '90d' | '12m' | 'custom';

/** The ranges the chart offers, in menu order. */
export const RANGES: ReadonlyArray<{ value: RangeKey; label: string }> = [
  { value: '7d', label: '7 days' },
  { value: '30d', label: '30 days' },
  { value: '90d', label: '90 days' },
  { value: '12m', label: '12 months' },
  { value: 'custom', label: 'Custom' },
];

/** The longest range the API answers (from and to included). */
export const MAX_RANGE_DAYS = 400;

export interface DateRange {
  from: string;
  to: string;
}

/** A range's dates, or why the custom dates are not one (keyed `from` / `to`). */
export type RangeResult = { ok: true; range: DateRange } | { ok: false; errors: Partial<Record<'from' | 'to', string>> };

/**
 * The dates (inclusive, UTC) of a range ending today: 7 days = today and the 6 before; 12 months = the day after
 * the same date a year ago to today. Custom: both dates real, from ≤ to, at most MAX_RANGE_DAYS days.
 */
export function rangeDates(key: RangeKey, now: Date, custom: Partial<DateRange> = {}): RangeResult {
  const today = utcDate(now);
  switch (key) {
    case '7d':
      return { ok: true, range: { from: addDays(today, -6), to: today } };
    case '30d':
      return { ok: true, range: { from: addDays(today, -29), to: today } };
    case '90d':
      return { ok: true, range: { from: addDays(today, -89), to: today } };
    case '12m':
      return { ok: true, range: { from: addDays(addMonths(today, -12), 1), to: today } };
    case 'custom': {
      const from = (custom.from ?? '').trim();
      const to = (custom.to ?? '').trim();
      const errors: Partial<Record<'from' | 'to', string>> = {};
      if (!isDate(from)) errors.from = 'Enter a date (YYYY-MM-DD).';
      if (!isDate(to)) errors.to = 'Enter a date (YYYY-MM-DD).';
      if (!errors.from && !errors.to) {
        const days = daysBetween(from, to) + 1;
        if (days < 1) errors.to = 'Must not be before From.';
        else if (days > MAX_RANGE_DAYS) errors.to = `At most ${MAX_RANGE_DAYS} days after From (this range has ${days}).`;
      }
      return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, range: { from, to } };
    }
  }
}

/** A range in words: "25 Oct – 24 Nov 2026". */
export function rangeText(r: DateRange): string {
  const sameYear = r.from.slice(0, 4) === r.to.slice(0, 4);
  if (r.from === r.to) return formatDay(r.to, true);
  return `${formatDay(r.from, !sameYear)} – ${formatDay(r.to, true)}`;
}

// -- Series

/** What a series shows. */
export type SeriesKind = 'licensed' | 'acquired' | 'unmatched' | 'factor' | 'sku';

export interface Series {
  /** Stable key: "licensed", "acquired", "unmatched", "factor:<ruleId or name>", "sku:<partNumber>:<measure>". */
  key: string;
  label: string;
  kind: SeriesKind;
  /** One value per date of ChartData.dates; null where the series has no value (e.g. a factor that did not exist yet). */
  values: (number | null)[];
}

export interface ChartData {
  /** The dates with a point, ascending, unique. */
  dates: string[];
  series: Series[];
}

/** One point of either source: a customer's snapshot or a day across customers. */
interface Point {
  date: string;
  licensed: number;
  unmatched: number;
  /** Factor key → [name, count], in the order the point lists them. */
  factors: Map<string, [string, number]>;
  skus: SnapshotSku[];
}

export interface SeriesOptions {
  /** Adds the lines of this SKU (its part number): users holding it, Graph's prepaid units and the acquired seats. */
  sku?: string;
}

/** Snapshots as points: factors by rule id (stable across renames); the last one of a date wins. */
function fromSnapshots(snaps: readonly Snapshot[]): Point[] {
  return snaps.map((s) => ({
    date: s.date,
    licensed: s.licensed,
    unmatched: s.unmatched,
    factors: new Map((s.factors ?? []).map((f) => [f.ruleId || f.name, [f.name, f.count] as [string, number]])),
    skus: s.skus ?? [],
  }));
}

/** History points as points: factors by name (customers' rules differ; the totals add them up by name). */
function fromHistory(points: readonly HistoryPoint[]): Point[] {
  return points.map((p) => ({
    date: p.date,
    licensed: p.licensed,
    unmatched: p.unmatched,
    factors: new Map(Object.entries(p.factors ?? {}).map(([name, n]) => [name, [name, n] as [string, number]])),
    skus: Object.entries(p.skus ?? {}).map(([pn, k]) => ({ ...k, partNumber: k.partNumber || pn })),
  }));
}

function build(raw: Point[], opts: SeriesOptions): ChartData {
  // Ascending by date; a date listed twice keeps its last point.
  const byDate = new Map<string, Point>();
  for (const p of raw) if (isDate(p.date)) byDate.set(p.date, p);
  const points = [...byDate.values()].sort((a, b) => dateMs(a.date) - dateMs(b.date));
  const dates = points.map((p) => p.date);
  const series: Series[] = [{ key: 'licensed', label: 'Licensed', kind: 'licensed', values: points.map((p) => p.licensed) }];

  const acquired = points.map((p) => p.skus.reduce((n, k) => n + (k.acquired || 0), 0));
  if (acquired.some((n) => n > 0)) series.push({ key: 'acquired', label: 'Acquired', kind: 'acquired', values: acquired });

  // Factors: in the order of the latest point, then those only earlier points have (latest first); labelled by
  // their latest name.
  const order: string[] = [];
  const names = new Map<string, string>();
  for (let i = points.length - 1; i >= 0; i--) {
    for (const [key, [name]] of (points[i] as Point).factors) {
      if (!names.has(key)) {
        names.set(key, name);
        order.push(key);
      }
    }
  }
  for (const key of order) {
    series.push({
      key: `factor:${key}`,
      label: names.get(key) ?? key,
      kind: 'factor',
      values: points.map((p) => p.factors.get(key)?.[1] ?? null),
    });
  }
  series.push({ key: 'unmatched', label: 'Unmatched', kind: 'unmatched', values: points.map((p) => p.unmatched) });

  if (opts.sku) {
    const pn = opts.sku;
    const of = (p: Point): SnapshotSku | undefined => p.skus.find((k) => k.partNumber === pn);
    const label = points.map(of).find((k) => k)?.name || pn;
    const measure = (m: 'assigned' | 'enabled' | 'acquired', text: string, always: boolean): void => {
      const values = points.map((p) => {
        const k = of(p);
        return k ? k[m] : null;
      });
      if (always || values.some((v) => (v ?? 0) > 0)) series.push({ key: `sku:${pn}:${m}`, label: `${label}: ${text}`, kind: 'sku', values });
    };
    measure('assigned', 'assigned', true);
    measure('enabled', 'prepaid', false);
    measure('acquired', 'acquired', false);
  }
  return { dates, series };
}

/** The chart's data from a customer's (or a site's) snapshots. */
export function seriesFromSnapshots(snaps: readonly Snapshot[], opts: SeriesOptions = {}): ChartData {
  return build(fromSnapshots(snaps), opts);
}

/** The chart's data from the history across customers. */
export function seriesFromHistory(points: readonly HistoryPoint[], opts: SeriesOptions = {}): ChartData {
  return build(fromHistory(points), opts);
}

/** The SKUs the points hold, by part number (for the chart's SKU menu), sorted by name. */
export function skuChoices(snaps: ReadonlyArray<{ skus: SnapshotSku[] | Record<string, SnapshotSku> }>): { partNumber: string; name: string }[] {
  const seen = new Map<string, string>();
  for (const s of snaps) {
    const list = Array.isArray(s.skus) ? s.skus : Object.entries(s.skus ?? {}).map(([pn, k]) => ({ ...k, partNumber: k.partNumber || pn }));
    for (const k of list) if (k.partNumber && !seen.has(k.partNumber)) seen.set(k.partNumber, k.name || k.partNumber);
  }
  return [...seen.entries()].map(([partNumber, name]) => ({ partNumber, name })).sort((a, b) => a.name.localeCompare(b.name));
}
