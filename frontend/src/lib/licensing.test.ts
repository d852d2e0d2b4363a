import { describe, expect, it } from 'vitest';
import type { Sku, User, UserLicence } from '../api/types';
import {
  addonsSummary,
  assignPrechecks,
  blocked,
  disabledPlans,
  isOn,
  licenceWithAddons,
  listWords,
  offboardPlan,
  outcomeSummary,
  reassignPrechecks,
  removeBlockedReason,
  sameAddons,
  setToggle,
  skuOptionLabel,
  sortPlans,
  togglesAllOn,
  togglesFromDisabled,
  togglesOf,
} from './licensing';

const TEAMS = { id: 'p-teams', name: 'TEAMS1', friendlyName: 'Microsoft Teams' };
const EXO = { id: 'p-exo', name: 'EXCHANGE_S_STANDARD', friendlyName: 'Exchange Online (Plan 1)' };
const BOOK = { id: 'p-book', name: 'MICROSOFTBOOKINGS', friendlyName: '' };
const PLANS = [TEAMS, EXO, BOOK];

const sku = (over: Partial<Sku> = {}): Sku => ({
  customerId: 'c1',
  customerName: 'Contoso',
  skuId: 'sku-spb',
  partNumber: 'SPB',
  name: 'Microsoft 365 Business Premium',
  active: 50,
  used: 42,
  available: 8,
  suspended: 0,
  warning: 0,
  capabilityStatus: 'Enabled',
  appliesTo: 'User',
  servicePlans: PLANS,
  updatedAt: '2026-11-24T10:00:00Z',
  ...over,
});

const lic = (over: Partial<UserLicence> = {}): UserLicence => ({
  skuId: 'sku-spb',
  partNumber: 'SPB',
  name: 'Microsoft 365 Business Premium',
  direct: true,
  groups: [],
  state: 'Active',
  error: 'None',
  plans: PLANS.map((p) => ({ ...p, enabled: true })),
  ...over,
});

const user = (over: Partial<User> = {}): User => ({
  customerId: 'c1',
  id: 'u1',
  userPrincipalName: 'ada@contoso.example',
  displayName: 'Ada Lovelace',
  mail: '',
  usageLocation: 'US',
  accountEnabled: true,
  department: '',
  officeLocation: '',
  city: '',
  country: '',
  businessPhones: [],
  status: 'active',
  changedAt: '2026-11-24T10:00:00Z',
  licensed: false,
  hasErrors: false,
  licences: [],
  ...over,
});

describe('add-on toggles → disabledPlans', () => {
  it('sends nothing when every add-on is on', () => {
    expect(disabledPlans(PLANS, togglesAllOn(PLANS))).toEqual([]);
  });
  it('sends the plans switched off, sorted', () => {
    let t = togglesAllOn(PLANS);
    t = setToggle(t, 'p-teams', false);
    t = setToggle(t, 'p-book', false);
    expect(disabledPlans(PLANS, t)).toEqual(['p-book', 'p-teams']);
    t = setToggle(t, 'p-teams', true);
    expect(disabledPlans(PLANS, t)).toEqual(['p-book']);
  });
  it('counts a plan missing from the toggles as on, and ignores toggles of other SKUs', () => {
    expect(disabledPlans(PLANS, { 'p-exo': false, 'p-other': false })).toEqual(['p-exo']);
    expect(isOn({}, 'p-teams')).toBe(true);
  });
  it('does not mutate the toggles it is given', () => {
    const t = togglesAllOn(PLANS);
    setToggle(t, 'p-exo', false);
    expect(t['p-exo']).toBe(true);
  });
  it('reads a held licence, and round-trips disabled plans', () => {
    const l = lic({ plans: [{ ...TEAMS, enabled: false }, { ...EXO, enabled: true }, { ...BOOK, enabled: true }] });
    expect(disabledPlans(PLANS, togglesOf(l))).toEqual(['p-teams']);
    expect(togglesFromDisabled(PLANS, ['p-exo'])).toEqual({ 'p-teams': true, 'p-exo': false, 'p-book': true });
    expect(sameAddons(PLANS, togglesOf(l), togglesFromDisabled(PLANS, ['p-teams']))).toBe(true);
    expect(sameAddons(PLANS, togglesOf(l), togglesAllOn(PLANS))).toBe(false);
  });
  it('summarises the toggles by friendly name', () => {
    expect(addonsSummary(PLANS, togglesAllOn(PLANS))).toBe('3 of 3 add-ons on');
    expect(addonsSummary(PLANS, { 'p-teams': false, 'p-book': false })).toBe('1 of 3 add-ons on; off: Microsoft Teams, MICROSOFTBOOKINGS');
    expect(addonsSummary([], {})).toBe('No add-ons');
  });
  it('sorts plans by friendly name and drops duplicates', () => {
    expect(sortPlans([TEAMS, EXO, TEAMS]).map((p) => p.id)).toEqual(['p-exo', 'p-teams']);
  });
  it('names the add-ons a licence has off', () => {
    expect(licenceWithAddons(lic({ plans: [{ ...TEAMS, enabled: false }, { ...EXO, enabled: true }] }))).toBe(
      'Microsoft 365 Business Premium (off: Microsoft Teams)',
    );
    expect(licenceWithAddons(lic())).toBe('Microsoft 365 Business Premium');
  });
});

