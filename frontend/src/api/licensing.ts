// The licence operations, templates and audit calls of the Seatwise API, on top of ApiClient.request (so the shared
// client stays small). Types come from the OpenAPI document through types.ts.

import type { ApiClient } from './client';
import { pageQuery } from './client';
import { ApiError } from './client';
import type {
  AssignLicenceRequest,
  AssignTemplateRequest,
  AssignTemplateResult,
  AuditPage,
  ChangeAddonsRequest,
  LicenceResult,
  OffboardResult,
  ReassignRequest,
  ReassignResult,
  Template,
  TemplateInput,
  TemplateList,
  TemplateUpdate,
} from './types';

const customerPath = (id: string): string => `/api/v1/customers/${encodeURIComponent(id)}`;
const userPath = (id: string, userId: string): string => `${customerPath(id)}/users/${encodeURIComponent(userId)}`;
const licencePath = (id: string, userId: string, skuId: string): string =>
  `${userPath(id, userId)}/licences/${encodeURIComponent(skuId)}`;
const templatePath = (id: string, templateId: string): string => `${customerPath(id)}/templates/${encodeURIComponent(templateId)}`;

/** Assigns a licence with its add-ons off in `disabledPlans`; returns the user as Graph answered. */
export function assignLicence(api: ApiClient, id: string, userId: string, req: AssignLicenceRequest): Promise<LicenceResult> {
  return api.request<LicenceResult>('POST', `${userPath(id, userId)}/licences`, { body: req });
}

/** Changes the add-ons of a licence the user holds; returns the user as Graph answered. */
export function changeAddons(api: ApiClient, id: string, userId: string, skuId: string, req: ChangeAddonsRequest): Promise<LicenceResult> {
  return api.request<LicenceResult>('PUT', licencePath(id, userId, skuId), { body: req });
}

/** Removes a licence held directly; returns the user as Graph answered. */
export function removeLicence(api: ApiClient, id: string, userId: string, skuId: string): Promise<LicenceResult> {
  return api.request<LicenceResult>('DELETE', licencePath(id, userId, skuId));
}

/**
 * Moves a user's seat to another user. The result says exactly what happened to each of them: on success, and also
 * when it did not complete after a step was sent (the error body then carries `reassign`; `ReassignFailed` holds it).
 */
export async function reassignLicence(api: ApiClient, id: string, userId: string, skuId: string, req: ReassignRequest): Promise<ReassignResult> {
  return api.request<ReassignResult>('POST', `${licencePath(id, userId, skuId)}/reassign`, { body: req });
}

/** The reassignment an error body carries (what was done before it stopped), or null. */
export function reassignOfError(e: unknown): ReassignResult | null {
  if (!(e instanceof ApiError)) return null;
  const b = e.body;
  if (typeof b !== 'object' || b === null) return null;
  const r = (b as Record<string, unknown>)['reassign'];
  return typeof r === 'object' && r !== null && Array.isArray((r as Record<string, unknown>)['steps']) ? (r as ReassignResult) : null;
}

/** Removes every licence the user holds directly; the group-held ones are listed, not removed. */
export function offboardUser(api: ApiClient, id: string, userId: string): Promise<OffboardResult> {
  return api.request<OffboardResult>('POST', `${userPath(id, userId)}/offboard`);
}

export function listTemplates(api: ApiClient, id: string, signal?: AbortSignal): Promise<TemplateList> {
  return api.request<TemplateList>('GET', `${customerPath(id)}/templates`, { signal });
}

export function getTemplate(api: ApiClient, id: string, templateId: string, signal?: AbortSignal): Promise<Template> {
  return api.request<Template>('GET', templatePath(id, templateId), { signal });
}

export function createTemplate(api: ApiClient, id: string, req: TemplateInput): Promise<Template> {
  return api.request<Template>('POST', `${customerPath(id)}/templates`, { body: req });
}

/** Saves a template; 409 conflict when `version` is not the current one (someone else saved it first). */
export function updateTemplate(api: ApiClient, id: string, templateId: string, req: TemplateUpdate): Promise<Template> {
  return api.request<Template>('PUT', templatePath(id, templateId), { body: req });
}

/** Deletes a template; 409 conflict when `version` is not the current one. */
export async function deleteTemplate(api: ApiClient, id: string, templateId: string, version: number): Promise<void> {
  await api.request<unknown>('DELETE', `${templatePath(id, templateId)}?version=${encodeURIComponent(String(version))}`);
}

/** Gives a template's licences to users; one result per user (ok, unchanged or failed with why). */
export function assignTemplate(api: ApiClient, id: string, templateId: string, req: AssignTemplateRequest): Promise<AssignTemplateResult> {
  return api.request<AssignTemplateResult>('POST', `${templatePath(id, templateId)}/assign`, { body: req });
}

/** One page of a customer's audit records, newest first; only the user's with `userId`. */
export function listAudit(
  api: ApiClient,
  id: string,
  q: { cursor: string; limit: number; userId?: string },
  signal?: AbortSignal,
): Promise<AuditPage> {
  const qs = pageQuery(q.cursor, q.limit);
  const user = q.userId ? `${qs ? '&' : '?'}userId=${encodeURIComponent(q.userId)}` : '';
  return api.request<AuditPage>('GET', `${customerPath(id)}/audit${qs}${user}`, { signal });
}
