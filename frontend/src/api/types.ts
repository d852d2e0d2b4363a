// The SPA's names for the API types (/api/v1). They come from schema.gen.ts, which `npm run gen:api` generates from
// the API's OpenAPI document (shared/httpapi/openapi.yaml): change the document, not these. Only what the document
// does not describe (/config.json and the dev runner's /_dev/token) is written by hand here.

import type { components, operations } from './schema.gen';

type Schemas = components['schemas'];

/** The JSON body of the response with status `S` of operation `Op` (its operationId). */
export type ResponseBody<Op extends keyof operations, S extends keyof operations[Op]['responses']> =
  operations[Op]['responses'][S] extends { content: { 'application/json': infer B } } ? B : never;

/** The JSON request body of operation `Op` (its operationId). */
export type RequestBody<Op extends keyof operations> = operations[Op] extends {
  requestBody: { content: { 'application/json': infer B } };
}
  ? B
  : never;

/** The error envelope every non-2xx API response carries. `fields`: field name (as in the request body) → problem. */
export type ErrorBody = Schemas['Error'];

/** Error codes the API puts in `error.code`. */
export type ApiErrorCode = ErrorBody['error']['code'];

/** `GET /api/v1/health` */
export type Health = ResponseBody<'health', 200>;

/** `GET /api/v1/me`: the signed-in caller; `scope` is `["*"]` for every customer, or the customer ids in scope. */
export type Me = Schemas['Principal'];

export type Role = Me['role'];

/** A customer's sync state; the timestamps (RFC 3339) and errors are absent when it never happened. */
export type SyncState = Schemas['SyncState'];

export type SyncStatus = SyncState['status'];

export type Customer = Schemas['Customer'];

/** `POST /api/v1/customers` body. */
export type CreateCustomerRequest = RequestBody<'createCustomer'>;

export type ServicePlan = Schemas['ServicePlan'];

/** A licence SKU of a customer. `name`: catalogue product name, or the part number; `available` may be negative. */
export type Sku = Schemas['Sku'];

/** `GET /api/v1/customers`: one page; `nextCursor` is "" on the last page. */
export type CustomerPage = ResponseBody<'listCustomers', 200>;

/** `GET /api/v1/skus`: one page; `nextCursor` is "" on the last page. */
export type SkuPage = ResponseBody<'listSkus', 200>;

/** `GET /api/v1/customers/{id}/skus` (not paged). */
export type SkuList = ResponseBody<'customerSkus', 200>;

/** How a sync read the tenant's users: all of them, or the changes since the stored deltaLink. */
export type SyncMode = SyncRun['mode'];

/** `PATCH /api/v1/customers/{id}` body: the new settings and the version they are based on (409 when stale). */
export type CustomerUpdate = RequestBody<'updateCustomer'>;

/** A user of a customer's tenant, with each licence and its add-ons. */
export type User = Schemas['User'];

export type UserStatus = User['status'];

/** One licence (SKU) of a user: direct, via groups (a group's `name` is "" when not known), or both. */
export type UserLicence = Schemas['Licence'];

/** A service plan of a user's licence: an add-on, on (`enabled`) or off (in the licence's disabledPlans). */
export type UserPlan = UserLicence['plans'][number];

export type LicenceGroup = UserLicence['groups'][number];

/** Query of `GET /api/v1/customers/{id}/users`. */
export type UserListQuery = NonNullable<operations['listUsers']['parameters']['query']>;

/** The `filter` of the users list. */
export type UserFilter = NonNullable<UserListQuery['filter']>;

/** `GET /api/v1/customers/{id}/users`: one page; it may be short while nextCursor is non-empty ("" on the last). */
export type UserPage = ResponseBody<'listUsers', 200>;

/** One sync run of a customer. */
export type SyncRun = Schemas['SyncRun'];

export type SyncRunStatus = SyncRun['status'];

/** `GET /api/v1/customers/{id}/syncs`: one page, newest first. */
export type SyncRunPage = ResponseBody<'listSyncRuns', 200>;

/** `POST …/users/{userId}/licences` body: a SKU and the service plans (add-ons) switched off. */
export type AssignLicenceRequest = Schemas['LicenceAssignment'];

/** `PUT …/licences/{skuId}` body: the whole new list of add-ons switched off. */
export type ChangeAddonsRequest = Schemas['AddOnsChange'];

/** The answer of assign, change add-ons and remove: the user as Graph answered, its request-id, notes. */
export type LicenceResult = Schemas['LicenceResult'];

/** `POST …/licences/{skuId}/reassign` body. */
export type ReassignRequest = Schemas['Reassignment'];

/** What a reassignment did (also in the error body of one that stopped after Graph was called). */
export type ReassignResult = Schemas['ReassignResult'];

export type ReassignStep = Schemas['ReassignStep'];

/** What offboarding removed, and the licences kept via groups. */
export type OffboardResult = Schemas['OffboardResult'];

/** A template (service profile): licences with their add-ons off; `version` for optimistic locking. */
export type Template = Schemas['Template'];

/** `POST /customers/{id}/templates` body. */
export type TemplateInput = Schemas['TemplateInput'];

/** `PUT /customers/{id}/templates/{templateId}` body: the template and the version it is based on (409 when stale). */
export type TemplateUpdate = Schemas['TemplateUpdate'];

