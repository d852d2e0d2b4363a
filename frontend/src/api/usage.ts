// The licence usage audit calls of the Seatwise API (issue 7): factor rules (the provider's, overridable per customer;
// preview, save, reset), a customer's usage now with the users behind each count, its licence pool, snapshots
// ("Refresh") and history, the history across customers and the alerts of the dashboard. On top of
// ApiClient.request, like provisioning.ts.

import type { ApiClient } from './client';
import { queryString } from './provisioning';
import type { components } from './schema.gen';
import type { ResponseBody } from './types';

// The types are those of the API's OpenAPI document (shared/httpapi/openapi.yaml), generated into schema.gen.ts.
type Schemas = components['schemas'];

/** A criterion of a factor rule: a user attribute matched against a regular expression (Go RE2, whole value, any case). */
export type FactorCriterion = Schemas['FactorCriterion'];

/** The fields a criterion can match (domain.FactorFields). */
export type FactorField = FactorCriterion['field'];

/** How Seatwise last managed a user's licences: "" any, template, ui (by hand), none (never). */
export type ManagedBy = Schemas['FactorRule']['managedBy'];

/** One licence factor rule: a category of licensed users; the first enabled rule that matches counts a user. */
export type FactorRule = Schemas['FactorRule'];

/** A rule as sent on save or preview: a new rule may leave its id out. */
export type FactorRuleInput = Schemas['FactorRuleInput'];

/** A scope's rules: the customer's own (scope customer) or the provider's (inherited); version to send back on save. */
export type RulesView = Schemas['RulesView'];

/** How many licensed users one rule counted (0 when disabled). */
export type FactorCount = Schemas['FactorCount'];

/** The licence usage of a set of users: licensed = the factor counts + unmatched; bySku by part number. */
export type Usage = Schemas['Usage'];

/** One SKU of a usage or snapshot: Graph's enabled and consumed units, the pool's acquired seats, users holding it. */
export type SnapshotSku = Schemas['SnapshotSKU'];

/** The usage of one site ("-none-": the users placed on no site). */
export type SiteUsage = Schemas['SiteUsage'];

/** A customer's usage now (or with previewed rules). */
export type CurrentUsage = Schemas['Current'];

/** One day's usage of a customer or one of its sites. */
export type Snapshot = Schemas['Snapshot'];

/** One day's usage summed over the caller's customers: factors by name, SKUs by part number. */
export type HistoryPoint = Schemas['HistoryPoint'];

/** What the provider bought for a customer (acquired seats by skuId), and when unused seats raise an alert. */
export type LicencePool = Schemas['LicencePool'];

/** `PUT /customers/{id}/pool` body. */
export type LicencePoolUpdate = Schemas['LicencePoolUpdate'];

/** Something on the dashboard an admin should act on, with a link to what it is about. */
export type Alert = Schemas['Alert'];

export type AlertKind = Alert['kind'];

/** `GET /customers/{id}/usage/users`: one page of the users behind a count. */
export type UsageUserPage = ResponseBody<'listUsageUsers', 200>;

/** `GET /customers/{id}/snapshots` and `POST …/snapshots` (Refresh). */
export type SnapshotList = ResponseBody<'listSnapshots', 200>;

/** `GET /usage/history`. */
export type HistoryList = ResponseBody<'usageHistory', 200>;

/** `GET /alerts`. */
export type AlertList = ResponseBody<'listAlerts', 200>;

/** The drill-down's pseudo rule id for the licensed users no enabled rule counts. */
export const UNMATCHED = 'unmatched';
/** The site id of the users placed on no site. */
export const UNPLACED_SITE = '-none-';

const customerPath = (id: string): string => `/api/v1/customers/${encodeURIComponent(id)}`;

// -- Factor rules

/** The rules of a customer; customerId "" = the provider's. */
export function getFactorRules(api: ApiClient, customerId: string, signal?: AbortSignal): Promise<RulesView> {
  const path = customerId ? `${customerPath(customerId)}/factors` : '/api/v1/factors';
  return api.request<RulesView>('GET', path, { signal });
}

