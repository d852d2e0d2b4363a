// The provisioning calls of the Seatwise API (issue 6): settings, sites, the number inventory, staging and
// onboarding, on top of ApiClient.request (so the shared client stays small).

import type { ApiClient } from './client';
import type {
  AddNumbersRequest,
  AddNumbersResult,
  CheckResult,
  ImportNumbersResult,
  NumberPage,
  NumberQuery,
  NumberUpdate,
  OnboardRequest,
  OnboardResponse,
  PhoneNumber,
  Settings,
  SettingsUpdate,
  Site,
  SiteInput,
  SiteList,
  SiteUpdate,
  Staging,
  StagingPage,
} from './types';

const customerPath = (id: string): string => `/api/v1/customers/${encodeURIComponent(id)}`;
const sitePath = (id: string, siteId: string): string => `${customerPath(id)}/sites/${encodeURIComponent(siteId)}`;
// encodeURIComponent turns the number's "+" into %2B, which the API accepts.
const numberPath = (id: string, number: string): string => `${customerPath(id)}/numbers/${encodeURIComponent(number)}`;
const stagingPath = (id: string, userId: string): string => `${customerPath(id)}/staging/${encodeURIComponent(userId)}`;

/** A query string of the non-empty values, in the order given ("" when none). */
export function queryString(params: ReadonlyArray<[string, string | number | undefined | null]>): string {
  const q = new URLSearchParams();
  for (const [k, v] of params) {
    if (v === undefined || v === null) continue;
    const s = typeof v === 'number' ? (v > 0 ? String(Math.trunc(v)) : '') : v.trim();
    if (s !== '') q.set(k, s);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// -- Settings

export function getSettings(api: ApiClient, id: string, signal?: AbortSignal): Promise<Settings> {
  return api.request<Settings>('GET', `${customerPath(id)}/settings`, { signal });
}

/** Saves the settings; 409 conflict when `version` is not the current one. */
export function saveSettings(api: ApiClient, id: string, req: SettingsUpdate): Promise<Settings> {
  return api.request<Settings>('PUT', `${customerPath(id)}/settings`, { body: req });
}

// -- Sites

export function listSites(api: ApiClient, id: string, signal?: AbortSignal): Promise<SiteList> {
  return api.request<SiteList>('GET', `${customerPath(id)}/sites`, { signal });
}

export function createSite(api: ApiClient, id: string, req: SiteInput): Promise<Site> {
  return api.request<Site>('POST', `${customerPath(id)}/sites`, { body: req });
}

export function getSite(api: ApiClient, id: string, siteId: string, signal?: AbortSignal): Promise<Site> {
  return api.request<Site>('GET', sitePath(id, siteId), { signal });
}

/** Changes a site; 409 conflict when `version` is not the current one. */
export function updateSite(api: ApiClient, id: string, siteId: string, req: SiteUpdate): Promise<Site> {
  return api.request<Site>('PUT', sitePath(id, siteId), { body: req });
}

/** Deletes a site; 409 when it is stale or numbers still belong to it. */
export function deleteSite(api: ApiClient, id: string, siteId: string, version: number): Promise<{ id: string; deleted: boolean }> {
  return api.request<{ id: string; deleted: boolean }>('DELETE', `${sitePath(id, siteId)}${queryString([['version', String(version)]])}`);
}

// -- Numbers

/** Query string of `GET /customers/{id}/numbers`: trimmed, empty values left out, always in the same order. */
export function numbersQuery(q: NumberQuery): string {
  return queryString([
    ['q', q.q],
    ['siteId', q.siteId],
    ['status', q.status],
    ['type', q.type],
    ['cursor', q.cursor],
    ['limit', q.limit],
  ]);
}

export function listNumbers(api: ApiClient, id: string, q: NumberQuery, signal?: AbortSignal): Promise<NumberPage> {
  return api.request<NumberPage>('GET', `${customerPath(id)}/numbers${numbersQuery(q)}`, { signal });
}

/** Adds one number or a range; numbers already in the inventory come back in `existing`, unchanged. */
export function addNumbers(api: ApiClient, id: string, req: AddNumbersRequest): Promise<AddNumbersResult> {
  return api.request<AddNumbersResult>('POST', `${customerPath(id)}/numbers`, { body: req });
}

/** Reads the tenant's numbers from Teams into the inventory; new ones go to siteId ("" = no site). */
export function importNumbers(api: ApiClient, id: string, siteId: string): Promise<ImportNumbersResult> {
  return api.request<ImportNumbersResult>('POST', `${customerPath(id)}/numbers/import`, { body: { siteId } });
}

export function updateNumber(api: ApiClient, id: string, number: string, req: NumberUpdate): Promise<PhoneNumber> {
  return api.request<PhoneNumber>('PATCH', numberPath(id, number), { body: req });
}

/** Removes an available or quarantined number from the inventory; 409 when it is held or stale. */
export function deleteNumber(api: ApiClient, id: string, number: string, version: number): Promise<{ number: string; deleted: boolean }> {
  return api.request<{ number: string; deleted: boolean }>('DELETE', `${numberPath(id, number)}${queryString([['version', String(version)]])}`);
}

/** Assigns a number to a user by hand (in Teams, then in the inventory). */
export function assignNumber(api: ApiClient, id: string, number: string, userId: string): Promise<PhoneNumber> {
  return api.request<PhoneNumber>('POST', `${numberPath(id, number)}/assign`, { body: { userId } });
}

/** Takes a number from its user (in Teams, then in the inventory); it waits in quarantine before reuse. */
export function releaseNumber(api: ApiClient, id: string, number: string): Promise<PhoneNumber> {
  return api.request<PhoneNumber>('POST', `${numberPath(id, number)}/release`);
}

// -- Staging

export interface StagingQuery {
  /** "" = all; "active" = staged and provisioning; or one status. */
  status?: string;
  /** The stagings of these users (the onboarding's live view; at most 100); not with status or cursor. */
  users?: readonly string[];
  cursor?: string;
  limit?: number;
}

export function stagingQuery(q: StagingQuery): string {
  return queryString([
    ['status', q.status],
    ['users', q.users && q.users.length > 0 ? q.users.join(',') : undefined],
    ['cursor', q.cursor],
    ['limit', q.limit],
  ]);
}

export function listStaging(api: ApiClient, id: string, q: StagingQuery, signal?: AbortSignal): Promise<StagingPage> {
  return api.request<StagingPage>('GET', `${customerPath(id)}/staging${stagingQuery(q)}`, { signal });
}

/** Stages a user by hand. */
export function stageUser(api: ApiClient, id: string, userId: string): Promise<Staging> {
  return api.request<Staging>('POST', `${customerPath(id)}/staging`, { body: { userId } });
}

/** "Un-stage now": checks Teams at once; provisions when the user is there, else says so (the user stays staged). */
export function checkStaging(api: ApiClient, id: string, userId: string): Promise<CheckResult> {
  return api.request<CheckResult>('POST', `${stagingPath(id, userId)}/check`);
}

/** Takes a user out of staging. */
export function removeStaging(api: ApiClient, id: string, userId: string): Promise<Staging> {
  return api.request<Staging>('DELETE', stagingPath(id, userId));
}

// -- Onboarding

/** Licenses the users with the template and stages them; one result per user. */
export function onboard(api: ApiClient, id: string, req: OnboardRequest): Promise<OnboardResponse> {
  return api.request<OnboardResponse>('POST', `${customerPath(id)}/onboarding`, { body: req });
}
