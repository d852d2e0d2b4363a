import { describe, expect, it } from 'vitest';
import type { Site } from '../api/types';
import {
  addCriterion,
  changeCriterion,
  criteriaText,
  criterionRow,
  isStaleConflict,
  limitText,
  moveCriterion,
  nextSiteOrder,
  numberPolicyText,
  removeCriterion,
  settingsDraft,
  settingsInput,
  siteDraft,
  siteInput,
  sortSites,
  stagingSwitchText,
  validateCriteria,
  validateSettings,
  validateSite,
} from './sites';

const site: Site = {
  id: 's1', customerId: 'c1', name: 'London', order: 2, default: true,
  criteria: [{ field: 'city', value: 'London' }, { field: 'upnDomain', value: 'contoso.co.uk' }],
  usageLocation: 'GB', templateId: 't1', allowStaging: true, numberPolicy: { assign: true, type: 'directRouting' },
  version: 3, createdAt: '', updatedAt: '',
};

describe('settings', () => {
  it('starts from the defaults and reads saved settings', () => {
    expect(settingsDraft(null)).toEqual({ manageLicenses: false, allowStaging: false, defaultUsageLocation: '', stagingLimitMinutes: '1440', quarantineDays: '30' });
    const d = settingsDraft({ customerId: 'c', manageLicenses: true, allowStaging: true, defaultUsageLocation: 'GB', stagingLimitMinutes: 60, quarantineDays: 0, version: 2, updatedAt: '' });
    expect(d).toEqual({ manageLicenses: true, allowStaging: true, defaultUsageLocation: 'GB', stagingLimitMinutes: '60', quarantineDays: '0' });
  });
  it('checks like the server', () => {
    const ok = settingsDraft(null);
    expect(validateSettings(ok)).toEqual({});
    expect(validateSettings({ ...ok, defaultUsageLocation: 'GBR', stagingLimitMinutes: '4', quarantineDays: '366' })).toEqual({
      defaultUsageLocation: expect.stringMatching(/Two letters/),
      stagingLimitMinutes: expect.stringMatching(/5 to 20160/),
      quarantineDays: expect.stringMatching(/0 to 365/),
    });
    expect(validateSettings({ ...ok, stagingLimitMinutes: '20161', quarantineDays: '1.5' })).toHaveProperty('quarantineDays');
    expect(validateSettings({ ...ok, stagingLimitMinutes: '20160', quarantineDays: '0', defaultUsageLocation: ' us ' })).toEqual({});
  });
  it('builds the request body with the version read', () => {
    expect(settingsInput({ manageLicenses: true, allowStaging: false, defaultUsageLocation: ' gb ', stagingLimitMinutes: ' 90 ', quarantineDays: '7' }, 4)).toEqual({
      manageLicenses: true, allowStaging: false, defaultUsageLocation: 'GB', stagingLimitMinutes: 90, quarantineDays: 7, version: 4,
    });
  });
  it('words limits and switches', () => {
    expect(limitText(1440)).toBe('24 h');
    expect(limitText(2880)).toBe('2 days');
    expect(limitText(120)).toBe('2 h');
    expect(limitText(90)).toBe('90 min');
    expect(stagingSwitchText({ manageLicenses: true, allowStaging: true })).toMatch(/are staged/);
    expect(stagingSwitchText({ manageLicenses: true, allowStaging: false })).toBe('Staging is off: turn on Allow User Staging.');
    expect(stagingSwitchText({ manageLicenses: false, allowStaging: true })).toBe('Staging is off: turn on Manage Licenses.');
    expect(stagingSwitchText({ manageLicenses: false, allowStaging: false })).toMatch(/both|Manage Licenses and Allow/);
  });
});

describe('criteria editing', () => {
  const rows = [criterionRow({ field: 'city', value: 'London' }), criterionRow({ field: 'department', value: 'Sales' }), criterionRow({ field: 'office', value: 'HQ' })];
  const values = (rs: { value: string }[]): string[] => rs.map((r) => r.value);

  it('adds a row of the last row’s field, with a new key', () => {
    const out = addCriterion(rows);
    expect(out).toHaveLength(4);
    expect(out[3]).toMatchObject({ field: 'office', value: '' });
    expect(new Set(out.map((r) => r.key)).size).toBe(4);
    expect(addCriterion([])[0]).toMatchObject({ field: 'usageLocation', value: '' });
    expect(rows).toHaveLength(3); // not changed in place
  });
  it('removes, moves and changes rows', () => {
    expect(values(removeCriterion(rows, 1))).toEqual(['London', 'HQ']);
    expect(values(moveCriterion(rows, 2, -1))).toEqual(['London', 'HQ', 'Sales']);
    expect(values(moveCriterion(rows, 0, 1))).toEqual(['Sales', 'London', 'HQ']);
    expect(values(moveCriterion(rows, 0, -1))).toEqual(['London', 'Sales', 'HQ']);
    expect(values(moveCriterion(rows, 2, 1))).toEqual(['London', 'Sales', 'HQ']);
    const moved = moveCriterion(rows, 2, -2);
    expect(moved[0]?.key).toBe(rows[2]?.key);
    expect(changeCriterion(rows, 1, { value: 'Ops' })[1]).toMatchObject({ field: 'department', value: 'Ops', key: rows[1]?.key });
  });
  it('checks rows, keyed like the server', () => {
    expect(validateCriteria([{ field: 'city', value: 'x' }])).toEqual({});
    expect(validateCriteria([
      { field: 'city', value: ' ' },
      { field: 'upnDomain', value: 'a@contoso.com' },
      { field: 'colour', value: 'red' },
      { field: 'usageLocation', value: 'GBR' },
      { field: 'department', value: 'x'.repeat(257) },
    ])).toEqual({
      'criteria[0].value': expect.stringMatching(/Enter a value/),
      'criteria[1].value': expect.stringMatching(/without "@"/),
      'criteria[2].field': expect.any(String),
      'criteria[3].value': expect.stringMatching(/Two letters/),
      'criteria[4].value': expect.stringMatching(/256/),
    });
    expect(validateCriteria(Array.from({ length: 51 }, () => ({ field: 'city', value: 'a' })))).toHaveProperty('criteria');
  });
});

