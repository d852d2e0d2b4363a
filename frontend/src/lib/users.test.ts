import { describe, expect, it, vi } from 'vitest';
import type { UserLicence } from '../api/types';
import {
  asUserFilter,
  describeLicenceError,
  errorSummary,
  fillPage,
  heldBy,
  licenceChip,
  licenceInError,
  licenceStateLabel,
  listHash,
  parseListState,
  planList,
  sortLicences,
  USER_FILTERS,
  userStatusLabel,
} from './users';

const lic = (over: Partial<UserLicence> = {}): UserLicence => ({
  skuId: 'e43b5b99-8dfb-405f-9987-dc307f34bcbd',
  partNumber: 'MCOEV',
  name: 'Microsoft Teams Phone Standard',
  direct: true,
  groups: [],
  state: 'Active',
  error: 'None',
  plans: [],
  ...over,
});

describe('users list state in the hash', () => {
  it('round-trips search, licence and filter', () => {
    const st = { q: 'Ad ams', sku: 'e43b5b99-8dfb-405f-9987-dc307f34bcbd', filter: 'errors' as const };
    const hash = listHash('c/1', st);
    expect(hash).toBe('#/customers/c%2F1/users?q=Ad+ams&sku=e43b5b99-8dfb-405f-9987-dc307f34bcbd&filter=errors');
    expect(parseListState(hash)).toEqual(st);
  });
  it('leaves the query out when everything is empty, and trims the search', () => {
    expect(listHash('c1', { q: '  ', sku: '', filter: '' })).toBe('#/customers/c1/users');
    expect(listHash('c1', { q: ' ad ', sku: '', filter: '' })).toBe('#/customers/c1/users?q=ad');
    expect(parseListState('#/customers/c1/users')).toEqual({ q: '', sku: '', filter: '' });
  });
  it('drops an unknown filter', () => {
    expect(parseListState('#/customers/c1/users?filter=everyone&q=x')).toEqual({ q: 'x', sku: '', filter: '' });
    expect(asUserFilter('removed')).toBe('removed');
    expect(asUserFilter('constructor')).toBe('');
    expect(asUserFilter(null)).toBe('');
  });
  it('offers every filter of the contract', () => {
    expect(USER_FILTERS.map((f) => f.value)).toEqual(['', 'unlicensed', 'errors', 'disabled', 'removed']);
  });
});

describe('licence chips and labels', () => {
  it('shows a direct licence plainly', () => {
    expect(licenceChip(lic())).toEqual({
      text: 'Microsoft Teams Phone Standard',
      title: 'Microsoft Teams Phone Standard (MCOEV) · Direct',
      className: 'chip',
      viaGroup: false,
      error: false,
    });
  });
  it('styles a licence held only through a group', () => {
    const c = licenceChip(lic({ direct: false, groups: [{ id: 'g1', name: 'Teams Phone users' }] }));
    expect(c.className).toBe('chip chip-group');
    expect(c.viaGroup).toBe(true);
    expect(c.title).toBe('Microsoft Teams Phone Standard (MCOEV) · Via group Teams Phone users');
  });
  it('does not style a licence held directly and through a group as via group', () => {
    const c = licenceChip(lic({ direct: true, groups: [{ id: 'g1', name: 'Teams Phone users' }] }));
    expect(c.viaGroup).toBe(false);
    expect(c.title).toContain('Direct, Via group Teams Phone users');
  });
  it('marks errors red and says why', () => {
    const c = licenceChip(lic({ direct: false, groups: [{ id: 'g1', name: '' }], state: 'Error', error: 'CountViolation' }));
    expect(c.className).toBe('chip chip-group chip-error');
    expect(c.error).toBe(true);
    expect(c.title).toBe('Microsoft Teams Phone Standard (MCOEV) · Via group g1 · CountViolation: Not enough licences: every seat of the SKU is in use');
  });
  it('falls back to the part number and the SKU id for the name', () => {
    expect(licenceChip(lic({ name: '', partNumber: 'X_PART' })).text).toBe('X_PART');
    expect(licenceChip(lic({ name: '', partNumber: '' })).text).toBe('e43b5b99-8dfb-405f-9987-dc307f34bcbd');
    expect(licenceChip(lic({ name: 'MCOEV', partNumber: 'MCOEV' })).title).toBe('MCOEV · Direct');
  });
  it('says how a licence is held', () => {
    expect(heldBy(lic())).toEqual(['Direct']);
    expect(heldBy(lic({ direct: false, groups: [{ id: 'g1', name: 'Teams Phone users' }] }))).toEqual(['Via group Teams Phone users']);
    expect(heldBy(lic({ groups: [{ id: 'g1', name: 'A' }, { id: 'g2', name: '' }] }))).toEqual(['Direct', 'Via group A', 'Via group g2']);
    expect(heldBy({ direct: false, groups: null as unknown as [] })).toEqual(['Unknown']);
  });
  it('knows when a licence is in error', () => {
    expect(licenceInError(lic())).toBe(false);
    expect(licenceInError(lic({ error: 'MutuallyExclusiveViolation' }))).toBe(true);
    expect(licenceInError(lic({ state: 'ActiveWithError' }))).toBe(true);
    expect(licenceInError(lic({ state: 'Error' }))).toBe(true);
    expect(licenceInError(lic({ state: 'Disabled' }))).toBe(false);
  });
  it('labels states, statuses and errors', () => {
    expect(licenceStateLabel('ActiveWithError')).toBe('Active with error');
    expect(licenceStateLabel('Weird')).toBe('Weird');
    expect(userStatusLabel('softDeleted')).toBe('Removed (soft-deleted)');
    expect(userStatusLabel('active')).toBe('Active');
    expect(describeLicenceError('ProhibitedInUsageLocationViolation')).toMatch(/usage location/);
    expect(describeLicenceError('toString')).toBe('A licensing error Seatwise does not know');
  });
  it('sorts licences by name and tolerates null', () => {
    const a = lic({ name: 'B' });
    const b = lic({ name: 'A' });
    expect(sortLicences([a, b]).map((l) => l.name)).toEqual(['A', 'B']);
    expect(sortLicences(null)).toEqual([]);
  });
  it('lists plans by friendly name and counts those on', () => {
    const r = planList([
      { id: '2', name: 'YAMMER', friendlyName: 'Viva Engage', enabled: false },
      { id: '1', name: 'EXCHANGE_S', friendlyName: 'Exchange Online', enabled: true },
      { id: '3', name: 'NO_FRIENDLY', friendlyName: '', enabled: true },
    ]);
    expect(r.plans.map((p) => p.id)).toEqual(['1', '3', '2']);
    expect([r.on, r.off]).toEqual([2, 1]);
    expect(planList(null)).toEqual({ plans: [], on: 0, off: 0 });
  });
});

