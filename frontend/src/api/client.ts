// Typed fetch wrapper for the Seatwise API. Every failure, including network errors and
// malformed responses, surfaces as an ApiError; nothing opaque is thrown.
//
// /config.json (and the dev runner's /_dev/token) are always fetched from the SPA's own origin; /api/... requests go
// to the config's `apiUrl` when it has one (in AWS: API Gateway's URL; locally: none, the same origin).

import type {
  ApiErrorCode,
  AuthConfig,
  CreateCustomerRequest,
  Customer,
  CustomerPage,
  CustomerUpdate,
  DevTokenRequest,
  DevTokenResponse,
  Me,
  SkuList,
  SkuPage,
  SyncRunPage,
  User,
  UserFilter,
  UserListQuery,
  UserPage,
} from './types';

/** Codes of ApiError: the API's own, plus `network` (no response) and `bad_response` (unreadable response). */
export type ClientErrorCode = ApiErrorCode | 'network' | 'bad_response' | 'aborted';

// A Record so that a code added to the OpenAPI document fails the type check until it is listed here.
const apiCodes: Record<ApiErrorCode, true> = {
  invalid: true,
  not_found: true,
  conflict: true,
  forbidden: true,
  unauthorized: true,
  upstream: true,
  throttled: true,
  internal: true,
};
const API_CODES: ReadonlySet<string> = new Set(Object.keys(apiCodes));

/** A failed API call: HTTP status (0 when there was no response), code, message and per-field messages. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ClientErrorCode;
  readonly fields: Readonly<Record<string, string>>;
  /** The whole JSON error body, for routes that say more than the envelope (a reassignment's steps). */
  readonly body: unknown;

  constructor(status: number, code: ClientErrorCode, message: string, fields: Record<string, string> = {}, body?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.body = body;
  }

  /** The message for one field, or undefined. */
  field(name: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.fields, name) ? this.fields[name] : undefined;
  }
}

/** The code to use when a response has no readable error envelope. */
export function codeForStatus(status: number): ApiErrorCode {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return 'invalid';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
    case 412:
      return 'conflict';
    case 429:
      return 'throttled';
    case 502:
    case 503:
    case 504:
      return 'upstream';
    default:
      return 'internal';
  }
}

/**
 * Builds an ApiError from a non-2xx status and its body text. A body of the form
 * `{"error":{"code","message","fields"}}` is used as is; anything else falls back to the status.
 */