/** `GET /customers/{id}/templates` (not paged). */
export type TemplateList = ResponseBody<'listTemplates', 200>;

/** `POST …/templates/{templateId}/assign` body. */
export type AssignTemplateRequest = RequestBody<'assignTemplate'>;

/** `POST …/templates/{templateId}/assign`: one result per user, in the order asked, and the totals. */
export type AssignTemplateResult = ResponseBody<'assignTemplate', 200>;

/** One user's outcome of a many-user change: ok, unchanged (had it already) or failed (with why). */
export type BulkResult = Schemas['BulkResult'];

/** One audit record: who, when, what (before → after, any JSON), the outcome, Graph's request-id. */
export type AuditRecord = Schemas['AuditRecord'];

/** `GET /customers/{id}/audit`: one page, newest first. */
export type AuditPage = ResponseBody<'listAudit', 200>;

// ---- Provisioning (issue 6): settings, sites, the number inventory, staging, onboarding.

/** A customer's provisioning settings; `version` 0 while none were saved (the defaults). */
export type Settings = Schemas['Settings'];

/** `PUT /customers/{id}/settings` body: the settings and the version they are based on (409 when stale). */
export type SettingsUpdate = Schemas['SettingsUpdate'];

/** One criterion of a site: a user attribute that must equal value (any letter case). */
export type Criterion = Schemas['Criterion'];

/** Criterion fields of a site. */
export type CriterionField = Criterion['field'];

/** Whether provisioning assigns a number from the site's inventory, and of which type ("" = any). */
export type NumberPolicy = Schemas['NumberPolicy'];

/** A site: the criteria that place users on it, their template and where their number comes from. */
export type Site = Schemas['Site'];

/** `POST /customers/{id}/sites` body. */
export type SiteInput = Schemas['SiteInput'];

/** `PUT /customers/{id}/sites/{siteId}` body: the site and the version it is based on (409 when stale). */
export type SiteUpdate = Schemas['SiteUpdate'];

/** `GET /customers/{id}/sites` (not paged), in placement order. */
export type SiteList = ResponseBody<'listSites', 200>;

/** One number of a customer's inventory. */
export type PhoneNumber = Schemas['Number'];

/** Number types (Graph's numberType). */
export type NumberType = PhoneNumber['type'];

/** Statuses of a number in the inventory. */
export type NumberStatus = PhoneNumber['status'];

/** `GET /customers/{id}/numbers`: one page, by number; it may be short while nextCursor is non-empty. */
export type NumberPage = ResponseBody<'listNumbers', 200>;

type NumberListQuery = NonNullable<operations['listNumbers']['parameters']['query']>;

/** What the SPA asks the numbers list for; an empty value is left out of the request. */
export type NumberQuery = Omit<NumberListQuery, 'status' | 'type'> & { status?: NumberStatus | ''; type?: NumberType | '' };

/** `POST /customers/{id}/numbers` body: one number, or a range from…to. */
export type AddNumbersRequest = Schemas['AddInput'];

/** What adding numbers did: the numbers added and those already in the inventory (left unchanged). */
export type AddNumbersResult = Schemas['AddResult'];

/** What importing the tenant's numbers from Teams did. */
export type ImportNumbersResult = Schemas['ImportResult'];

/** `PATCH /customers/{id}/numbers/{number}` body: the fields to change and the version read. */
export type NumberUpdate = Schemas['NumberUpdate'];

/** A user's staging: waiting to appear in Teams, then provisioned. */
export type Staging = Schemas['Staging'];

export type StagingStatus = Schemas['StagingStatus'];

/** `GET /customers/{id}/staging`: one page, newest staged first (with `users=`: those users' records, no paging). */
export type StagingPage = ResponseBody<'listStaging', 200>;

/** What "Un-stage now" found: ready (and provisioned or failed), or not yet (the user stays staged). */
export type CheckResult = Schemas['CheckResult'];

/** `POST /customers/{id}/onboarding` body. */
export type OnboardRequest = Schemas['OnboardRequest'];

/** One user's result of onboarding: staged, or why not. */
export type OnboardResult = Schemas['OnboardResult'];

/** `POST /customers/{id}/onboarding` answer: one result per user, in the order asked. */
export type OnboardResponse = ResponseBody<'onboardUsers', 200>;

/** The `provisioning` block of `GET /customers/{id}/users/{userId}`: the user's site and number, and staging. */
export type UserProvisioning = Schemas['UserProvisioning'];

// ---- Not in the OpenAPI document: served by the SPA's host (S3 in AWS) or the local dev runner only.

/**
 * `GET /config.json` (always on the SPA's own origin): how the SPA signs people in and where the API is.
 * Locally the dev runner serves the API on the SPA's origin; in AWS the API is on API Gateway's own URL, `apiUrl`.
 */
export type AuthConfig =
  | { auth: 'local'; apiUrl?: string }
  | {
      auth: 'cognito';
      region: string;
      userPoolId: string;
      clientId: string;
      /** Hosted UI domain, e.g. `seatwise-prod.auth.eu-west-1.amazoncognito.com`. */
      domain: string;
      /** Origin the `/api/v1/...` requests go to, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com`; same origin when absent. */
      apiUrl?: string;
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
