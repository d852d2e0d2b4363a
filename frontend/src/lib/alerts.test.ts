import { describe, expect, it } from 'vitest';
import type { Alert } from '../api/usage';
import { alertCounts, alertHref, alertLabel, alertLevel, alertLinkText, sortAlerts } from './alerts';

const alert = (kind: Alert['kind'], customerName: string, count = 1, link = `#/customers/${customerName}/licences`): Alert => ({
  customerId: customerName.toLowerCase(),
  customerName,
  kind,
  count,
  message: `${kind} ${count}`,
  link,
});

describe('alerts', () => {
  it('sort by urgency, then customer, then the larger count', () => {
    const sorted = sortAlerts([alert('unused', 'A', 5), alert('staging_failed', 'B'), alert('overused', 'B', 2), alert('overused', 'A', 1), alert('overused', 'A', 3), alert('licence_errors', 'A')]);
    expect(sorted.map((a) => `${a.kind}/${a.customerName}/${a.count}`)).toEqual([
      'overused/A/3',
      'overused/A/1',
      'overused/B/2',
      'licence_errors/A/1',
      'staging_failed/B/1',
      'unused/A/5',
    ]);
  });
  it('count by kind, every kind listed', () => {
    expect(alertCounts([alert('unused', 'A'), alert('unused', 'B'), alert('overused', 'A')])).toEqual([
      { kind: 'overused', label: 'Overused', count: 1 },
      { kind: 'licence_errors', label: 'Licence errors', count: 0 },
      { kind: 'staging_failed', label: 'Staging failures', count: 0 },
      { kind: 'unused', label: 'Unused seats', count: 2 },
    ]);
  });
  it('label and level kinds', () => {
    expect(alertLabel('unused')).toBe('Unused seats');
    expect(alertLabel('other')).toBe('other');
    expect(alertLevel('overused')).toBe('error');
    expect(alertLevel('unused')).toBe('warn');
    expect(alertLinkText('licence_errors')).toBe('Open users in error');
    expect(alertLinkText('staging_failed')).toBe('Open staging');
  });
  it('link only to SPA routes', () => {
    expect(alertHref({ link: '#/customers/c1/users?filter=errors', customerId: 'c1' })).toBe('#/customers/c1/users?filter=errors');
    expect(alertHref({ link: 'javascript:alert(1)', customerId: 'c 1' })).toBe('#/customers/c%201');
    expect(alertHref({ link: 'https://evil.example/#/x', customerId: 'c1' })).toBe('#/customers/c1');
    expect(alertHref({ link: '', customerId: 'c1' })).toBe('#/customers/c1');
  });
});
