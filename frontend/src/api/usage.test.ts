import { describe, expect, it } from 'vitest';
import { ApiClient } from './client';
import {
  getFactorRules,
  getPool,
  getUsage,
  historyQuery,
  listAlerts,
  listSnapshots,
  listUsageUsers,
  previewFactorRules,
  resetFactorRules,
  saveFactorRules,
  savePool,
  takeSnapshot,
  usageHistory,
  usageUsersQuery,
} from './usage';

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

describe('usage queries', () => {
  it('leave out empty values', () => {
    expect(usageUsersQuery('dr', '', 25)).toBe('?rule=dr&limit=25');
    expect(usageUsersQuery('unmatched', 'u9', 0)).toBe('?rule=unmatched&cursor=u9');
    expect(historyQuery('2026-11-01', '2026-11-24')).toBe('?from=2026-11-01&to=2026-11-24');
    expect(historyQuery('2026-11-01', '2026-11-24', '-none-')).toBe('?from=2026-11-01&to=2026-11-24&siteId=-none-');
  });
});

describe('usage calls', () => {
  it('send the right method, path and body', async () => {
    const { api, calls } = recording();
    const rules = [{ name: 'Clinical', enabled: true, managedBy: '' as const, criteria: [{ field: 'department' as const, pattern: 'Clinical' }] }];
    await getFactorRules(api, 'c 1');
    await getFactorRules(api, '');
    await saveFactorRules(api, 'c1', rules, 3);
    await saveFactorRules(api, '', rules, 0);
    await resetFactorRules(api, 'c1', 4);
    await previewFactorRules(api, 'c1', rules);
    await getUsage(api, 'c1');
    await listUsageUsers(api, 'c1', 'dr', 'u5', 25);
    await getPool(api, 'c1');
    await savePool(api, 'c1', { acquired: { a: 1 }, unusedThreshold: 5, unusedDays: 7, version: 0 });
    await listSnapshots(api, 'c1', '2026-11-01', '2026-11-24', 'lon');
    await takeSnapshot(api, 'c1');
    await usageHistory(api, '2026-11-01', '2026-11-24');
    await listAlerts(api);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/v1/customers/c%201/factors',
      'GET /api/v1/factors',
      'PUT /api/v1/customers/c1/factors',
      'PUT /api/v1/factors',
      'DELETE /api/v1/customers/c1/factors?version=4',
      'POST /api/v1/customers/c1/factors/preview',
      'GET /api/v1/customers/c1/usage',
      'GET /api/v1/customers/c1/usage/users?rule=dr&cursor=u5&limit=25',
      'GET /api/v1/customers/c1/pool',
      'PUT /api/v1/customers/c1/pool',
      'GET /api/v1/customers/c1/snapshots?from=2026-11-01&to=2026-11-24&siteId=lon',
      'POST /api/v1/customers/c1/snapshots',
      'GET /api/v1/usage/history?from=2026-11-01&to=2026-11-24',
      'GET /api/v1/alerts',
    ]);
    expect(calls[2]?.body).toEqual({ rules, version: 3 });
    expect(calls[5]?.body).toEqual({ rules });
    expect(calls[9]?.body).toEqual({ acquired: { a: 1 }, unusedThreshold: 5, unusedDays: 7, version: 0 });
    expect(calls[11]?.body).toBeUndefined();
  });
});
