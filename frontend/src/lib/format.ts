// Pure formatting helpers shared by the views.

const pad = (n: number): string => String(n).padStart(2, '0');

/** Parses an API timestamp; null when absent, empty, unparsable or Go's zero time. */
export function parseTime(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  const t = d.getTime();
  if (Number.isNaN(t)) return null;
  if (d.getUTCFullYear() <= 1) return null; // 0001-01-01T00:00:00Z: never
  return d;
}

/** Formats a timestamp as `YYYY-MM-DD HH:MM UTC`, or `—` when there is none. */
export function formatDateTime(iso: string | null | undefined): string {
  const d = parseTime(iso);
  if (!d) return '—';
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`
  );
}

/** Says how long ago a timestamp was (`just now`, `5 min ago`, `3 h ago`, `2 days ago`), or `` when none. */
export function formatRelative(iso: string | null | undefined, now: Date = new Date()): string {
  const d = parseTime(iso);
  if (!d) return '';
  const s = Math.round((now.getTime() - d.getTime()) / 1000);
  if (s < 0) return 'in the future';
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  const days = Math.round(h / 24);
  return `${days} days ago`;
}

/** Formats an integer count with thousands separators (en-US style, stable across locales). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const sign = n < 0 ? '−' : '';
  const digits = String(Math.trunc(Math.abs(n)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** How a utilisation bar looks. */
export type UtilisationClass = 'util-ok' | 'util-high' | 'util-over' | 'util-none';

export interface Utilisation {
  /** Rounded percentage used/active; null when nothing is active but seats are used. */
  percent: number | null;
  /** Width of the bar fill, 0–100 (the bar is capped; the text never is). */
  width: number;
  cls: UtilisationClass;
  /** Text for the bar, e.g. `80%`, `120%`, `n/a`. */
  text: string;
  /** Accessible label, e.g. `Utilisation 80%`. */
  label: string;
}

/** Utilisation share at or above which the bar is styled as nearly full. */
export const HIGH_UTILISATION = 90;

/**
 * Computes the utilisation (used / active) of a SKU. Over 100% is styled as overused;
 * with no active seats it is 0% when none are used and overused (percent null) otherwise.
 */
export function utilisation(used: number, active: number): Utilisation {
  const u = Math.max(0, Number.isFinite(used) ? used : 0);
  const a = Math.max(0, Number.isFinite(active) ? active : 0);
  if (a === 0) {
    if (u === 0) return { percent: 0, width: 0, cls: 'util-none', text: '0%', label: 'Utilisation 0%' };
    return {
      percent: null,
      width: 100,
      cls: 'util-over',
      text: 'n/a',
      label: `Utilisation over 100% (${u} used, none active)`,
    };
  }
  const exact = (u / a) * 100;
  const percent = Math.round(exact);
  const cls: UtilisationClass = u > a ? 'util-over' : exact >= HIGH_UTILISATION ? 'util-high' : 'util-ok';
  return {
    percent,
    width: Math.min(100, exact),
    cls,
    text: `${percent}%`,
    label: `Utilisation ${percent}%`,
  };
}
