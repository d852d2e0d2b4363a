import { describe, expect, it } from 'vitest';
import { formatDuration, intervalLabel, intervalOptions, modeLabel, SYNC_INTERVALS, triggerLabel, validInterval } from './sync';

describe('sync interval', () => {
  it('labels minutes as minutes and hours', () => {
    expect(intervalLabel(15)).toBe('15 min');
    expect(intervalLabel(30)).toBe('30 min');
    expect(intervalLabel(60)).toBe('1 h');
    expect(intervalLabel(90)).toBe('1 h 30 min');
    expect(intervalLabel(240)).toBe('4 h');
    expect(intervalLabel(1440)).toBe('24 h');
    expect(intervalLabel(0)).toBe('—');
    expect(intervalLabel(Number.NaN)).toBe('—');
  });

  it('offers 15 min, 30 min, 1 h, 4 h and 24 h', () => {
    expect(SYNC_INTERVALS).toEqual([15, 30, 60, 240, 1440]);
    expect(intervalOptions(60)).toEqual([
      { value: 15, label: '15 min' },
      { value: 30, label: '30 min' },
      { value: 60, label: '1 h' },
      { value: 240, label: '4 h' },
      { value: 1440, label: '24 h' },
    ]);
    expect(intervalOptions(undefined).map((o) => o.value)).toEqual([15, 30, 60, 240, 1440]);
  });

  it('keeps a current value that is not a standard one, in order', () => {
    expect(intervalOptions(120).map((o) => o.label)).toEqual(['15 min', '30 min', '1 h', '2 h', '4 h', '24 h']);
    expect(intervalOptions(45.5).map((o) => o.value)).toEqual([15, 30, 60, 240, 1440]);
    expect(intervalOptions(-5).map((o) => o.value)).toEqual([15, 30, 60, 240, 1440]);
  });

  it('validates the API range', () => {
    expect(validInterval(15)).toBe(true);
    expect(validInterval(1440)).toBe(true);
    expect(validInterval(14)).toBe(false);
    expect(validInterval(1441)).toBe(false);
    expect(validInterval(20.5)).toBe(false);
    expect(validInterval(Number.NaN)).toBe(false);
  });
});

describe('formatDuration', () => {
  it('picks a unit by size', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(2549)).toBe('2.5 s');
    expect(formatDuration(42_900)).toBe('42 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(3_780_000)).toBe('1 h 3 min');
  });
  it('says — when unknown', () => {
    expect(formatDuration(undefined)).toBe('—');
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('—');
  });
});

describe('labels', () => {
  it('names modes and triggers', () => {
    expect(modeLabel('full')).toBe('Full');
    expect(modeLabel('delta')).toBe('Delta');
    expect(modeLabel(undefined)).toBe('—');
    expect(modeLabel('')).toBe('—');
    expect(triggerLabel('schedule')).toBe('Schedule');
    expect(triggerLabel('local|e2e-admin')).toBe('local|e2e-admin');
    expect(triggerLabel('')).toBe('—');
  });
});
