// Sign-in state: the bearer token in sessionStorage, the local dev sign-in and the Cognito hosted UI.

import type { AuthConfig } from './api/types';

const TOKEN_KEY = 'seatwise.token';
const STATE_KEY = 'seatwise.oauthState';
const RETURN_KEY = 'seatwise.returnTo';

/** A Storage-like object (sessionStorage in the browser, a map in tests). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Reads the `exp` claim (seconds) of a JWT without verifying it; null when there is none. */
export function jwtExpiry(token: string): number | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = JSON.parse(atob(b64.padEnd(b64.length + ((4 - (b64.length % 4)) % 4), '='))) as unknown;
    if (typeof json === 'object' && json !== null && typeof (json as { exp?: unknown }).exp === 'number') {
      return (json as { exp: number }).exp;
    }
  } catch {
    // not a JWT we can read: let the API decide
  }
  return null;
}

/** The stored token, or null when there is none or it has expired. */
export function getToken(store: KeyValueStore, nowMs: number = Date.now()): string | null {
  const t = store.getItem(TOKEN_KEY);
  if (!t) return null;
  const exp = jwtExpiry(t);
  if (exp !== null && exp * 1000 <= nowMs) {
    store.removeItem(TOKEN_KEY);
    return null;
  }
  return t;
}

export function setToken(store: KeyValueStore, token: string): void {
  store.setItem(TOKEN_KEY, token);
}

export function clearToken(store: KeyValueStore): void {
  store.removeItem(TOKEN_KEY);
}

/** Remembers the route to return to after signing in. */
export function setReturnTo(store: KeyValueStore, route: string): void {
  store.setItem(RETURN_KEY, route);
}

/** Takes (and forgets) the route to return to after signing in. */
export function takeReturnTo(store: KeyValueStore): string | null {
  const r = store.getItem(RETURN_KEY);
  store.removeItem(RETURN_KEY);
  return r;
}

type CognitoConfig = Extract<AuthConfig, { auth: 'cognito' }>;

function hostedUiBase(cfg: CognitoConfig): string {
  const domain = cfg.domain.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  return `https://${domain}`;
}

/** The Cognito hosted UI login URL (implicit grant; the id token comes back in the URL fragment). */
export function cognitoLoginUrl(cfg: CognitoConfig, origin: string, state: string): string {
  const q = new URLSearchParams({
    response_type: 'token',
    client_id: cfg.clientId,
    redirect_uri: `${origin}/`,
    scope: 'openid email profile',
    state,
  });
  return `${hostedUiBase(cfg)}/login?${q.toString()}`;
}

/** The Cognito hosted UI logout URL (returns to the app's origin). */
export function cognitoLogoutUrl(cfg: CognitoConfig, origin: string): string {
  const q = new URLSearchParams({ client_id: cfg.clientId, logout_uri: `${origin}/` });
  return `${hostedUiBase(cfg)}/logout?${q.toString()}`;
}

/** Starts a Cognito sign-in: remembers a random state and returns the URL to go to. */
export function beginCognitoLogin(store: KeyValueStore, cfg: CognitoConfig, origin: string): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  const state = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  store.setItem(STATE_KEY, state);
  return cognitoLoginUrl(cfg, origin, state);
}

export type CallbackResult =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  | { kind: 'error'; message: string };

/**
 * Reads a Cognito redirect fragment (`#id_token=…&access_token=…&state=…` or `#error=…`). The token kept is the
 * ID token: API Gateway's JWT authorizer checks the `aud` claim against the app client id, which only ID tokens
 * carry (Cognito access tokens have `client_id` instead). It is accepted only when its state matches the one this
 * tab sent.
 */
export function readCallback(hash: string, store: KeyValueStore): CallbackResult {
  const frag = hash.replace(/^#/, '');
  if (!/(^|&)(id_token|access_token|error)=/.test(frag)) return { kind: 'none' };
  const p = new URLSearchParams(frag);
  const expected = store.getItem(STATE_KEY);
  store.removeItem(STATE_KEY);
  const err = p.get('error');
  if (err) return { kind: 'error', message: p.get('error_description') || err };
  const token = p.get('id_token');
  if (!token) return { kind: 'error', message: 'the sign-in response has no id token' };
  if (!expected || p.get('state') !== expected) {
    return { kind: 'error', message: 'the sign-in response does not match a sign-in started here; try again' };
  }
  return { kind: 'token', token };
}