describe('errorSummary', () => {
  it('lists errors by type, most frequent first, without zeros', () => {
    expect(errorSummary({ MutuallyExclusiveViolation: 1, CountViolation: 2, Other: 0, DependencyViolation: 1 })).toEqual([
      { code: 'CountViolation', count: 2, label: 'CountViolation 2', title: 'Not enough licences: every seat of the SKU is in use' },
      { code: 'DependencyViolation', count: 1, label: 'DependencyViolation 1', title: 'Needs another licence the user does not hold' },
      { code: 'MutuallyExclusiveViolation', count: 1, label: 'MutuallyExclusiveViolation 1', title: 'Conflicts with another licence the user holds' },
    ]);
  });
  it('is empty for nothing, null (a Go nil map) or junk', () => {
    expect(errorSummary({})).toEqual([]);
    expect(errorSummary(null)).toEqual([]);
    expect(errorSummary(undefined)).toEqual([]);
    expect(errorSummary({ CountViolation: Number.NaN, X: -1 } as Record<string, number>)).toEqual([]);
  });
});

describe('fillPage', () => {
  const pages: Record<string, { items: number[]; nextCursor: string }> = {
    '': { items: [1, 2], nextCursor: 'a' },
    a: { items: [], nextCursor: 'b' },
    b: { items: [3], nextCursor: 'c' },
    c: { items: [4, 5, 6], nextCursor: '' },
  };
  const server = () =>
    vi.fn(async (cursor: string, limit: number) => {
      const p = pages[cursor];
      if (!p) throw new Error(`no page ${cursor}`);
      return { items: p.items.slice(0, limit), nextCursor: p.nextCursor };
    });

  it('keeps asking through short and empty pages until it has a page', async () => {
    const f = server();
    expect(await fillPage(f, '', 4)).toEqual({ items: [1, 2, 3, 4], nextCursor: '', requests: 4 });
    expect(f.mock.calls).toEqual([['', 4], ['a', 2], ['b', 2], ['c', 1]]);
  });
  it('stops at a full page and hands out the next cursor', async () => {
    const f = server();
    expect(await fillPage(f, '', 2)).toEqual({ items: [1, 2], nextCursor: 'a', requests: 1 });
  });
  it('stops at the end', async () => {
    const f = server();
    expect(await fillPage(f, 'c', 25)).toEqual({ items: [4, 5, 6], nextCursor: '', requests: 1 });
  });
  it('stops after maxRequests, possibly with nothing yet', async () => {
    const f = server();
    expect(await fillPage(f, 'a', 25, 1)).toEqual({ items: [], nextCursor: 'b', requests: 1 });
  });
  it('treats null items and cursor as empty', async () => {
    const f = vi.fn(async () => ({ items: null, nextCursor: null }));
    expect(await fillPage(f, '', 25)).toEqual({ items: [], nextCursor: '', requests: 1 });
  });
  it('refuses a cursor that does not move', async () => {
    const f = vi.fn(async () => ({ items: [], nextCursor: 'same' }));
    await expect(fillPage(f, 'same', 25)).rejects.toThrow(/same cursor/);
  });
  it('passes failures on', async () => {
    const f = vi.fn(async () => {
      throw new Error('boom');
    });
    await expect(fillPage(f, '', 25)).rejects.toThrow('boom');
  });
});
