import { describe, expect, it } from 'vitest';
import type { CurrentUsage, FactorRule, Usage } from '../api/usage';
import {
  acquiredOf,
  addRule,
  addRuleCriterion,
  availableSeats,
  changeRule,
  changeRuleCriterion,
  compareUsage,
  countRows,
  criterionErrors,
  errorPlace,
  FACTOR_FIELDS,
  formatDelta,
  formErrors,
  isStale,
  move,
  poolDraft,
  poolInput,
  removeRule,
  removeRuleCriterion,
  ruleErrors,
  rulesChanged,
  rulesDraft,
  rulesInput,
  ruleText,
  siteTable,
  sortSkus,
  validatePool,
  validateRules,
} from './usage';

const defaults: FactorRule[] = [
  { id: 'direct-routing', name: 'Managed Users – Direct Routing', enabled: true, managedBy: '', criteria: [{ field: 'accountType', pattern: 'user' }, { field: 'numberType', pattern: 'directRouting' }] },
  { id: 'by-template', name: 'Managed Users – By Template', enabled: true, managedBy: 'template', criteria: [{ field: 'accountType', pattern: 'user' }] },
  { id: 'service-numbers', name: 'Managed Service Numbers', enabled: false, managedBy: '', criteria: [{ field: 'accountType', pattern: 'resourceAccount' }] },
];

const usage = (licensed: number, unmatched: number, factors: [string, string, number, boolean?][]): Usage => ({
  licensed,
  unmatched,
  factors: factors.map(([ruleId, name, count, enabled]) => ({ ruleId, name, count, enabled: enabled ?? true })),
  bySku: {},
});

describe('the rules draft', () => {
  it('round-trips the saved rules unchanged', () => {
    const d = rulesDraft(defaults);
    expect(rulesInput(d)).toEqual(defaults);
    expect(rulesChanged(d, defaults)).toBe(false);
    expect(new Set(d.map((r) => r.key)).size).toBe(3);
  });
  it('adds a rule with a unique name and one empty criterion; a new rule has no id', () => {
    let d = addRule(rulesDraft(defaults));
    d = addRule(d, 0);
    expect(d.map((r) => r.name)).toEqual(['New rule 2', ...defaults.map((r) => r.name), 'New rule']);
    expect(rulesInput(d)[0]).toEqual({ name: 'New rule 2', enabled: true, managedBy: '', criteria: [{ field: 'department', pattern: '' }] });
    expect(rulesChanged(d, defaults)).toBe(true);
  });
  it('moves, removes and changes rules and criteria', () => {
    let d = rulesDraft(defaults);
    d = move(d, 2, -1);
    expect(d.map((r) => r.id)).toEqual(['direct-routing', 'service-numbers', 'by-template']);
    expect(move(d, 0, -1).map((r) => r.id)).toEqual(d.map((r) => r.id));
    expect(move(d, 2, 1).map((r) => r.id)).toEqual(d.map((r) => r.id));
    d = removeRule(d, 1);
    expect(d.map((r) => r.id)).toEqual(['direct-routing', 'by-template']);
    d = changeRule(d, 1, { name: ' Templated ', enabled: false, managedBy: 'ui' });
    d = addRuleCriterion(d, 1);
    d = changeRuleCriterion(d, 1, 1, { pattern: 'Sales|Support' });
    d = removeRuleCriterion(d, 0, 0);
    expect(rulesInput(d)).toEqual([
      { id: 'direct-routing', name: 'Managed Users – Direct Routing', enabled: true, managedBy: '', criteria: [{ field: 'numberType', pattern: 'directRouting' }] },
      { id: 'by-template', name: 'Templated', enabled: false, managedBy: 'ui', criteria: [{ field: 'accountType', pattern: 'user' }, { field: 'accountType', pattern: 'Sales|Support' }] },
    ]);
    expect(rulesChanged(d, defaults)).toBe(true);
  });
  it('notices a changed pattern or order only', () => {
    expect(rulesChanged(changeRuleCriterion(rulesDraft(defaults), 0, 1, { pattern: 'operatorConnect' }), defaults)).toBe(true);
    expect(rulesChanged(move(rulesDraft(defaults), 0, 1), defaults)).toBe(true);
  });
  it('checks names, not patterns (the server checks those as Go regular expressions)', () => {
    let d = rulesDraft(defaults);
    d = changeRule(d, 1, { name: '  ' });
    d = changeRule(d, 2, { name: 'managed users – direct routing' });
    d = changeRuleCriterion(d, 0, 0, { pattern: '([' });
    expect(validateRules(d)).toEqual({ 'rules[1].name': 'Name is required.', 'rules[2].name': 'Rule 1 has this name already.' });
    expect(validateRules(changeRuleCriterion(rulesDraft(defaults), 0, 0, { pattern: 'x'.repeat(501) }))).toEqual({ 'rules[0].criteria[0].pattern': 'At most 500 characters.' });
  });
  it('offers every criterion field of the domain', () => {
    expect(FACTOR_FIELDS.map((f) => f.value)).toEqual([
      'userPrincipalName', 'displayName', 'mail', 'department', 'city', 'office', 'usageLocation', 'country', 'sku', 'group',
      'numberType', 'number', 'extension', 'site', 'accountType', 'accountEnabled',
    ]);
  });
});

