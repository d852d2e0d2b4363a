import { describe, expect, it } from 'vitest';
import { actionLabel, changeLines, licencesText, outcomeLabel, valueText, type Names } from './audit';

const names: Names = {
  sku: new Map([['sku-spb', 'Microsoft 365 Business Premium'], ['sku-ev', 'Teams Phone']]),
  plan: new Map([['p-book', 'Microsoft Bookings']]),
};

describe('audit wording', () => {
  it('labels actions, known or not', () => {
    expect(actionLabel('licence.assign')).toBe('Assign licence');
    expect(actionLabel('licence.reassign.restore')).toBe('Reassign: give back to old holder');
    expect(actionLabel('licence.bulk.thing')).toBe('Licence bulk thing');
    expect(actionLabel('customer.syncInterval')).toBe('Customer sync interval');
    expect(actionLabel('')).toBe('—');
    expect(outcomeLabel('ok')).toBe('OK');
    expect(outcomeLabel('failed')).toBe('Failed');
  });
  it('words a licence change: what was asked, and the licences before → after', () => {
    const before = { licences: [{ skuId: 'sku-ev', name: 'Teams Phone', direct: false, groups: ['g'], disabledPlans: [] }] };
    const after = {
      requested: { add: [{ skuId: 'sku-spb', name: 'Business Premium', direct: true, disabledPlans: ['p-book'] }] },
      licences: [
        { skuId: 'sku-ev', name: 'Teams Phone', direct: false, disabledPlans: [] },
        { skuId: 'sku-spb', name: 'Business Premium', direct: true, disabledPlans: ['p-book'] },
      ],
    };
    expect(changeLines(before, after, names)).toEqual([
      { label: 'asked', before: '', after: '', text: 'add Microsoft 365 Business Premium (off: Microsoft Bookings)' },
      { label: 'added', before: '', after: '', text: 'Microsoft 365 Business Premium (off: Microsoft Bookings)' },
    ]);
  });
  it('says a refused change changed nothing, and falls back on the recorded names', () => {
    const lines = changeLines({ licences: [] }, { requested: { remove: [{ skuId: 'sku-x', name: 'Visio', disabledPlans: [] }] } });
    expect(lines).toEqual([
      { label: 'asked', before: '', after: '', text: 'remove Visio' },
      { label: 'licences', before: '', after: '', text: 'not changed' },
    ]);
  });
  it('words licences removed, changed and unchanged', () => {
    const spb = (off: string[]) => ({ skuId: 'sku-spb', name: 'SPB', direct: true, disabledPlans: off });
    const ev = { skuId: 'sku-ev', name: 'Teams Phone', direct: true, disabledPlans: [] };
    expect(changeLines({ licences: [spb([]), ev] }, { requested: {}, licences: [spb(['p-book'])] }, names)).toEqual([
      { label: 'changed', before: 'Microsoft 365 Business Premium', after: 'Microsoft 365 Business Premium (off: Microsoft Bookings)' },
      { label: 'removed', before: '', after: '', text: 'Teams Phone' },
    ]);
    expect(changeLines({ licences: [ev] }, { requested: {}, licences: [ev] }, names)).toEqual([{ label: 'licences', before: '', after: '', text: 'unchanged' }]);
  });
  it('words a template assignment: the template, what was asked, the licences that changed', () => {
    const after = {
      licences: [{ skuId: 'sku-ev', direct: true, disabledPlans: [], state: 'Active', error: 'None' }],
      change: { add: [{ skuId: 'sku-ev' }], remove: ['sku-spb'] },
      source: { name: 'Front desk', templateId: 't1', version: 2 },
    };
    expect(changeLines({ licences: [{ skuId: 'sku-spb', direct: true, disabledPlans: [] }] }, after, names)).toEqual([
      { label: 'from', before: '', after: '', text: 'template Front desk' },
      { label: 'asked', before: '', after: '', text: 'add Teams Phone; remove Microsoft 365 Business Premium' },
      { label: 'added', before: '', after: '', text: 'Teams Phone' },
      { label: 'removed', before: '', after: '', text: 'Microsoft 365 Business Premium' },
    ]);
    expect(changeLines({ licences: [] }, { licences: [{ skuId: 'sku-ev', direct: true, disabledPlans: [] }] }, names)).toEqual([
      { label: 'added', before: '', after: '', text: 'Teams Phone' },
    ]);
  });
  it('words a template edit: the fields that changed, and its licences as a difference', () => {
    const t = { id: 't1', customerId: 'c1', name: 'Front desk', description: 'a', version: 1, updatedAt: 'x', licences: [{ skuId: 'sku-spb', name: 'SPB', disabledPlans: [] }] };
    const u = { ...t, description: 'b', version: 2, updatedAt: 'y', licences: [{ skuId: 'sku-spb', name: 'SPB', disabledPlans: ['p-book'] }] };
    expect(changeLines(t, u, names)).toEqual([
      { label: 'description', before: 'a', after: 'b' },
      { label: 'changed', before: 'Microsoft 365 Business Premium', after: 'Microsoft 365 Business Premium (off: Microsoft Bookings)' },
      { label: 'version', before: '1', after: '2' },
    ]);
    expect(changeLines(undefined, t, names)).toEqual([{ label: '', before: '—', after: 'name: Front desk; description: a; licences: Microsoft 365 Business Premium' }]);
  });
  it('lists the fields of other objects that changed', () => {
    expect(changeLines({ name: 'A', version: 1, updatedAt: 'x' }, { name: 'B', version: 2, updatedAt: 'y' })).toEqual([
      { label: 'name', before: 'A', after: 'B' },
      { label: 'version', before: '1', after: '2' },
    ]);
    expect(changeLines({ syncIntervalMinutes: 15 }, { syncIntervalMinutes: 60 })).toEqual([{ label: 'syncIntervalMinutes', before: '15', after: '60' }]);
  });
  it('words a created or deleted thing with one side empty', () => {
    expect(changeLines(undefined, { name: 'T', licences: [{ skuId: 'sku-spb' }] }, names)).toEqual([
      { label: '', before: '—', after: 'name: T; licences: Microsoft 365 Business Premium' },
    ]);
    expect(changeLines(null, undefined)).toEqual([]);
  });
  it('words values', () => {
    expect(valueText('', names)).toBe('""');
    expect(valueText([1, 2], names)).toBe('[1,2]');
    expect(licencesText([], names)).toBe('none');
  });
});