describe('SKU menu labels', () => {
  it('shows the seats available, none, or over-assigned', () => {
    expect(skuOptionLabel(sku())).toBe('Microsoft 365 Business Premium — 8 available');
    expect(skuOptionLabel(sku({ available: 0 }))).toBe('Microsoft 365 Business Premium — none available');
    expect(skuOptionLabel(sku({ name: '', partNumber: 'VISIOCLIENT', available: -1 }))).toBe('VISIOCLIENT — none available (1 over)');
  });
});

describe('assign pre-checks', () => {
  it('says nothing when there are seats and a usage location', () => {
    expect(assignPrechecks(user(), sku())).toEqual([]);
  });
  it('says no seats are left, and how far over it is', () => {
    const [c] = assignPrechecks(user(), sku({ active: 5, used: 6, available: -1, name: 'Visio Plan 2' }));
    expect(c).toEqual({ kind: 'no_seats', level: 'block', message: 'No seats left in Visio Plan 2: 6 used of 5 (over-assigned by 1).' });
    expect(assignPrechecks(user(), sku({ active: 10, used: 10, available: 0 }))[0]?.message).toBe(
      'No seats left in Microsoft 365 Business Premium: all 10 are in use.',
    );
  });
  it('says the user has no usage location', () => {
    const cs = assignPrechecks(user({ usageLocation: '' }), sku());
    expect(cs.map((c) => c.kind)).toEqual(['no_usage_location']);
    expect(cs[0]?.message).toMatch(/^Ada Lovelace has no usage location/);
    expect(blocked(cs)).toBe(true);
  });
  it('gives every problem, blocking ones first', () => {
    const cs = assignPrechecks(user({ usageLocation: '', accountEnabled: false }), sku({ available: 0 }));
    expect(cs.map((c) => c.kind)).toEqual(['no_seats', 'no_usage_location', 'account_disabled']);
  });
  it('says when the user already holds the licence directly', () => {
    const cs = assignPrechecks(user({ licences: [lic()] }), sku({ available: 0 }));
    expect(cs.map((c) => c.kind)).toEqual(['already_direct']);
  });
  it('says when the user gets it via a group, which needs no extra seat', () => {
    const cs = assignPrechecks(user({ licences: [lic({ direct: false, groups: [{ id: 'g1', name: 'New starters' }] })] }), sku({ available: 0 }));
    expect(cs).toEqual([
      {
        kind: 'via_group',
        level: 'info',
        message: 'Ada Lovelace already gets Microsoft 365 Business Premium via group New starters; a direct assignment is added next to it.',
      },
    ]);
    expect(blocked(cs)).toBe(false);
  });
  it('refuses a removed user', () => {
    expect(assignPrechecks(user({ status: 'softDeleted' }), sku()).map((c) => c.kind)).toEqual(['user_removed']);
  });
  it('without a SKU checks only the user', () => {
    expect(assignPrechecks(user({ usageLocation: '' }), undefined).map((c) => c.kind)).toEqual(['no_usage_location']);
  });
});

