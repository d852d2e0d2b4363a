import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, codeForStatus, normaliseApiUrl, pageQuery, parseApiError, parseAuthConfig, toApiError, usersQuery } from './client';

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
    expect(await c.loadConfig()).toEqual({ auth: 'local' });
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

const API = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
const cognitoConfig = {
  auth: 'cognito',
  region: 'eu-west-1',
  userPoolId: 'eu-west-1_AbC',
  clientId: 'client1',
  domain: 'seatwise-prod-123456789012.auth.eu-west-1.amazoncognito.com',
  apiUrl: API,
};

describe('normaliseApiUrl', () => {
  it('is empty when there is no apiUrl', () => {
    expect(normaliseApiUrl(undefined)).toBe('');
    expect(normaliseApiUrl(null)).toBe('');
    expect(normaliseApiUrl('')).toBe('');
  });
  it('keeps an absolute URL without its trailing slashes', () => {
    expect(normaliseApiUrl(API)).toBe(API);
    expect(normaliseApiUrl(`${API}/`)).toBe(API);
    expect(normaliseApiUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(normaliseApiUrl('https://api.example.com/stage//')).toBe('https://api.example.com/stage');
  });
  it('rejects what cannot be a base URL', () => {
    for (const bad of ['abc123.execute-api.eu-west-1.amazonaws.com', '/api', 'ftp://x.example.com', `${API}?x=1`, `${API}#f`, 42]) {
      expect(() => normaliseApiUrl(bad), String(bad)).toThrow(ApiError);
    }
    expect(() => normaliseApiUrl('nope')).toThrow(/config.json: apiUrl must be an absolute URL/);
  });
});

describe('parseAuthConfig', () => {
  it('accepts local and cognito configs', () => {
    expect(parseAuthConfig({ auth: 'local' })).toEqual({ auth: 'local' });
    expect(parseAuthConfig(cognitoConfig)).toEqual(cognitoConfig);
    expect(parseAuthConfig({ ...cognitoConfig, apiUrl: `${API}/` })).toEqual(cognitoConfig);
    const { apiUrl: _, ...sameOrigin } = cognitoConfig;
    expect(parseAuthConfig(sameOrigin)).toEqual(sameOrigin);
  });
  it('rejects broken configs', () => {
    expect(() => parseAuthConfig([])).toThrow(/not a JSON object/);
    expect(() => parseAuthConfig({ auth: 'saml' })).toThrow(/unknown sign-in method "saml"/);
    expect(() => parseAuthConfig({ ...cognitoConfig, clientId: '' })).toThrow(/"clientId"/);
    expect(() => parseAuthConfig({ ...cognitoConfig, apiUrl: 'execute-api' })).toThrow(/apiUrl/);
    expect(() => parseAuthConfig({ auth: 'cognito' })).toThrow(ApiError);
  });
});

describe('ApiClient with an apiUrl', () => {
  const urls = (m: ReturnType<typeof vi.fn>): string[] => m.mock.calls.map((c) => String((c as unknown[])[0]));

  it('sends /api requests to the apiUrl of /config.json and keeps /config.json on the SPA origin', async () => {
    const fetchMock = vi.fn(async (url: string) =>
      url === '/config.json' ? response(200, JSON.stringify({ ...cognitoConfig, apiUrl: `${API}/` })) : response(200, '{"items":[],"nextCursor":""}'),
    );
    const c = new ApiClient({ getToken: () => 'id-token', fetch: fetchMock as unknown as typeof fetch });
    expect(c.url('/api/v1/me')).toBe('/api/v1/me');
    expect(await c.loadConfig()).toEqual(cognitoConfig);
    await c.listCustomers('', 25);
    await c.customerSkus('a/b');
    expect(urls(fetchMock)).toEqual(['/config.json', `${API}/api/v1/customers?limit=25`, `${API}/api/v1/customers/a%2Fb/skus`]);
    const [, init] = fetchMock.mock.calls[1] as unknown as [string, RequestInit];
    expect((init.headers as Record<string, string>)['Authorization']).toBe('Bearer id-token');
    // Only /api/... moves: the config and the dev token stay on the SPA's origin.
    expect(c.url('/config.json')).toBe('/config.json');
    expect(c.url('/_dev/token')).toBe('/_dev/token');
  });

  it('stays on the SPA origin when the config has no apiUrl', async () => {
    const fetchMock = vi.fn(async (url: string) => (url === '/config.json' ? response(200, '{"auth":"local"}') : response(200, '{}')));
    const c = new ApiClient({ getToken: () => null, fetch: fetchMock as unknown as typeof fetch });
    c.useConfig(cognitoConfig as Parameters<ApiClient['useConfig']>[0]);
    expect(c.url('/api/v1/me')).toBe(`${API}/api/v1/me`);
    await c.loadConfig(); // a config without apiUrl resets to the same origin
    await c.me();
    expect(urls(fetchMock)).toEqual(['/config.json', '/api/v1/me']);
  });

  it('reports a config.json that is not usable as an ApiError', async () => {
    const fetchMock = vi.fn(async () => response(200, JSON.stringify({ ...cognitoConfig, apiUrl: 'not a url' })));
    const c = new ApiClient({ getToken: () => null, fetch: fetchMock as unknown as typeof fetch });
    await expect(c.loadConfig()).rejects.toMatchObject({ code: 'bad_response', message: expect.stringMatching(/apiUrl/) });
    expect(c.url('/api/v1/me')).toBe('/api/v1/me');
  });
});

describe('usersQuery', () => {
  it('leaves out empty values', () => {
    expect(usersQuery({})).toBe('');
    expect(usersQuery({ cursor: '', limit: 0, q: '   ', sku: '', filter: '' })).toBe('');
  });
  it('sends cursor, limit, trimmed q, sku and filter in order', () => {
    expect(usersQuery({ filter: 'errors', sku: 'abc', q: ' Ada L ', limit: 25, cursor: 'c/1=' })).toBe(
      '?cursor=c%2F1%3D&limit=25&q=Ada+L&sku=abc&filter=errors',
    );
    expect(usersQuery({ q: 'adele.v@contoso' })).toBe('?q=adele.v%40contoso');
    expect(usersQuery({ limit: 12.7 })).toBe('?limit=12');
  });
});

describe('ApiClient users routes', () => {
  it('builds the paths and bodies of the issue 4 routes', async () => {
    const calls: { url: string; method: string; body: unknown }[] = [];
    const f = vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, method: String(init.method), body: init.body ? JSON.parse(String(init.body)) : undefined });
      return new Response('{}', { status: 200 });
    });
    const api = new ApiClient({ getToken: () => 't', fetch: f as unknown as typeof fetch });
    await api.listUsers('c 1', { q: 'ad', filter: 'disabled', limit: 25 });
    await api.getUser('c1', 'u/1');
    await api.listSyncs('c1', 'x', 20);
    await api.updateCustomer('c1', { syncIntervalMinutes: 60, version: 3 });
    expect(calls).toEqual([
      { url: '/api/v1/customers/c%201/users?limit=25&q=ad&filter=disabled', method: 'GET', body: undefined },
      { url: '/api/v1/customers/c1/users/u%2F1', method: 'GET', body: undefined },
      { url: '/api/v1/customers/c1/syncs?cursor=x&limit=20', method: 'GET', body: undefined },
      { url: '/api/v1/customers/c1', method: 'PATCH', body: { syncIntervalMinutes: 60, version: 3 } },
    ]);
  });
});
