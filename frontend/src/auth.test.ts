import { describe, expect, it, vi } from 'vitest';
import { ApiClient } from './api/client';
import { beginCognitoLogin, clearToken, cognitoLoginUrl, getToken, jwtExpiry, readCallback, setToken, type KeyValueStore } from './auth';

function memStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

const b64url = (o: unknown): string => btoa(JSON.stringify(o)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const jwt = (claims: unknown): string => `${b64url({ alg: 'none' })}.${b64url(claims)}.sig`;

const cognito = { auth: 'cognito' as const, region: 'eu-west-1', userPoolId: 'eu-west-1_x', clientId: 'abc', domain: 'seatwise.auth.eu-west-1.amazoncognito.com' };

describe('tokens', () => {
  it('stores, reads and clears a token', () => {
    const s = memStore();
    expect(getToken(s)).toBeNull();
    setToken(s, 'opaque');
    expect(getToken(s)).toBe('opaque');
    clearToken(s);
    expect(getToken(s)).toBeNull();
  });
  it('drops an expired JWT', () => {
    const s = memStore();
    setToken(s, jwt({ exp: 100 }));
    expect(jwtExpiry(jwt({ exp: 100 }))).toBe(100);
    expect(getToken(s, 99_000)).not.toBeNull();
    expect(getToken(s, 100_000)).toBeNull();
    expect(s.data.size).toBe(0);
  });
});

describe('cognito', () => {
  it('builds the hosted UI URL', () => {
    const u = new URL(cognitoLoginUrl(cognito, 'https://app.example.com', 'st'));
    expect(u.origin).toBe('https://seatwise.auth.eu-west-1.amazoncognito.com');
    expect(u.pathname).toBe('/login');
    expect(u.searchParams.get('response_type')).toBe('token');
    expect(u.searchParams.get('client_id')).toBe('abc');
    expect(u.searchParams.get('redirect_uri')).toBe('https://app.example.com/');
    expect(u.searchParams.get('state')).toBe('st');
    // Cognito returns an ID token in the implicit flow only when openid is asked for.
    expect(u.searchParams.get('scope')?.split(' ')).toContain('openid');
  });
  it('accepts the id token only with the state it sent', () => {
    const s = memStore();
    const url = new URL(beginCognitoLogin(s, cognito, 'https://app.example.com'));
    const state = url.searchParams.get('state') ?? '';
    expect(state).toMatch(/^[0-9a-f]{32}$/);
    expect(readCallback(`#id_token=tok&access_token=a&state=${state}`, s)).toEqual({ kind: 'token', token: 'tok' });
    // state is single-use
    expect(readCallback(`#id_token=tok&state=${state}`, s).kind).toBe('error');
  });
  it('does not take an access token for the id token', () => {
    const s = memStore();
    const state = new URL(beginCognitoLogin(s, cognito, 'https://app.example.com')).searchParams.get('state') ?? '';
    expect(readCallback(`#access_token=a&token_type=Bearer&state=${state}`, s)).toEqual({
      kind: 'error',
      message: 'the sign-in response has no id token',
    });
  });
  it('sends the id token of the redirect as the bearer token', async () => {
    const s = memStore();
    const state = new URL(beginCognitoLogin(s, cognito, 'https://app.example.com')).searchParams.get('state') ?? '';
    const idToken = jwt({ token_use: 'id', aud: 'abc', exp: 4_102_444_800 });
    const accessToken = jwt({ token_use: 'access', client_id: 'abc', exp: 4_102_444_800 });
    const cb = readCallback(`#access_token=${accessToken}&id_token=${idToken}&token_type=Bearer&expires_in=3600&state=${state}`, s);
    expect(cb).toEqual({ kind: 'token', token: idToken });
    if (cb.kind === 'token') setToken(s, cb.token);
    const fetchMock = vi.fn(async () => new Response('{}', { status: 200 }));
    const api = new ApiClient({ getToken: () => getToken(s), fetch: fetchMock as unknown as typeof fetch });
    api.useConfig({ ...cognito, apiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com' });
    await api.me();
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/api/v1/me');
    expect((init.headers as Record<string, string>)['Authorization']).toBe(`Bearer ${idToken}`);
  });
  it('reports errors and ignores ordinary routes', () => {
    const s = memStore();
    expect(readCallback('#/customers', s)).toEqual({ kind: 'none' });
    expect(readCallback('#error=access_denied&error_description=nope', s)).toEqual({ kind: 'error', message: 'nope' });
  });
});
