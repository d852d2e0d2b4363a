// Pure helpers of the sync panel and the sync history: interval choices, durations, labels.

/** The sync intervals offered, in minutes (the API accepts 15..1440). */
export const SYNC_INTERVALS: readonly number[] = [15, 30, 60, 240, 1440];
export const MIN_SYNC_INTERVAL = 15;
export const MAX_SYNC_INTERVAL = 1440;

/** `15 min`, `1 h`, `1 h 30 min`, `24 h`. */
export function intervalLabel(minutes: number): string {
  if (!Number.isFinite(minutes) || minutes <= 0) return '—';
  const m = Math.round(minutes);
  const hours = Math.floor(m / 60);
  const rest = m % 60;
  if (hours === 0) return `${rest} min`;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** The options of the interval select: the standard ones, plus the current value when it is not one of them. */
export function intervalOptions(current: number | null | undefined): { value: number; label: string }[] {
  const values = [...SYNC_INTERVALS];
  if (typeof current === 'number' && Number.isInteger(current) && current > 0 && !values.includes(current)) {
    values.push(current);
    values.sort((a, b) => a - b);
  }
  return values.map((value) => ({ value, label: intervalLabel(value) }));
}

/** Whether a value may be sent as syncIntervalMinutes. */
export function validInterval(minutes: number): boolean {
  return Number.isInteger(minutes) && minutes >= MIN_SYNC_INTERVAL && minutes <= MAX_SYNC_INTERVAL;
}

/** A duration: `850 ms`, `2.5 s`, `42 s`, `2 min 5 s`, `1 h 3 min`; `—` when unknown or negative. */
export function formatDuration(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? (Math.floor(s * 10) / 10).toFixed(1) : Math.floor(s)} s`;
  const total = Math.floor(s);
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes} min ${total % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** `Full`, `Delta`, or `—` before the first run. */
export function modeLabel(mode: string | null | undefined): string {
  if (mode === 'full') return 'Full';
  if (mode === 'delta') return 'Delta';
  return mode ? mode : '—';
}

/** Who started a run: `Schedule`, or the subject of the person who pressed "Sync now". */
export function triggerLabel(trigger: string | null | undefined): string {
  if (!trigger) return '—';
  return trigger === 'schedule' ? 'Schedule' : trigger;
}
