import { describe, expect, it } from 'vitest';
import {
  addNumbersInput,
  canAssign,
  addResultText,
  e164Problem,
  EMPTY_ADD_DRAFT,
  extensionOf,
  importResultText,
  isE164,
  isFree,
  MAX_RANGE,
  normaliseNumber,
  numberStatusLabel,
  numberStatusText,
  numberTypeLabel,
  rangeSize,
  releaseText,
  validateAddNumbers,
} from './numbers';

describe('E.164', () => {
  it.each([
    ['+441632960001', true],
    ['+12025550100', true],
    ['+12345678', true], // 8 digits
    ['+123456789012345', true], // 15 digits
    ['+1234567', false], // 7
    ['+1234567890123456', false], // 16
    ['+0441632960001', false],
    ['441632960001', false],
    ['+44 1632 960001', false], // not normalised
    ['', false],
  ])('%j → %s', (s, want) => {
    expect(isE164(s)).toBe(want);
  });

  it('normalises what people type', () => {
    expect(normaliseNumber(' +44 (0)1632-960.001 ')).toBe('+4401632960001');
    expect(normaliseNumber('+1 202/555 0100')).toBe('+12025550100');
  });

  it('says why a number is not E.164', () => {
    expect(e164Problem('+44 1632 960001')).toBe('');
    expect(e164Problem('  ')).toMatch(/Enter a number/);
    expect(e164Problem('01632960001')).toMatch(/Start with \+/);
    expect(e164Problem('+44a1632')).toMatch(/digits only/);
    expect(e164Problem('+044163296')).toMatch(/cannot start with 0/);
    expect(e164Problem('+4416')).toMatch(/Too short/);
    expect(e164Problem('+4416329600011234')).toMatch(/Too long/);
  });
});

describe('rangeSize', () => {
  it('counts both ends', () => {
    expect(rangeSize('+441632960000', '+441632960009')).toEqual({ ok: true, count: 10 });
    expect(rangeSize('+441632960000', '+441632960000')).toEqual({ ok: true, count: 1 });
    expect(rangeSize('+44 1632 960 090', '+44 1632 960 109')).toEqual({ ok: true, count: 20 });
  });
  it('is exact for 15 digits', () => {
    expect(rangeSize('+999999999999000', '+999999999999999')).toEqual({ ok: true, count: 1000 });
  });
  it('refuses bad ends, different lengths, backwards and oversized ranges', () => {
    expect(rangeSize('nope', '+441632960009')).toMatchObject({ ok: false, field: 'from' });
    expect(rangeSize('+441632960000', '')).toMatchObject({ ok: false, field: 'to' });
    expect(rangeSize('+441632960000', '+4416329600009')).toMatchObject({ ok: false, field: 'to', message: expect.stringMatching(/as many digits/) });
    expect(rangeSize('+441632960009', '+441632960000')).toMatchObject({ ok: false, field: 'to', message: expect.stringMatching(/before the first/) });
    const big = rangeSize('+441632960000', '+441632961000');
    expect(big).toEqual({ ok: false, field: 'to', message: `That is 1001 numbers; a range holds at most ${MAX_RANGE}.` });
  });
});

describe('extensions', () => {
  it('takes the last digits', () => {
    expect(extensionOf('+441632960123', 3)).toBe('123');
    expect(extensionOf('+44 1632 960123', 4)).toBe('0123');
    expect(extensionOf('+441632960123', 0)).toBe('');
    expect(extensionOf('+441632960123', 1.5)).toBe('');
  });
});

describe('the add-numbers form', () => {
  it('checks a single number', () => {
    expect(validateAddNumbers({ ...EMPTY_ADD_DRAFT, number: '+441632960001', siteId: 's1' })).toEqual({});
    expect(validateAddNumbers({ ...EMPTY_ADD_DRAFT, number: '+441632960001' })).toEqual({ siteId: 'Choose the site the numbers belong to.' });
    expect(validateAddNumbers({ ...EMPTY_ADD_DRAFT, number: 'x', extension: '12a', siteId: 's1' })).toEqual({
      number: expect.any(String),
      extension: 'An extension is 1 to 8 digits.',
    });
    expect(validateAddNumbers({ ...EMPTY_ADD_DRAFT, number: '+441632960001', extension: '123456789', siteId: 's1' })).toHaveProperty('extension');
  });
  it('checks a range, the type and the extension digits', () => {
    const d = { ...EMPTY_ADD_DRAFT, mode: 'range' as const, from: '+441632960000', to: '+441632960009', siteId: 's1' };
    expect(validateAddNumbers(d)).toEqual({});
    expect(validateAddNumbers({ ...d, to: '+441632950000' })).toEqual({ to: expect.stringMatching(/before/) });
    expect(validateAddNumbers({ ...d, type: '' })).toEqual({ type: 'Choose the type of the numbers.' });
    expect(validateAddNumbers({ ...d, extensionDigits: 9 })).toEqual({ extensionDigits: 'Between 0 and 8 digits.' });
  });
  it('builds the request body', () => {
    expect(addNumbersInput({ ...EMPTY_ADD_DRAFT, number: ' +44 1632 960001', extension: ' 001 ', siteId: 's1' })).toEqual({
      type: 'directRouting', siteId: 's1', number: '+441632960001', extension: '001',
    });
    expect(addNumbersInput({ ...EMPTY_ADD_DRAFT, number: '+441632960001', extensionDigits: 3 })).toEqual({
      type: 'directRouting', siteId: '', number: '+441632960001', extensionDigits: 3,
    });
    expect(addNumbersInput({ ...EMPTY_ADD_DRAFT, mode: 'range', from: '+44 1632 960000', to: '+441632960009', type: 'callingPlan', extensionDigits: 4 })).toEqual({
      type: 'callingPlan', siteId: '', from: '+441632960000', to: '+441632960009', extensionDigits: 4,
    });
    expect(addNumbersInput({ ...EMPTY_ADD_DRAFT, mode: 'range', from: '+441632960000', to: '+441632960001' })).not.toHaveProperty('extensionDigits');
  });
});

