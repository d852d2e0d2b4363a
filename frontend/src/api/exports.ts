// The month-end export calls of the Seatwise API (issue 8): the months with their files and latest run, one month
// (polled while a run goes), queuing a run of a month, and a short-lived presigned download link of one file. On top
// of ApiClient.request, like usage.ts.

import type { ApiClient } from './client';
import type { components } from './schema.gen';
import type { ResponseBody } from './types';

// The types are those of the API's OpenAPI document (shared/httpapi/openapi.yaml), generated into schema.gen.ts.
type Schemas = components['schemas'];

/** One month: its current files (manifest; null while none were written) and its latest run (null when none). */
export type ExportMonth = Schemas['ExportMonth'];

/** A month's current export as its manifest describes it: when, by which version, from which data, and its files. */
export type ExportManifest = Schemas['ExportManifest'];

/** One file of a month's export (the manifest itself is listed last, kind "manifest"). */
export type ExportFile = Schemas['ExportFile'];

export type ExportFileKind = ExportFile['kind'];

/** A month's latest run: status, phase, progress; `active` while it is queued or running and holds the month. */
export type ExportRun = Schemas['ExportRun'];

export type ExportRunStatus = ExportRun['status'];

export type ExportProgress = Schemas['ExportProgress'];

/** A presigned GET of one file: fetch or open `url` without the API token before `expiresAt`. */
export type ExportDownload = Schemas['ExportDownload'];

/** `GET /exports`. */
export type ExportList = ResponseBody<'listExports', 200>;

const monthPath = (month: string): string => `/api/v1/exports/${encodeURIComponent(month)}`;

/** Every month with files or a run, newest first. */
export function listExports(api: ApiClient, signal?: AbortSignal): Promise<ExportList> {
  return api.request<ExportList>('GET', '/api/v1/exports', { signal });
}

/** One month (404 not_found when it has neither files nor a run). */
export function getExport(api: ApiClient, month: string, signal?: AbortSignal): Promise<ExportMonth> {
  return api.request<ExportMonth>('GET', monthPath(month), { signal });
}

/**
 * Queues a run of the month (a re-run replaces its files as a whole once it has written them); returns the month with
 * its run queued. 409 conflict while another run holds the month; 400 invalid for a month not started or too old.
 */
export function runExport(api: ApiClient, month: string): Promise<ExportMonth> {
  return api.request<ExportMonth>('POST', `${monthPath(month)}/run`);
}

/** A short-lived presigned download link of one file the month's manifest lists (or of manifest.json). */
export function exportFileUrl(api: ApiClient, month: string, name: string, signal?: AbortSignal): Promise<ExportDownload> {
  return api.request<ExportDownload>('GET', `${monthPath(month)}/files/${encodeURIComponent(name)}/url`, { signal });
}
