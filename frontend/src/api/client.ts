// Typed fetch wrapper for the Seatwise API. Every failure, including network errors and
// malformed responses, surfaces as an ApiError; nothing opaque is thrown.

import type {
  ApiErrorCode,
  AuthConfig,
  CreateCustomerRequest,
  Customer,
  DevTokenRequest,
  DevTokenResponse,
  ItemList,
  Me,
  Page,
  Sku,
} from './types';

/** Codes of ApiError: the API's own, plus `network` (no response) and `bad_response` (unreadable response). */
export type ClientErrorCode = ApiErrorCode | 'network' | 'bad_response' | 'aborted';

const API_CODES: ReadonlySet<string> = new Set<ApiErrorCode>([
  'invalid',
  'not_found',
  'conflict',
  'forbidden',
  'unauthorized',
  'upstream',
  'throttled',
  'internal',
]);

/** A failed API call: HTTP status (0 when there was no response), code, message and per-field messages. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ClientErrorCode;
  readonly fields: Readonly<Record<string, string>>;

  constructor(status: number, code: ClientErrorCode, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
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
  return new ApiError(status, code, message, fields);
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

export interface ClientOptions {
  /** Returns the bearer token, or null when signed out. */
  getToken: () => string | null;
  /** Called once for every 401 from an authenticated call. */
  onUnauthorized?: (err: ApiError) => void;
  /** fetch to use (tests); defaults to the global one. */
  fetch?: typeof fetch;
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

/** The Seatwise API. */
export class ApiClient {
  private readonly opts: ClientOptions;

  constructor(opts: ClientOptions) {
    this.opts = opts;
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
      res = await f(path, { method, headers, body: payload, signal: ro.signal, cache: 'no-store' });
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

  config(signal?: AbortSignal): Promise<AuthConfig> {
    return this.request<AuthConfig>('GET', '/config.json', { auth: false, signal });
  }

  devToken(req: DevTokenRequest): Promise<DevTokenResponse> {
    return this.request<DevTokenResponse>('POST', '/_dev/token', { auth: false, body: req });
  }

  me(signal?: AbortSignal): Promise<Me> {
    return this.request<Me>('GET', '/api/v1/me', { signal });
  }

  listCustomers(cursor: string, limit: number, signal?: AbortSignal): Promise<Page<Customer>> {
    return this.request<Page<Customer>>('GET', `/api/v1/customers${pageQuery(cursor, limit)}`, { signal });
  }

  createCustomer(req: CreateCustomerRequest): Promise<Customer> {
    return this.request<Customer>('POST', '/api/v1/customers', { body: req });
  }

  getCustomer(id: string, signal?: AbortSignal): Promise<Customer> {
    return this.request<Customer>('GET', `/api/v1/customers/${encodeURIComponent(id)}`, { signal });
  }

  syncCustomer(id: string): Promise<Customer> {
    return this.request<Customer>('POST', `/api/v1/customers/${encodeURIComponent(id)}/sync`);
  }

  customerSkus(id: string, signal?: AbortSignal): Promise<ItemList<Sku>> {
    return this.request<ItemList<Sku>>('GET', `/api/v1/customers/${encodeURIComponent(id)}/skus`, { signal });
  }

  listSkus(cursor: string, limit: number, signal?: AbortSignal): Promise<Page<Sku>> {
    return this.request<Page<Sku>>('GET', `/api/v1/skus${pageQuery(cursor, limit)}`, { signal });
  }
}