export function parseApiError(status: number, statusText: string, bodyText: string): ApiError {
  const fallbackCode = codeForStatus(status);
  const fallbackMessage = `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  let body: unknown;
  try {
    body = bodyText ? JSON.parse(bodyText) : undefined;
  } catch {
    body = undefined;
  }
  const err = isObject(body) ? body['error'] : undefined;
  if (!isObject(err)) {
    return new ApiError(status, fallbackCode, fallbackMessage);
  }
  const rawCode = err['code'];
  const code: ClientErrorCode =
    typeof rawCode === 'string' && API_CODES.has(rawCode) ? (rawCode as ApiErrorCode) : fallbackCode;
  const rawMessage = err['message'];
  const message = typeof rawMessage === 'string' && rawMessage.trim() !== '' ? rawMessage : fallbackMessage;
  const fields: Record<string, string> = {};
  const rawFields = err['fields'];
  if (isObject(rawFields)) {
    for (const [k, v] of Object.entries(rawFields)) {
      if (typeof v === 'string') fields[k] = v;
      else if (v != null) fields[k] = String(v);
    }
  }
  return new ApiError(status, code, message, fields, body);
}

/** Turns anything thrown into an ApiError. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof DOMException && e.name === 'AbortError') {
    return new ApiError(0, 'aborted', 'request cancelled');
  }
  const detail = e instanceof Error ? e.message : String(e);
  return new ApiError(0, 'network', `cannot reach the server (${detail})`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks the `apiUrl` of /config.json and returns it without trailing slashes, or "" when there is none (the API is on
 * the SPA's origin). It must be an absolute http(s) URL without query or fragment.
 */
export function normaliseApiUrl(raw: unknown): string {
  if (raw === undefined || raw === null || raw === '') return '';
  const bad = (why: string): ApiError =>
    new ApiError(0, 'bad_response', `config.json: apiUrl ${why} (got ${JSON.stringify(raw)})`);
  if (typeof raw !== 'string') throw bad('must be a string');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw bad('must be an absolute URL such as https://abc123.execute-api.eu-west-1.amazonaws.com');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw bad('must be an http(s) URL');
  if (u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '') {
    throw bad('must have no query, fragment or credentials');
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/**
 * Checks the body of /config.json: `auth` is "local" or "cognito" (which needs region, userPoolId, clientId and
 * domain), and `apiUrl`, when present, is a usable URL. Throws an ApiError (`bad_response`) otherwise.
 */
export function parseAuthConfig(raw: unknown): AuthConfig {
  const bad = (why: string): ApiError => new ApiError(0, 'bad_response', `config.json: ${why}`);
  if (!isObject(raw)) throw bad('not a JSON object');
  const apiUrl = normaliseApiUrl(raw['apiUrl']);
  const withApi = apiUrl ? { apiUrl } : {};
  const auth = raw['auth'];
  if (auth === 'local') return { auth, ...withApi };
  if (auth === 'cognito') {
    const str = (k: string): string => {
      const v = raw[k];
      if (typeof v !== 'string' || v.trim() === '') throw bad(`cognito sign-in needs a non-empty "${k}"`);
      return v.trim();
    };
    return {
      auth,
      region: str('region'),
      userPoolId: str('userPoolId'),
      clientId: str('clientId'),
      domain: str('domain'),
      ...withApi,
    };
  }
  throw bad(`unknown sign-in method ${JSON.stringify(auth)}`);
}

export interface ClientOptions {
  /** Returns the bearer token, or null when signed out. */
  getToken: () => string | null;
  /** Called once for every 401 from an authenticated call. */
  onUnauthorized?: (err: ApiError) => void;
  /** fetch to use (tests); defaults to the global one. */
  fetch?: typeof fetch;
}

/** Options of ApiClient.send: a body sent as it is (a file) with its type, and the response type wanted. */
export interface SendOptions {
  body?: Blob | string;
  /** The body's Content-Type. */
  contentType?: string;
  /** The Accept header (default application/json). */
  accept?: string;
  signal?: AbortSignal;
}

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
  /** Send the bearer token (default true). */
  auth?: boolean;
}

/** Query string of a paged list request; empty values are left out. */
export function pageQuery(cursor: string, limit: number): string {
  const q = new URLSearchParams();
  if (cursor) q.set('cursor', cursor);
  if (limit > 0) q.set('limit', String(limit));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** What the SPA asks the users list for; an empty filter (or search, licence, cursor) is left out of the request. */
export type UserQuery = Omit<UserListQuery, 'filter'> & { filter?: UserFilter | '' };

/** Query string of `GET /customers/{id}/users`: trimmed `q`, empty values left out, always in the same order. */
export function usersQuery(uq: UserQuery): string {
  const q = new URLSearchParams();
  if (uq.cursor) q.set('cursor', uq.cursor);
  if (uq.limit !== undefined && uq.limit > 0) q.set('limit', String(Math.trunc(uq.limit)));
  const text = (uq.q ?? '').trim();
  if (text) q.set('q', text);
  if (uq.sku) q.set('sku', uq.sku);
  if (uq.filter) q.set('filter', uq.filter);
  const s = q.toString();
  return s ? `?${s}` : '';
}

const customerPath = (id: string): string => `/api/v1/customers/${encodeURIComponent(id)}`;

/** The Seatwise API. */
export class ApiClient {
  private readonly opts: ClientOptions;
  /** Prefix of /api/... requests: "" (same origin) until a config with an apiUrl is loaded. */
  private apiBase = '';

  constructor(opts: ClientOptions) {
    this.opts = opts;
  }

  /** Sends later /api/... requests to the config's apiUrl (same origin when it has none). */
  useConfig(cfg: AuthConfig): void {
    this.apiBase = normaliseApiUrl(cfg.apiUrl);
  }

  /** The URL a request path is fetched from: /api/... under the configured apiUrl, anything else same-origin. */
  url(path: string): string {
    return this.apiBase !== '' && path.startsWith('/api/') ? `${this.apiBase}${path}` : path;
  }

  /** Performs one request and returns the parsed JSON body; throws only ApiError. */
  async request<T>(method: string, path: string, ro: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const useAuth = ro.auth !== false;
    if (useAuth) {
      const token = this.opts.getToken();
      if (token) headers['Authorization'] = `Bearer ${token}`;
    }
    let payload: string | undefined;
    if (ro.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(ro.body);
    }
    const f = this.opts.fetch ?? globalThis.fetch.bind(globalThis);
    let res: Response;
    let text: string;
    try {
      res = await f(this.url(path), { method, headers, body: payload, signal: ro.signal, cache: 'no-store' });
      text = await res.text();
    } catch (e) {
      throw toApiError(e);
    }
    if (!res.ok) {
      const err = parseApiError(res.status, res.statusText, text);
      if (res.status === 401 && useAuth) this.opts.onUnauthorized?.(err);
      throw err;
    }
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.status, 'bad_response', `the server sent a response that is not JSON (HTTP ${res.status})`);
    }
  }

  /** Fetches /config.json from the SPA's origin, checks it and sends later /api/... requests to its apiUrl. */
  async loadConfig(signal?: AbortSignal): Promise<AuthConfig> {
    const cfg = parseAuthConfig(await this.request<unknown>('GET', '/config.json', { auth: false, signal }));
    this.useConfig(cfg);
    return cfg;
  }

  devToken(req: DevTokenRequest): Promise<DevTokenResponse> {
    return this.request<DevTokenResponse>('POST', '/_dev/token', { auth: false, body: req });
  }

  me(signal?: AbortSignal): Promise<Me> {
    return this.request<Me>('GET', '/api/v1/me', { signal });
  }

  listCustomers(cursor: string, limit: number, signal?: AbortSignal): Promise<CustomerPage> {
    return this.request<CustomerPage>('GET', `/api/v1/customers${pageQuery(cursor, limit)}`, { signal });
  }

  createCustomer(req: CreateCustomerRequest): Promise<Customer> {
    return this.request<Customer>('POST', '/api/v1/customers', { body: req });
  }

  getCustomer(id: string, signal?: AbortSignal): Promise<Customer> {
    return this.request<Customer>('GET', customerPath(id), { signal });
  }

  syncCustomer(id: string): Promise<Customer> {
    return this.request<Customer>('POST', `${customerPath(id)}/sync`);
  }

  /** Changes a customer's settings; 409 conflict when `version` is not the current one. */
  updateCustomer(id: string, req: CustomerUpdate): Promise<Customer> {
    return this.request<Customer>('PATCH', customerPath(id), { body: req });
  }

  /** One page of a customer's users; it may be short (even empty) while nextCursor is non-empty. */
  listUsers(id: string, query: UserQuery, signal?: AbortSignal): Promise<UserPage> {
    return this.request<UserPage>('GET', `${customerPath(id)}/users${usersQuery(query)}`, { signal });
  }

  getUser(id: string, userId: string, signal?: AbortSignal): Promise<User> {
    return this.request<User>('GET', `${customerPath(id)}/users/${encodeURIComponent(userId)}`, { signal });
  }

  /** One page of a customer's sync runs, newest first. */
  listSyncs(id: string, cursor: string, limit: number, signal?: AbortSignal): Promise<SyncRunPage> {
    return this.request<SyncRunPage>('GET', `${customerPath(id)}/syncs${pageQuery(cursor, limit)}`, { signal });
  }

  customerSkus(id: string, signal?: AbortSignal): Promise<SkuList> {
    return this.request<SkuList>('GET', `${customerPath(id)}/skus`, { signal });
  }

  listSkus(cursor: string, limit: number, signal?: AbortSignal): Promise<SkuPage> {
    return this.request<SkuPage>('GET', `/api/v1/skus${pageQuery(cursor, limit)}`, { signal });
  }

  /**
   * Performs one authenticated request whose body is sent as it is (an uploaded file), and returns the response with
   * its body unread (JSON, or a file to download). No response, or a non-2xx one, throws an ApiError as request() does.
   */
  async send(method: string, path: string, so: SendOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { Accept: so.accept ?? 'application/json' };
    const token = this.opts.getToken();
    if (token) headers['Authorization'] = `Bearer ${token}`;
    if (so.body !== undefined && so.contentType) headers['Content-Type'] = so.contentType;
    const f = this.opts.fetch ?? globalThis.fetch.bind(globalThis);
    let res: Response;
    try {
      res = await f(this.url(path), { method, headers, body: so.body, signal: so.signal, cache: 'no-store' });
    } catch (e) {
      throw toApiError(e);
    }
    if (!res.ok) {
      let text = '';
      try {
        text = await res.text();
      } catch {
        // the status says enough
      }
      const err = parseApiError(res.status, res.statusText, text);
      if (res.status === 401) this.opts.onUnauthorized?.(err);
      throw err;
    }
    return res;
  }
}