describe('reassign pre-checks', () => {
  const from = user({ id: 'a', licences: [lic()] });
  it('refuses the same user', () => {
    expect(reassignPrechecks(from, from, 'sku-spb', 'SPB').map((c) => c.kind)).toEqual(['same_user']);
  });
  it('says when the target already holds it or has no usage location', () => {
    const to = user({ id: 'b', displayName: 'Ben', usageLocation: '', licences: [lic()] });
    expect(reassignPrechecks(from, to, 'sku-spb', 'SPB').map((c) => [c.kind, c.message])).toEqual([
      ['already_direct', 'Ben already holds SPB.'],
      ['no_usage_location', expect.stringMatching(/^Ben has no usage location/)],
    ]);
  });
  it('is fine for a target with a usage location', () => {
    expect(reassignPrechecks(from, user({ id: 'b' }), 'sku-spb', 'SPB', { active: 5, used: 5, available: 0 })).toEqual([]);
  });
  it('warns that an over-assigned SKU may leave neither user with the licence', () => {
    const cs = reassignPrechecks({ ...from, displayName: 'Ada' }, user({ id: 'b', displayName: 'Ben' }), 'sku-v', 'Visio Plan 2', { active: 5, used: 6, available: -1 });
    expect(cs).toEqual([
      {
        kind: 'over_assigned',
        level: 'warn',
        message: 'Visio Plan 2 is over-assigned (6 used of 5): the seat Ada gives up does not free one, so if Ben cannot get it, Ada may not get it back.',
      },
    ]);
    expect(blocked(cs)).toBe(false);
  });
});

describe('remove and offboard', () => {
  it('removes a direct licence, and names the group of one held only via groups', () => {
    expect(removeBlockedReason(lic())).toBeNull();
    expect(removeBlockedReason(lic({ direct: true, groups: [{ id: 'g', name: 'G' }] }))).toBeNull();
    expect(removeBlockedReason(lic({ direct: false, groups: [{ id: 'g1', name: 'Teams Phone users' }] }))).toBe(
      'Held via group Teams Phone users: remove the user from the group in Microsoft 365.',
    );
    expect(removeBlockedReason(lic({ direct: false, groups: [{ id: 'g1', name: '' }, { id: 'g2', name: 'B' }, { id: 'g3', name: 'C' }] }))).toBe(
      'Held via groups g1, B and C: remove the user from the group in Microsoft 365.',
    );
  });
  it('offboarding removes direct licences and lists the group-held ones with their groups', () => {
    const direct = lic({ skuId: 'a' });
    const both = lic({ skuId: 'b', direct: true, groups: [{ id: 'g', name: 'G' }] });
    const viaGroup = lic({ skuId: 'c', direct: false, groups: [{ id: 'g2', name: 'Teams Phone users' }] });
    const plan = offboardPlan([direct, both, viaGroup]);
    expect(plan.remove.map((l) => l.skuId)).toEqual(['a', 'b']);
    expect(plan.keep).toEqual([{ licence: viaGroup, groups: ['Teams Phone users'] }]);
    expect(offboardPlan(null)).toEqual({ remove: [], keep: [] });
  });
  it('lists in words', () => {
    expect(listWords([])).toBe('');
    expect(listWords(['A'])).toBe('A');
    expect(listWords(['A', 'B'])).toBe('A and B');
    expect(listWords(['A', 'B', 'C'])).toBe('A, B and C');
  });
});

describe('result summaries', () => {
  it('counts the users done and failed', () => {
    expect(outcomeSummary('Applied', [{ label: 'a', ok: true }, { label: 'b', ok: false, message: 'no seats' }, { label: 'c', ok: true }])).toBe(
      'Applied to 2 of 3 users; 1 failed.',
    );
    expect(outcomeSummary('Applied', [{ label: 'a', ok: true }])).toBe('Applied to 1 of 1 user.');
    expect(outcomeSummary('Applied', [])).toBe('Applied to no users.');
  });
});
