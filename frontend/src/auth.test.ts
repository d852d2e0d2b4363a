import { describe, expect, it } from 'vitest';
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
  it('reports errors and ignores ordinary routes', () => {
    const s = memStore();
    expect(readCallback('#/customers', s)).toEqual({ kind: 'none' });
    expect(readCallback('#error=access_denied&error_description=nope', s)).toEqual({ kind: 'error', message: 'nope' });
  });
});
