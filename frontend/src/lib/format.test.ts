import { describe, expect, it } from 'vitest';
import { formatCount, formatDateTime, formatRelative, parseTime, utilisation } from './format';

describe('utilisation', () => {
  it('computes the share used', () => {
    expect(utilisation(20, 25)).toEqual({ percent: 80, width: 80, cls: 'util-ok', text: '80%', label: 'Utilisation 80%' });
  });
  it('marks nearly full and full as high', () => {
    expect(utilisation(9, 10).cls).toBe('util-high');
    expect(utilisation(10, 10)).toMatchObject({ percent: 100, width: 100, cls: 'util-high', label: 'Utilisation 100%' });
  });
  it('styles over 100% as overused and caps only the bar', () => {
    expect(utilisation(12, 10)).toMatchObject({ percent: 120, width: 100, cls: 'util-over', text: '120%', label: 'Utilisation 120%' });
  });
  it('is overused even when rounding says 100%', () => {
    expect(utilisation(1001, 1000)).toMatchObject({ percent: 100, cls: 'util-over' });
  });
  it('handles no active seats', () => {
    expect(utilisation(0, 0)).toMatchObject({ percent: 0, width: 0, cls: 'util-none', label: 'Utilisation 0%' });
    expect(utilisation(3, 0)).toMatchObject({ percent: null, width: 100, cls: 'util-over', text: 'n/a' });
    expect(utilisation(3, 0).label).toMatch(/^Utilisation over 100%/);
  });
  it('rounds and tolerates bad input', () => {
    expect(utilisation(1, 3).percent).toBe(33);
    expect(utilisation(2, 3).percent).toBe(67);
    expect(utilisation(Number.NaN, 5).percent).toBe(0);
    expect(utilisation(-2, 5).percent).toBe(0);
  });
});

describe('dates', () => {
  it('formats RFC 3339 timestamps in UTC', () => {
    expect(formatDateTime('2026-07-01T14:03:09Z')).toBe('2026-07-01 14:03 UTC');
    expect(formatDateTime('2026-07-01T16:03:09.123+02:00')).toBe('2026-07-01 14:03 UTC');
  });
  it('shows a dash when there is no time', () => {
    expect(formatDateTime(undefined)).toBe('—');
    expect(formatDateTime(null)).toBe('—');
    expect(formatDateTime('')).toBe('—');
    expect(formatDateTime('garbage')).toBe('—');
    expect(formatDateTime('0001-01-01T00:00:00Z')).toBe('—');
    expect(parseTime('0001-01-01T00:00:00Z')).toBeNull();
  });
  it('says how long ago', () => {
    const now = new Date('2026-07-01T12:00:00Z');
    expect(formatRelative('2026-07-01T11:59:50Z', now)).toBe('just now');
    expect(formatRelative('2026-07-01T11:55:00Z', now)).toBe('5 min ago');
    expect(formatRelative('2026-07-01T09:00:00Z', now)).toBe('3 h ago');
    expect(formatRelative('2026-06-28T12:00:00Z', now)).toBe('3 days ago');
    expect(formatRelative('2026-07-02T12:00:00Z', now)).toBe('in the future');
    expect(formatRelative('', now)).toBe('');
  });
});

describe('formatCount', () => {
  it('groups thousands and keeps negatives', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(25)).toBe('25');
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(-3)).toBe('−3');
    expect(formatCount(-1200)).toBe('−1,200');
  });
});
