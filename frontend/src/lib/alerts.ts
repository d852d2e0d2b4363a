// Pure helpers of the dashboard's alerts: labels of the kinds, their order (most urgent first), the counts by kind,
// and the link of an alert, which must be one of the SPA's own routes.

import type { Alert, AlertKind } from '../api/usage';

/** The alert kinds, most urgent first, with labels. */
export const ALERT_KINDS: ReadonlyArray<{ value: AlertKind; label: string; level: 'error' | 'warn' }> = [
  { value: 'overused', label: 'Overused', level: 'error' },
  { value: 'licence_errors', label: 'Licence errors', level: 'error' },
  { value: 'staging_failed', label: 'Staging failures', level: 'error' },
  { value: 'unused', label: 'Unused seats', level: 'warn' },
];

export function alertLabel(kind: string): string {
  return ALERT_KINDS.find((k) => k.value === kind)?.label ?? kind;
}

export function alertLevel(kind: string): 'error' | 'warn' {
  return ALERT_KINDS.find((k) => k.value === kind)?.level ?? 'warn';
}

const rank = (kind: string): number => {
  const i = ALERT_KINDS.findIndex((k) => k.value === kind);
  return i < 0 ? ALERT_KINDS.length : i;
};

/** Alerts by kind (most urgent first), then customer name, then the larger count first. */
export function sortAlerts(alerts: readonly Alert[]): Alert[] {
  return [...alerts].sort(
    (a, b) =>
      rank(a.kind) - rank(b.kind) ||
      (a.customerName || a.customerId).localeCompare(b.customerName || b.customerId) ||
      b.count - a.count ||
      a.message.localeCompare(b.message),
  );
}

/** How many alerts of each kind (every kind listed, in order, zeros included). */
export function alertCounts(alerts: readonly Alert[]): { kind: AlertKind; label: string; count: number }[] {
  return ALERT_KINDS.map((k) => ({ kind: k.value, label: k.label, count: alerts.filter((a) => a.kind === k.value).length }));
}

/** An alert's link when it is an SPA route ("#/…"), else the customer's page; never another scheme or origin. */
export function alertHref(a: Pick<Alert, 'link' | 'customerId'>): string {
  const link = (a.link ?? '').trim();
  if (/^#\/[^\s]*$/.test(link)) return link;
  return `#/customers/${encodeURIComponent(a.customerId)}`;
}

/** What the link of an alert opens, in words. */
export function alertLinkText(kind: string): string {
  switch (kind) {
    case 'unused':
    case 'overused':
      return 'Open licences';
    case 'licence_errors':
      return 'Open users in error';
    case 'staging_failed':
      return 'Open staging';
    default:
      return 'Open';
  }
}
