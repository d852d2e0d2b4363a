import { describe, expect, it } from 'vitest';
import { ApiClient } from './client';
import {
  addNumbers,
  assignNumber,
  checkStaging,
  deleteNumber,
  deleteSite,
  importNumbers,
  listNumbers,
  listStaging,
  numbersQuery,
  onboard,
  queryString,
  releaseNumber,
  removeStaging,
  saveSettings,
  stagingQuery,
  updateNumber,
  updateSite,
} from './provisioning';

/** A client whose fetch records each request and answers {} (or the given body). */
function recording(answer: unknown = {}): { api: ApiClient; calls: { method: string; url: string; body: unknown }[] } {
  const calls: { method: string; url: string; body: unknown }[] = [];
  const api = new ApiClient({
    getToken: () => 't',
    fetch: async (url, init) => {
      calls.push({ method: String(init?.method), url: String(url), body: init?.body ? JSON.parse(String(init.body)) : undefined });
      return new Response(JSON.stringify(answer), { status: 200 });
    },
  });
  return { api, calls };
}

describe('query strings', () => {
  it('leaves out empty values and trims text', () => {
    expect(queryString([['a', ' x '], ['b', ''], ['c', undefined], ['d', 0], ['e', 5]])).toBe('?a=x&e=5');
    expect(queryString([])).toBe('');
  });
  it('builds the numbers list query in a fixed order', () => {
    expect(numbersQuery({ type: 'callingPlan', q: ' +44 ', status: 'available', siteId: 's1', cursor: 'c', limit: 50 })).toBe(
      '?q=%2B44&siteId=s1&status=available&type=callingPlan&cursor=c&limit=50',
    );
    expect(numbersQuery({ q: '', status: '', type: '' })).toBe('');
  });
  it('builds the staging query, with users comma-separated', () => {
    expect(stagingQuery({ status: 'active', limit: 50 })).toBe('?status=active&limit=50');
    expect(stagingQuery({ users: ['u1', 'u2'] })).toBe('?users=u1%2Cu2');
    expect(stagingQuery({ users: [] })).toBe('');
  });
});

describe('provisioning calls', () => {
  it('send the right method, path and body', async () => {
    const { api, calls } = recording();
    await saveSettings(api, 'c 1', { manageLicenses: true, allowStaging: true, defaultUsageLocation: 'GB', stagingLimitMinutes: 60, quarantineDays: 0, version: 0 });
    await updateSite(api, 'c1', 's/1', { name: 'London', version: 2 });
    await deleteSite(api, 'c1', 's1', 3);
    await listNumbers(api, 'c1', { status: 'available', siteId: 's1' });
    await addNumbers(api, 'c1', { number: '+441632960001', type: 'directRouting', siteId: 's1' });
    await importNumbers(api, 'c1', 's1');
    await updateNumber(api, 'c1', '+441632960001', { siteId: '', extension: '', version: 1 });
    await deleteNumber(api, 'c1', '+441632960001', 4);
    await assignNumber(api, 'c1', '+441632960001', 'u1');
    await releaseNumber(api, 'c1', '+441632960001');
    await listStaging(api, 'c1', { users: ['u1'] });
    await checkStaging(api, 'c1', 'u1');
    await removeStaging(api, 'c1', 'u1');
    await onboard(api, 'c1', { userIds: ['u1'], templateId: 't1', siteId: '', number: '' });
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'PUT /api/v1/customers/c%201/settings',
      'PUT /api/v1/customers/c1/sites/s%2F1',
      'DELETE /api/v1/customers/c1/sites/s1?version=3',
      'GET /api/v1/customers/c1/numbers?siteId=s1&status=available',
      'POST /api/v1/customers/c1/numbers',
      'POST /api/v1/customers/c1/numbers/import',
      'PATCH /api/v1/customers/c1/numbers/%2B441632960001',
      'DELETE /api/v1/customers/c1/numbers/%2B441632960001?version=4',
      'POST /api/v1/customers/c1/numbers/%2B441632960001/assign',
      'POST /api/v1/customers/c1/numbers/%2B441632960001/release',
      'GET /api/v1/customers/c1/staging?users=u1',
      'POST /api/v1/customers/c1/staging/u1/check',
      'DELETE /api/v1/customers/c1/staging/u1',
      'POST /api/v1/customers/c1/onboarding',
    ]);
    expect(calls[5]?.body).toEqual({ siteId: 's1' });
    expect(calls[8]?.body).toEqual({ userId: 'u1' });
    expect(calls[9]?.body).toBeUndefined();
    expect(calls[13]?.body).toEqual({ userIds: ['u1'], templateId: 't1', siteId: '', number: '' });
  });
});
