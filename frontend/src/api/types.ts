// API types, written by hand to match the HTTP API contract (/api/v1).
// A later issue generates these from the OpenAPI document; keep the names stable.

/** Error codes the API puts in `error.code`. */
export type ApiErrorCode =
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'forbidden'
  | 'unauthorized'
  | 'upstream'
  | 'throttled'
  | 'internal';

/** The error envelope every non-2xx API response carries. */
export interface ErrorBody {
  error: {
    code: ApiErrorCode;
    message: string;
    /** Field name (as in the request body) → what is wrong with it. */
    fields?: Record<string, string>;
  };
}

/** `GET /api/v1/health` */
export interface Health {
  status: 'ok';
  version: string;
}

export type Role = 'provider-admin' | 'customer-admin' | 'viewer';

/** `GET /api/v1/me` */
export interface Me {
  subject: string;
  name: string;
  role: Role;
  /** `["*"]` for every customer, or the customer ids in scope. */
  scope: string[];
}

export type SyncStatus = 'never' | 'queued' | 'running' | 'ok' | 'failed';

export interface SyncState {
  status: SyncStatus;
  /** RFC 3339 timestamps; absent, empty or null when it never happened. */
  lastAttemptAt?: string | null;
  lastSuccessAt?: string | null;
  lastError?: string | null;
  lastErrorCode?: string | null;
  skuCount?: number;
}

export interface Customer {
  id: string;
  name: string;
  tenantId: string;
  publicSector: boolean;
  createdAt: string;
  version: number;
  sync: SyncState;
}

/** `POST /api/v1/customers` body. */
export interface CreateCustomerRequest {
  name: string;
  tenantId: string;
  publicSector: boolean;
}

export interface ServicePlan {
  id: string;
  name: string;
  friendlyName: string;
  provisioningStatus: string;
}

export interface Sku {
  customerId: string;
  customerName: string;
  skuId: string;
  partNumber: string;
  /** Catalogue product name, or the part number when the SKU is not in the catalogue. */
  name: string;
  active: number;
  used: number;
  /** active − used; may be negative. */
  available: number;
  suspended: number;
  warning: number;
  capabilityStatus: string;
  appliesTo: string;
  servicePlans: ServicePlan[];
  updatedAt: string;
}

/** A page of a server-side paged list. `nextCursor` is "" on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string;
}

/** `GET /api/v1/customers/{id}/skus` (not paged). */
export interface ItemList<T> {
  items: T[];
}

/** `GET /config.json`: how the SPA signs people in. */
export type AuthConfig =
  | { auth: 'local' }
  | {
      auth: 'cognito';
      region: string;
      userPoolId: string;
      clientId: string;
      /** Hosted UI domain, e.g. `seatwise-prod.auth.eu-west-1.amazoncognito.com`. */
      domain: string;
    };

/** `POST /_dev/token` body (local dev runner only). */
export interface DevTokenRequest {
  role: Role;
  scope: string[];
  name: string;
}

/** `POST /_dev/token` response. */
export interface DevTokenResponse {
  token: string;
}
