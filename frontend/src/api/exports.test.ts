import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from './client';
import { exportFileUrl, getExport, listExports, runExport } from './exports';

function recording(status = 200, answer: unknown = {}): { api: ApiClient; calls: { method: string; url: string; body: unknown }[] } {
  const calls: { method: string; url: string; body: unknown }[] = [];
  const api = new ApiClient({
    getToken: () => 't',
    fetch: async (url, init) => {
      calls.push({ method: String(init?.method), url: String(url), body: init?.body });
      return new Response(JSON.stringify(answer), { status });
    },
  });
  return { api, calls };
}

describe('export calls', () => {
  it('send the right method and path, with no body', async () => {
    const { api, calls } = recording();
    await listExports(api);
    await getExport(api, '2026-10');
    await runExport(api, '2026-10');
    await exportFileUrl(api, '2026-10', 'seatwise-usage-2026-10-anonymised.csv');
    await exportFileUrl(api, '2026-10', 'a b/c.csv');
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/v1/exports',
      'GET /api/v1/exports/2026-10',
      'POST /api/v1/exports/2026-10/run',
      'GET /api/v1/exports/2026-10/files/seatwise-usage-2026-10-anonymised.csv/url',
      'GET /api/v1/exports/2026-10/files/a%20b%2Fc.csv/url',
    ]);
    expect(calls.every((c) => c.body === undefined)).toBe(true);
  });

  it('turn a refused re-run into an ApiError with the server’s message', async () => {
    const { api } = recording(409, { error: { code: 'conflict', message: 'an export of 2026-10 is running since 2026-11-24T10:00:00Z (run r1, requested by u1)' } });
    const err = await runExport(api, '2026-10').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('conflict');
    expect((err as ApiError).message).toMatch(/running since 2026-11-24T10:00:00Z/);
  });
});