describe('server field errors', () => {
  const errs = {
    'rules[1].criteria[0].pattern': 'error parsing regexp: missing closing ): `([`',
    'rules[1].criteria[2].field': 'unknown field "x"',
    'rules[1].criteria[2].pattern': 'bad',
    'rules[0].name': '"A" is also the name of rules[2]',
    'rules[3]': 'odd',
    rules: 'at most 50 rules',
    version: 'required',
  };
  it('are placed at their rule and criterion', () => {
    expect(errorPlace('rules[1].criteria[0].pattern')).toEqual({ at: 'criterion', rule: 1, criterion: 0, field: 'pattern' });
    expect(errorPlace('rules[12].name')).toEqual({ at: 'rule', rule: 12, field: 'name' });
    expect(errorPlace('rules[2].criteria')).toEqual({ at: 'rule', rule: 2, field: 'criteria' });
    expect(errorPlace('rules')).toEqual({ at: 'form', field: 'rules' });
    expect(errorPlace('rules[x].name')).toEqual({ at: 'form', field: 'rules[x].name' });
    expect(criterionErrors(errs, 1, 0)).toEqual({ field: '', pattern: 'error parsing regexp: missing closing ): `([`', message: 'error parsing regexp: missing closing ): `([`' });
    expect(criterionErrors(errs, 1, 2)).toEqual({ field: 'unknown field "x"', pattern: 'bad', message: 'Field: unknown field "x" bad' });
    expect(criterionErrors(errs, 0, 0)).toEqual({ field: '', pattern: '', message: '' });
    expect(ruleErrors(errs, 0)).toEqual({ name: '"A" is also the name of rules[2]' });
    expect(ruleErrors(errs, 3)).toEqual({ rule: 'odd' });
    expect(formErrors(errs)).toEqual([['rules', 'at most 50 rules'], ['version', 'required']]);
  });
  it('tell a stale save from another conflict', () => {
    expect(isStale({ code: 'conflict', fields: { version: 'stale' } })).toBe(true);
    expect(isStale({ code: 'conflict', fields: {} })).toBe(true);
    expect(isStale({ code: 'conflict', fields: { name: 'taken' } })).toBe(false);
    expect(isStale({ code: 'invalid', fields: { version: 'x' } })).toBe(false);
  });
});

describe('rules in words', () => {
  it('reads criteria and how licences were managed', () => {
    expect(ruleText(defaults[0] as FactorRule)).toBe('Account type matches user and Number type matches directRouting');
    expect(ruleText(defaults[1] as FactorRule)).toBe('Account type matches user and licences managed by template');
    expect(ruleText({ criteria: [{ field: 'numberType', pattern: '' }], managedBy: '' })).toBe('Number type is empty');
    expect(ruleText({ criteria: [], managedBy: '' })).toBe('Every licensed user (catch-all)');
  });
});