describe('labels and words', () => {
  it('names types and statuses', () => {
    expect(numberTypeLabel('directRouting')).toBe('Direct Routing');
    expect(numberTypeLabel('')).toBe('Any type');
    expect(numberTypeLabel('weird')).toBe('weird');
    expect(numberStatusLabel('quarantined')).toBe('Quarantined');
    expect(numberStatusLabel(undefined)).toBe('—');
    expect(isFree({ status: 'available' })).toBe(true);
    expect(isFree({ status: 'quarantined' })).toBe(true);
    expect(isFree({ status: 'assigned' })).toBe(false);
    const now = new Date('2025-03-01T12:00:00Z');
    expect(canAssign({ status: 'available' }, now)).toBe(true);
    expect(canAssign({ status: 'quarantined', quarantinedUntil: '2025-03-02T00:00:00Z' }, now)).toBe(false);
    expect(canAssign({ status: 'quarantined', quarantinedUntil: '2025-02-28T00:00:00Z' }, now)).toBe(true);
    expect(canAssign({ status: 'reserved' }, now)).toBe(false);
  });
  it('says what a status means now', () => {
    const now = new Date('2025-03-01T12:00:00Z');
    expect(numberStatusText({ status: 'assigned', userName: 'Ann', userId: 'u1' }, now)).toBe('Assigned to Ann');
    expect(numberStatusText({ status: 'reserved', userName: '', userId: 'u1' }, now)).toBe('Reserved for u1');
    expect(numberStatusText({ status: 'quarantined', userName: '', userId: '', quarantinedUntil: '2025-03-10T08:00:00Z' }, now)).toBe('Quarantined until 2025-03-10 08:00 UTC');
    expect(numberStatusText({ status: 'quarantined', userName: '', userId: '', quarantinedUntil: '2025-02-10T08:00:00Z' }, now)).toBe('Quarantine over: free again');
    expect(numberStatusText({ status: 'available', userName: '', userId: '' }, now)).toBe('Available');
  });
  it('words results', () => {
    expect(addResultText(['a', 'b'], [])).toBe('Added 2 numbers.');
    expect(addResultText(['a'], ['b', 'c'])).toBe('Added 1 number; 2 numbers were in the inventory already (left unchanged).');
    expect(addResultText(null, ['b'])).toBe('Added no number; 1 number was in the inventory already (left unchanged).');
    expect(importResultText({ read: 30, created: 20, updated: 5, skipped: 5, conflicts: ['+1'] })).toBe('Read 30 from Teams, 20 new, 5 updated, 5 skipped, 1 in conflict.');
    expect(importResultText({ read: 0, created: 0, updated: 0, skipped: 0, conflicts: null })).toBe('Read 0 from Teams, 0 new, 0 updated, 0 skipped.');
    expect(importResultText({ read: 3, created: 1, updated: 0, unchanged: 2, skipped: 0, conflicts: [] })).toBe('Read 3 from Teams, 1 new, 0 updated, 2 unchanged, 0 skipped.');
  });
  it('says what releasing does, with the quarantine', () => {
    expect(releaseText({ number: '+1', userName: 'Ann', userId: 'u' }, 30)).toBe('+1 is taken from Ann in Teams. It then waits in quarantine for 30 days before it can be assigned again.');
    expect(releaseText({ number: '+1', userName: '', userId: '' }, 0)).toMatch(/its user.*assigned again at once/);
    expect(releaseText({ number: '+1', userName: '', userId: 'u' }, null)).toMatch(/quarantine period/);
  });
});