/** Saves the rules of a customer (customerId "" = the provider's); 409 conflict when `version` is stale. */
export function saveFactorRules(api: ApiClient, customerId: string, rules: FactorRuleInput[], version: number): Promise<RulesView> {
  const path = customerId ? `${customerPath(customerId)}/factors` : '/api/v1/factors';
  return api.request<RulesView>('PUT', path, { body: { rules, version } });
}

/** Drops the customer's own rules (at `version`): it uses the provider's again. Returns the rules it now has. */
export function resetFactorRules(api: ApiClient, customerId: string, version: number): Promise<RulesView> {
  return api.request<RulesView>('DELETE', `${customerPath(customerId)}/factors?version=${encodeURIComponent(String(version))}`);
}

/** The customer's usage with these rules; nothing is saved. */
export function previewFactorRules(api: ApiClient, customerId: string, rules: FactorRuleInput[], signal?: AbortSignal): Promise<CurrentUsage> {
  return api.request<CurrentUsage>('POST', `${customerPath(customerId)}/factors/preview`, { body: { rules }, signal });
}

// -- Usage now

export function getUsage(api: ApiClient, customerId: string, signal?: AbortSignal): Promise<CurrentUsage> {
  return api.request<CurrentUsage>('GET', `${customerPath(customerId)}/usage`, { signal });
}

/** Query string of the drill-down: the rule (or UNMATCHED), cursor and limit. */
export function usageUsersQuery(rule: string, cursor: string, limit: number): string {
  return queryString([
    ['rule', rule],
    ['cursor', cursor],
    ['limit', limit],
  ]);
}

/** One page of the users counted under a rule (UNMATCHED: no rule); it may be short while nextCursor is non-empty. */
export function listUsageUsers(api: ApiClient, customerId: string, rule: string, cursor: string, limit: number, signal?: AbortSignal): Promise<UsageUserPage> {
  return api.request<UsageUserPage>('GET', `${customerPath(customerId)}/usage/users${usageUsersQuery(rule, cursor, limit)}`, { signal });
}

// -- Licence pool

export function getPool(api: ApiClient, customerId: string, signal?: AbortSignal): Promise<LicencePool> {
  return api.request<LicencePool>('GET', `${customerPath(customerId)}/pool`, { signal });
}

/** Replaces the pool; 409 conflict when `version` is stale. */
export function savePool(api: ApiClient, customerId: string, req: LicencePoolUpdate): Promise<LicencePool> {
  return api.request<LicencePool>('PUT', `${customerPath(customerId)}/pool`, { body: req });
}

// -- Snapshots and history

/** Query string of a history request: from, to (YYYY-MM-DD, inclusive) and, for a customer, a site. */
export function historyQuery(from: string, to: string, siteId = ''): string {
  return queryString([
    ['from', from],
    ['to', to],
    ['siteId', siteId],
  ]);
}

/** The customer's (or one site's) daily snapshots from `from` to `to`, oldest first. */
export function listSnapshots(api: ApiClient, customerId: string, from: string, to: string, siteId = '', signal?: AbortSignal): Promise<SnapshotList> {
  return api.request<SnapshotList>('GET', `${customerPath(customerId)}/snapshots${historyQuery(from, to, siteId)}`, { signal });
}

/** Refresh: computes today's snapshots now (the customer's first, then its sites') and the customer's alerts. */
export function takeSnapshot(api: ApiClient, customerId: string): Promise<SnapshotList> {
  return api.request<SnapshotList>('POST', `${customerPath(customerId)}/snapshots`);
}

/** The daily usage across the caller's customers, oldest first; days without snapshots are absent. */
export function usageHistory(api: ApiClient, from: string, to: string, signal?: AbortSignal): Promise<HistoryList> {
  return api.request<HistoryList>('GET', `/api/v1/usage/history${historyQuery(from, to)}`, { signal });
}

// -- Alerts

export function listAlerts(api: ApiClient, signal?: AbortSignal): Promise<AlertList> {
  return api.request<AlertList>('GET', '/api/v1/alerts', { signal });
}
