import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, codeForStatus, pageQuery, parseApiError, toApiError } from './client';

describe('parseApiError', () => {
  it('reads the error envelope with fields', () => {
    const e = parseApiError(
      400,
      'Bad Request',
      JSON.stringify({ error: { code: 'invalid', message: 'invalid customer', fields: { tenantId: 'not a GUID', name: 'required' } } }),
    );
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(400);
    expect(e.code).toBe('invalid');
    expect(e.message).toBe('invalid customer');
    expect(e.fields).toEqual({ tenantId: 'not a GUID', name: 'required' });
    expect(e.field('tenantId')).toBe('not a GUID');
    expect(e.field('toString')).toBeUndefined();
  });

  it('reads a conflict without fields', () => {
    const e = parseApiError(409, 'Conflict', '{"error":{"code":"conflict","message":"tenant already registered"}}');
    expect(e.code).toBe('conflict');
    expect(e.message).toBe('tenant already registered');
    expect(e.fields).toEqual({});
  });

  it('falls back to the status for a body that is not JSON', () => {
    const e = parseApiError(502, 'Bad Gateway', '<html>upstream down</html>');
    expect(e.code).toBe('upstream');
    expect(e.message).toBe('HTTP 502 Bad Gateway');
  });

  it('falls back to the status for JSON without an error envelope', () => {
    expect(parseApiError(404, '', '{"message":"nope"}').code).toBe('not_found');
    expect(parseApiError(500, '', '[]').message).toBe('HTTP 500');
    expect(parseApiError(401, '', '').code).toBe('unauthorized');
  });

  it('uses the status for an unknown code and an empty message', () => {
    const e = parseApiError(403, 'Forbidden', '{"error":{"code":"weird","message":"  "}}');
    expect(e.code).toBe('forbidden');
    expect(e.message).toBe('HTTP 403 Forbidden');
  });

  it('keeps only usable field messages', () => {
    const e = parseApiError(400, '', '{"error":{"code":"invalid","message":"bad","fields":{"a":"x","b":3,"c":null}}}');
    expect(e.fields).toEqual({ a: 'x', b: '3' });
  });

  it('maps statuses to codes', () => {
    expect(codeForStatus(409)).toBe('conflict');
    expect(codeForStatus(429)).toBe('throttled');
    expect(codeForStatus(418)).toBe('internal');
  });
});

describe('toApiError', () => {
  it('wraps network failures and aborts', () => {
    expect(toApiError(new TypeError('Failed to fetch'))).toMatchObject({ status: 0, code: 'network' });
    expect(toApiError(new DOMException('x', 'AbortError'))).toMatchObject({ code: 'aborted' });
    const e = new ApiError(404, 'not_found', 'no');
    expect(toApiError(e)).toBe(e);
  });
});

describe('pageQuery', () => {
  it('leaves out an empty cursor', () => {
    expect(pageQuery('', 25)).toBe('?limit=25');
    expect(pageQuery('abc+/=', 25)).toBe('?cursor=abc%2B%2F%3D&limit=25');
    expect(pageQuery('', 0)).toBe('');
  });
});

function response(status: number, body: string): Response {
  return new Response(body === '' ? null : body, { status, headers: { 'Content-Type': 'application/json' } });
}

describe('ApiClient', () => {
  it('sends the bearer token and JSON body', async () => {
    const fetchMock = vi.fn(async () => response(201, '{"id":"c1","name":"Contoso"}'));
    const c = new ApiClient({ getToken: () => 'tok', fetch: fetchMock as unknown as typeof fetch });
    const res = await c.createCustomer({ name: 'Contoso', tenantId: 't', publicSector: false });
    expect(res).toMatchObject({ id: 'c1' });
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/customers');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>)['Authorization']).toBe('Bearer tok');
    expect(init.body).toBe('{"name":"Contoso","tenantId":"t","publicSector":false}');
  });

  it('sends no token to /config.json', async () => {
    const fetchMock = vi.fn(async () => response(200, '{"auth":"local"}'));
    const c = new ApiClient({ getToken: () => 'tok', fetch: fetchMock as unknown as typeof fetch });
    expect(await c.config()).toEqual({ auth: 'local' });
    const [, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect((init.headers as Record<string, string>)['Authorization']).toBeUndefined();
  });

  it('throws a typed ApiError and reports 401s', async () => {
    const onUnauthorized = vi.fn();
    const fetchMock = vi.fn(async () => response(401, '{"error":{"code":"unauthorized","message":"token expired"}}'));
    const c = new ApiClient({ getToken: () => 'tok', onUnauthorized, fetch: fetchMock as unknown as typeof fetch });
    await expect(c.me()).rejects.toMatchObject({ status: 401, code: 'unauthorized', message: 'token expired' });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('does not report a 401 from an unauthenticated call', async () => {
    const onUnauthorized = vi.fn();
    const fetchMock = vi.fn(async () => response(401, ''));
    const c = new ApiClient({ getToken: () => null, onUnauthorized, fetch: fetchMock as unknown as typeof fetch });
    await expect(c.devToken({ role: 'viewer', scope: ['*'], name: 'x' })).rejects.toBeInstanceOf(ApiError);
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('turns network errors and bad JSON into ApiErrors', async () => {
    const down = new ApiClient({
      getToken: () => null,
      fetch: (async () => {
        throw new TypeError('Failed to fetch');
      }) as unknown as typeof fetch,
    });
    await expect(down.listCustomers('', 25)).rejects.toMatchObject({ code: 'network', status: 0 });
    const garbled = new ApiClient({ getToken: () => null, fetch: (async () => response(200, 'not json')) as unknown as typeof fetch });
    await expect(garbled.listCustomers('', 25)).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('escapes ids in paths', async () => {
    const fetchMock = vi.fn(async () => response(200, '{"items":[]}'));
    const c = new ApiClient({ getToken: () => null, fetch: fetchMock as unknown as typeof fetch });
    await c.customerSkus('a/b');
    expect((fetchMock.mock.calls[0] as unknown as [string])[0]).toBe('/api/v1/customers/a%2Fb/skus');
  });
});