describe('counts', () => {
  it('list the factors, then unmatched, with shares of licensed', () => {
    expect(countRows(usage(370, 20, [['dr', 'Direct Routing', 200], ['oc', 'Operator Connect', 100], ['ui', 'By UI', 50, false]]))).toEqual([
      { key: 'dr', name: 'Direct Routing', enabled: true, count: 200, share: 54.1 },
      { key: 'oc', name: 'Operator Connect', enabled: true, count: 100, share: 27 },
      { key: 'ui', name: 'By UI', enabled: false, count: 50, share: 13.5 },
      { key: 'unmatched', name: 'Unmatched', enabled: true, count: 20, share: 5.4 },
    ]);
    expect(countRows(usage(0, 0, []))).toEqual([{ key: 'unmatched', name: 'Unmatched', enabled: true, count: 0, share: 0 }]);
  });
  it('compare the preview with the current counts by rule id, else name', () => {
    const cur = usage(48, 30, [['dr', 'Direct Routing', 10], ['tpl', 'By template', 8], ['old', 'Old rule', 0]]);
    const prev = usage(48, 22, [['clinical', 'Clinical', 8], ['dr', 'Direct Routing', 10], ['by-template', 'by template', 8, false]]);
    expect(compareUsage(cur, prev)).toEqual([
      { key: 'clinical', name: 'Clinical', current: null, preview: 8, delta: 0, enabledNow: null, enabledPreview: true },
      { key: 'dr', name: 'Direct Routing', current: 10, preview: 10, delta: 0, enabledNow: true, enabledPreview: true },
      { key: 'by-template', name: 'by template', current: 8, preview: 8, delta: 0, enabledNow: true, enabledPreview: false },
      { key: 'old', name: 'Old rule', current: 0, preview: null, delta: 0, enabledNow: true, enabledPreview: null },
      { key: 'unmatched', name: 'Unmatched', current: 30, preview: 22, delta: -8, enabledNow: true, enabledPreview: true },
      { key: 'licensed', name: 'Licensed', current: 48, preview: 48, delta: 0, enabledNow: true, enabledPreview: true },
    ]);
  });
  it('format changes', () => {
    expect(formatDelta(3)).toBe('+3');
    expect(formatDelta(-1200)).toBe('−1,200');
    expect(formatDelta(0)).toBe('0');
  });
  it('break down by site in the customer’s rule order', () => {
    const cur: CurrentUsage = {
      usage: usage(10, 2, [['dr', 'Direct Routing', 5], ['tpl', 'By template', 3]]),
      users: 12,
      acquired: 0,
      acquiredBySku: {},
      skus: [],
      sites: [
        { siteId: 'lon', siteName: 'London', users: 8, usage: usage(7, 1, [['tpl', 'By template', 2], ['dr', 'Direct Routing', 4]]), skus: [] },
        { siteId: '-none-', siteName: '', users: 4, usage: usage(3, 1, [['dr', 'Direct Routing', 1]]), skus: [] },
      ],
      rulesVersion: 2,
      computedAt: '2026-11-24T10:00:00Z',
    };
    expect(siteTable(cur)).toEqual({
      columns: [{ key: 'dr', name: 'Direct Routing' }, { key: 'tpl', name: 'By template' }],
      rows: [
        { siteId: 'lon', siteName: 'London', users: 8, licensed: 7, unmatched: 1, counts: [4, 2] },
        { siteId: '-none-', siteName: '-none-', users: 4, licensed: 3, unmatched: 1, counts: [1, 0] },
      ],
    });
  });
});

describe('SKUs and the pool', () => {
  const pool = { customerId: 'c1', acquired: { 'ABC-1': 10 }, unusedThreshold: 5, unusedDays: 7, version: 2, updatedAt: '' };
  it('available seats may be negative', () => {
    expect(availableSeats({ enabled: 5, consumed: 6 })).toBe(-1);
    expect(availableSeats({ enabled: 50, consumed: 42 })).toBe(8);
  });
  it('sorts SKUs by name', () => {
    expect(sortSkus([{ name: 'b', partNumber: 'B' }, { name: '', partNumber: 'A' }, { name: 'b', partNumber: 'A' }]).map((k) => `${k.name}/${k.partNumber}`)).toEqual(['/A', 'b/A', 'b/B']);
  });
  it('edits the pool as typed, by skuId in lower case', () => {
    const d = poolDraft(pool);
    expect(d).toEqual({ acquired: { 'abc-1': '10' }, unusedThreshold: '5', unusedDays: '7' });
    expect(acquiredOf(pool, 'abc-1')).toBe(10);
    expect(acquiredOf(pool, 'nope')).toBeNull();
    expect(acquiredOf(null, 'abc-1')).toBeNull();
    const edited = { ...d, acquired: { ...d.acquired, 'def-2': ' 45 ', 'ghi-3': '' } };
    expect(validatePool(edited)).toEqual({});
    expect(poolInput(edited, 2)).toEqual({ acquired: { 'abc-1': 10, 'def-2': 45 }, unusedThreshold: 5, unusedDays: 7, version: 2 });
  });
  it('refuses what the server would', () => {
    expect(validatePool({ acquired: { a: '-1', b: '1.5', c: '20000000' }, unusedThreshold: '0', unusedDays: '91' })).toEqual({
      'acquired.a': expect.any(String),
      'acquired.b': expect.any(String),
      'acquired.c': expect.any(String),
      unusedThreshold: expect.any(String),
      unusedDays: expect.any(String),
    });
  });
});