describe('sites', () => {
  it('drafts a new site after the last one, and an existing one as it is', () => {
    expect(siteDraft(null, 4)).toMatchObject({ name: '', order: '4', default: false, criteria: [], allowStaging: true, assignNumber: false, numberType: '' });
    const d = siteDraft(site);
    expect(d).toMatchObject({ name: 'London', order: '2', default: true, usageLocation: 'GB', templateId: 't1', assignNumber: true, numberType: 'directRouting' });
    expect(d.criteria.map((c) => [c.field, c.value])).toEqual([['city', 'London'], ['upnDomain', 'contoso.co.uk']]);
    expect(siteDraft({ ...site, criteria: null as unknown as Site['criteria'] }).criteria).toEqual([]);
    expect(nextSiteOrder([])).toBe(1);
    expect(nextSiteOrder([{ order: 3 }, { order: 10 }])).toBe(11);
  });
  it('round-trips into a request body', () => {
    expect(siteInput(siteDraft(site))).toEqual({
      name: 'London', order: 2, default: true,
      criteria: [{ field: 'city', value: 'London' }, { field: 'upnDomain', value: 'contoso.co.uk' }],
      usageLocation: 'GB', templateId: 't1', allowStaging: true, numberPolicy: { assign: true, type: 'directRouting' },
    });
    const d = { ...siteDraft(null), name: ' Leeds ', usageLocation: 'gb', numberType: 'callingPlan' as const, criteria: [criterionRow({ field: 'city', value: ' Leeds ' })] };
    expect(siteInput(d)).toMatchObject({ name: 'Leeds', usageLocation: 'GB', criteria: [{ field: 'city', value: 'Leeds' }], numberPolicy: { assign: false, type: '' } });
  });
  it('checks the name, order, usage location and criteria', () => {
    expect(validateSite(siteDraft(site))).toEqual({});
    expect(validateSite({ ...siteDraft(null), name: '', order: 'x', usageLocation: 'G', criteria: [criterionRow({ field: 'city', value: '' })] })).toEqual({
      name: 'Name is required.',
      order: expect.any(String),
      usageLocation: expect.stringMatching(/Two letters/),
      'criteria[0].value': expect.any(String),
    });
    expect(validateSite({ ...siteDraft(null), name: 'x'.repeat(81) })).toEqual({ name: 'Name must be at most 80 characters.' });
  });
  it('sorts and words sites', () => {
    expect(sortSites([{ order: 2, name: 'b' }, { order: 1, name: 'z' }, { order: 2, name: 'a' }]).map((s) => s.name)).toEqual(['z', 'a', 'b']);
    expect(numberPolicyText({ assign: true, type: 'directRouting' })).toBe('Assigns a Direct Routing number');
    expect(numberPolicyText({ assign: true, type: '' })).toBe('Assigns a number of any type');
    expect(numberPolicyText({ assign: false, type: 'callingPlan' })).toBe('No number');
    expect(criteriaText(site)).toBe('City is London or UPN domain is contoso.co.uk; and everyone no other site takes');
    expect(criteriaText({ criteria: [], default: true })).toBe('Everyone no other site takes');
    expect(criteriaText({ criteria: null as unknown as Site['criteria'], default: false })).toMatch(/No criteria/);
  });
});

describe('conflicts', () => {
  it('tells a stale version from a clash on a field', () => {
    expect(isStaleConflict({ code: 'conflict', fields: { version: 'stale: reload' }, message: 'site s1 was changed by someone else: reload and try again' })).toBe(true);
    expect(isStaleConflict({ code: 'conflict', fields: {}, message: 'the settings were changed by someone else' })).toBe(true);
    expect(isStaleConflict({ code: 'conflict', fields: { name: 'taken' }, message: 'a site named "London" already exists' })).toBe(false);
    expect(isStaleConflict({ code: 'conflict', fields: { default: '"London" is the default site' }, message: 'site "London" is the default site already' })).toBe(false);
    expect(isStaleConflict({ code: 'conflict', fields: {}, message: 'site "London" still has numbers: move or delete them first' })).toBe(false);
    expect(isStaleConflict({ code: 'invalid', fields: { version: 'required' }, message: 'x' })).toBe(false);
  });
});
